import assert from "node:assert/strict";
import { liveTensors, manualSeed, scope, tensor } from "../../mod.ts";
import { Linear } from "../../src/nn/linear.ts";
import { assertClose, golden } from "./_golden.ts";

const G = golden("layers.json")["linear"];

Deno.test("Linear initialises and computes exactly as torch.nn.Linear from the same seed", () => {
  const before = liveTensors();
  manualSeed(0);
  const fc = new Linear(4, 3);
  scope(() => {
    assertClose(fc.weight.data() as Float32Array, G.weight, 0, 0);
    assertClose(fc.bias!.data() as Float32Array, G.bias, 0, 0);
    const y = fc.forward(tensor(G.x).reshape([2, 4]));
    assert.deepEqual(y.shape, [2, 3]);
    assertClose(y.data() as Float32Array, G.y, 1e-6);
  });
  assert.deepEqual([...fc.stateDict().keys()], ["weight", "bias"]);
  fc.dispose();
  assert.equal(liveTensors(), before);
});

Deno.test("Linear without bias has only a weight", () => {
  const before = liveTensors();
  const fc = new Linear(5, 2, { bias: false });
  assert.equal(fc.bias, null);
  assert.equal(fc.numParameters(), 10);
  fc.dispose();
  assert.equal(liveTensors(), before);
});

Deno.test("Linear rejects non-positive widths with RangeError", () => {
  assert.throws(() => new Linear(0, 3), RangeError);
  assert.throws(() => new Linear(3, 1.5), RangeError);
});
