import assert from "node:assert/strict";
import { liveTensors, scope, tensor } from "../../mod.ts";
import { Flatten, Identity, ReLU } from "../../src/nn/activation.ts";

Deno.test("ReLU computes max(x, 0); the in-place form overwrites its input", () => {
  const before = liveTensors();
  scope(() => {
    const x = tensor([-1, 0.5, -2, 3]);
    assert.deepEqual(new ReLU().forward(x).toArray(), [0, 0.5, 0, 3]);
    assert.deepEqual(x.toArray(), [-1, 0.5, -2, 3]);
    const y = new ReLU(true).forward(x);
    assert.deepEqual(x.toArray(), [0, 0.5, 0, 3]);
    assert.deepEqual(y.toArray(), [0, 0.5, 0, 3]);
  });
  assert.equal(liveTensors(), before);
});

Deno.test("Identity and Flatten return the input and [N, rest]", () => {
  const before = liveTensors();
  scope(() => {
    const x = tensor([[[1, 2], [3, 4]]]);
    assert.deepEqual(new Identity().forward(x).toArray(), x.toArray());
    assert.deepEqual(new Flatten().forward(x).shape, [1, 4]);
  });
  assert.equal(liveTensors(), before);
});
