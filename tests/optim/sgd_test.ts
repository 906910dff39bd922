import assert from "node:assert/strict";
import { liveLists } from "../../src/torch/mod.ts";
import { liveTensors, scope, type Tensor, zeros } from "../../mod.ts";
import { SGD, type SGDOptions } from "../../src/optim/sgd.ts";
import { assertParams, backwardLoss, G, problem } from "./_problem.ts";

const TOL = { float32: 1e-6, float64: 1e-12 } as const;

function options(torchOptions: Record<string, number | boolean>, lr: number): SGDOptions {
  return {
    lr,
    momentum: Number(torchOptions.momentum ?? 0),
    dampening: Number(torchOptions.dampening ?? 0),
    nesterov: Boolean(torchOptions.nesterov ?? false),
    weightDecay: Number(torchOptions.weight_decay ?? 0),
  };
}

for (const dtype of ["float32", "float64"] as const) {
  for (const kind of ["momentum", "nesterov", "dampening_exclude", "plain"]) {
    Deno.test(`SGD matches torch.optim.SGD (${kind}, ${dtype}) over 5 steps with a changing lr`, () => {
      const before = liveTensors(), lists = liveLists();
      const golden = G.sgd[`${kind}_${dtype}`];
      const { x, t, params } = problem(G.init, dtype);
      const opt = new SGD(params, {
        ...options(golden.options, G.lrs[0]),
        excludeBiasAndNorm: kind === "dampening_exclude",
      });
      G.lrs.forEach((lr, k) => {
        opt.zeroGrad();
        backwardLoss(x, t, params);
        opt.step(lr);
        assertParams(params, golden.trajectory[k], TOL[dtype]);
      });
      assert.equal(opt.steps, 5);
      opt.dispose();
      for (const tt of [x, t, ...params.map(([, p]) => p)]) tt.dispose();
      assert.equal(liveTensors(), before);
      assert.equal(liveLists(), lists);
    });
  }
}

Deno.test("SGD state dict restores the exact uninterrupted trajectory", () => {
  const before = liveTensors();
  const opts = { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-2 };
  const run = (steps: number[], opt: SGD, p: ReturnType<typeof problem>) => {
    for (const k of steps) {
      opt.zeroGrad();
      backwardLoss(p.x, p.t, p.params);
      opt.step(G.lrs[k]);
    }
  };
  const a = problem(G.init, "float64");
  const optA = new SGD(a.params, opts);
  run([0, 1, 2, 3, 4], optA, a);

  const b = problem(G.init, "float64");
  const optB = new SGD(b.params, opts);
  run([0, 1], optB, b);
  const saved = scope(() => {
    const m = new Map<string, Tensor>();
    for (const [k, v] of optB.stateDict()) m.set(k, v.clone());
    for (const [k, v] of b.params) m.set(`param.${k}`, v.detach().clone());
    return m;
  });
  assert.deepEqual([...optB.stateDict().keys()], [
    "step",
    "momentum_buffer.W1",
    "momentum_buffer.b1",
    "momentum_buffer.W2",
  ]);
  optB.dispose();
  for (const [, p] of b.params) p.dispose();

  const c = problem(G.init, "float64");
  scope(() => {
    for (const [k, p] of c.params) p.detach().copy_(saved.get(`param.${k}`)!);
  });
  const optC = new SGD(c.params, opts);
  optC.loadStateDict(new Map([...saved].filter(([k]) => !k.startsWith("param."))));
  assert.equal(optC.steps, 2);
  run([2, 3, 4], optC, c);
  c.params.forEach(([, p], i) => assert.deepEqual(p.toArray(), a.params[i][1].toArray()));

  for (const v of saved.values()) v.dispose();
  optA.dispose();
  optC.dispose();
  for (const tt of [a.x, a.t, b.x, b.t, c.x, c.t, ...a.params.map(([, p]) => p), ...c.params.map(([, p]) => p)]) {
    tt.dispose();
  }
  assert.equal(liveTensors(), before);
});

Deno.test("SGD throws TypeError naming a parameter without a gradient, RangeError on bad options", () => {
  const before = liveTensors();
  using w = zeros([2], { requiresGrad: true });
  using v = zeros([2], { requiresGrad: true });
  const opt = new SGD([["w", w], ["v", v]], { lr: 0.1 });
  scope(() => w.sum().backward());
  assert.throws(() => opt.step(), /parameter "v" has no gradient/);
  assert.throws(() => opt.loadStateDict(new Map()), /missing keys \[step, momentum_buffer.w, momentum_buffer.v\]/);
  opt.dispose();
  assert.throws(() => new SGD([w], { lr: -1 }), RangeError);
  assert.throws(() => new SGD([w], { lr: 0.1, momentum: 0, nesterov: true }), RangeError);
  assert.throws(() => new SGD([], { lr: 0.1 }), TypeError);
  scope(() => w.grad?.dispose());
  w.setGrad(null);
  assert.equal(liveTensors(), before + 2);
});
