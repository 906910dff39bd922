import assert from "node:assert/strict";
import { liveLists } from "../../src/torch/mod.ts";
import { liveTensors, ones, scope, zeros } from "../../mod.ts";
import { LARS } from "../../src/optim/lars.ts";
import { assertParams, backwardLoss, G, problem } from "./_problem.ts";

const TOL = { float32: 1e-6, float64: 1e-12 } as const;

for (const dtype of ["float32", "float64"] as const) {
  Deno.test(`LARS matches the BYOL reference formula (${dtype}), zero-norm weight and excluded bias included`, () => {
    const before = liveTensors(), lists = liveLists();
    const { x, t, params } = problem(G.init_lars, dtype);
    const opt = new LARS(params, { lr: G.lrs[0], momentum: 0.9, weightDecay: 1e-2, trustCoefficient: 0.02 });
    G.lrs.forEach((lr, k) => {
      opt.zeroGrad();
      backwardLoss(x, t, params);
      opt.step(lr);
      assertParams(params, G.lars[dtype].trajectory[k], TOL[dtype]);
    });
    opt.dispose();
    for (const tt of [x, t, ...params.map(([, p]) => p)]) tt.dispose();
    assert.equal(liveTensors(), before);
    assert.equal(liveLists(), lists);
  });
}

Deno.test("LARS scales a weight's step by η‖p‖/‖g + wd·p‖ and leaves 1-D parameters unadapted", () => {
  const before = liveTensors();
  using w = ones([2, 2], { requiresGrad: true }); // ‖w‖ = 2
  using b = zeros([2], { requiresGrad: true });
  const opt = new LARS([w, b], { lr: 1, momentum: 0, weightDecay: 0 });
  scope(() => w.sum().mul(3).add(b.sum().mul(5)).backward()); // g_w = 3 (‖g‖ = 6), g_b = 5
  opt.step();
  const e = Math.fround(1 - 0.001 * (2 / 6) * 3); // trust 0.001·2/6 times g = 3
  assert.deepEqual(w.toArray(), [[e, e], [e, e]]);
  assert.deepEqual(b.toArray(), [-5, -5]);
  assert.deepEqual([...opt.stateDict().keys()], ["step", "momentum_buffer.0", "momentum_buffer.1"]);
  opt.zeroGrad();
  opt.dispose();
  assert.throws(() => new LARS([w], { lr: 1, trustCoefficient: -1 }), RangeError);
  assert.equal(liveTensors(), before + 2);
});
