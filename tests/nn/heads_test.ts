import assert from "node:assert/strict";
import { liveTensors, manualSeed, scope, tensor } from "../../mod.ts";
import { mlp, predictorHead, unigradProjector } from "../../src/nn/heads.ts";
import type { Linear } from "../../src/nn/linear.ts";
import { assertClose, golden } from "./_golden.ts";

const G = golden<Record<string, Record<string, number[] | string[]>>>("layers.json");

Deno.test("unigradProjector matches the official projector (flat torch.nn.Sequential) from the same seed", () => {
  const g = G.projector as Record<string, number[]>;
  const before = liveTensors();
  manualSeed(3);
  const proj = unigradProjector({ inDim: 6, hiddenDim: 8, outDim: 5 });
  assert.deepEqual([...proj.stateDict().keys()], G.projector.keys);
  scope(() => {
    const y = proj.forward(tensor(g.x).reshape([4, 6]));
    assertClose(y.data() as Float32Array, g.y);
    y.sum().backward();
    assertClose((proj.at(0) as Linear).weight.grad!.data() as Float32Array, g.grad0, 1e-5, 1e-4);
  });
  proj.dispose();
  assert.equal(liveTensors(), before);
});

Deno.test("predictorHead matches the SimSiam predictor from the same seed", () => {
  const g = G.predictor as Record<string, number[]>;
  const before = liveTensors();
  manualSeed(4);
  const pred = predictorHead({ inDim: 5, hiddenDim: 3, outDim: 5 });
  assert.deepEqual([...pred.stateDict().keys()], G.predictor.keys);
  scope(() => assertClose(pred.forward(tensor(g.x).reshape([4, 5])).data() as Float32Array, g.y));
  pred.dispose();
  assert.equal(liveTensors(), before);
});

Deno.test("unigradProjector defaults to the paper's 3×2048 layout", () => {
  const before = liveTensors();
  const proj = unigradProjector({ inDim: 512 });
  assert.equal(proj.length, 7);
  assert.equal(proj.numParameters(), 512 * 2048 + 2048 * 2048 + 2048 * 2048 + 2048 + 4 * 2048);
  proj.dispose();
  const shallow = unigradProjector({ inDim: 4, outDim: 3, depth: 1 });
  assert.deepEqual([...shallow.stateDict().keys()], ["0.weight", "0.bias"]);
  shallow.dispose();
  assert.equal(liveTensors(), before);
});

Deno.test("mlp() rejects mismatched widths (TypeError) and bad depths (RangeError)", () => {
  assert.throws(() => mlp([{ in: 4, out: 8 }, { in: 7, out: 2 }]), /block 1 takes 7 features but block 0 gives 8/);
  assert.throws(() => mlp([]), TypeError);
  assert.throws(() => unigradProjector({ depth: 0 }), RangeError);
});
