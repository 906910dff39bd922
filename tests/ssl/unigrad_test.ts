import assert from "node:assert/strict";
import { backward, liveTensors, manualSeed, normalize, randn, scope, tensor } from "../../mod.ts";
import { unigrad } from "../../src/ssl/unigrad.ts";
import { disposeState } from "../../src/ssl/state.ts";
import {
  assertClose,
  assertGradientMatchesAutograd,
  autogradOf,
  GOLDEN,
  goldenFeatures,
  randomFeatures,
} from "./_helpers.ts";

Deno.test("unigrad().gradient matches autograd of the UniGrad loss in float64", () => {
  manualSeed(1);
  assertGradientMatchesAutograd(unigrad({ lambda: 7 }), { steps: 3 });
});

Deno.test("unigrad().gradient matches the official loss_unigrad at the first and a later step", () => {
  const before = liveTensors();
  const m = unigrad();
  const s = m.initState(GOLDEN.D, { dtype: "float64" });
  scope(() => {
    const f = goldenFeatures();
    const c0 = GOLDEN.cases.unigrad_step0;
    const r0 = m.gradient(f, s);
    assertClose(s.F!, c0.F as number[][], 1e-12, "F at the first step = F_batch");
    assertClose(r0.g1, c0.g1, 1e-12, "g1 step 0");
    assertClose(r0.g2, c0.g2, 1e-12, "g2 step 0");
    const w1 = normalize(tensor(GOLDEN.inputs.zn1, { dtype: "float64" }));
    const w2 = normalize(tensor(GOLDEN.inputs.zn2, { dtype: "float64" }));
    const c1 = GOLDEN.cases.unigrad_step1;
    const r1 = m.gradient({ ...f, v1: w1, v2: w2 }, s);
    assertClose(s.F!, c1.F as number[][], 1e-12, "F ← 0.99·F + 0.01·F_batch");
    assertClose(r1.g1, c1.g1, 1e-12, "g1 step 1");
    assertClose(r1.g2, c1.g2, 1e-12, "g2 step 1");
  });
  assert.equal(s.step, 2);
  disposeState(s);
  assert.equal(liveTensors(), before);
});

Deno.test("unigrad().loss does not advance F; gradient does, keeping F in float32 for float32 features", () => {
  manualSeed(2);
  const m = unigrad();
  const s = m.initState(4);
  assert.equal(s.F!.dtype, "float32");
  scope(() => {
    const f = randomFeatures(3, 4, "float32");
    m.loss!(f, s);
    assert.equal(s.F!.abs().max().item(), 0);
    assert.equal(s.step, 0);
    const { g1 } = m.gradient(f, s);
    assert.equal(g1.dtype, "float32");
    assert.ok(s.F!.abs().max().item() > 0);
    const [a1] = autogradOf(m, randomFeatures(3, 4, "float32"), s);
    assert.equal(a1.dtype, "float32");
  });
  disposeState(s);
});

Deno.test("unigrad() stops the gradient at the targets and F", () => {
  manualSeed(3);
  const m = unigrad({ lambda: 5 });
  const s = m.initState(4, { dtype: "float64" });
  scope(() => {
    const o = { dtype: "float64" as const, requiresGrad: true };
    const [y1, y2] = [randn([3, 4], o), randn([3, 4], o)];
    const f = { ...randomFeatures(3, 4), v1: normalize(y1), v2: normalize(y2) }; // targets with a graph
    const { g1, g2 } = m.gradient(f, s);
    assert.equal(g1.requiresGrad || g2.requiresGrad, false);
    assert.equal(s.F!.requiresGrad, false);
    backward([m.loss!(f, s)]);
    assert.equal(y1.grad, null);
    assert.equal(y2.grad, null);
    assert.notEqual(f.z1.grad, null);
  });
  disposeState(s);
});

Deno.test("unigrad() with target momentum-positive builds F from the online features", () => {
  manualSeed(4);
  const m = unigrad({ target: "momentum-positive" });
  const s = m.initState(4, { dtype: "float64" });
  scope(() => {
    const f = randomFeatures(3, 4);
    m.gradient(f, s);
    const Fu = f.u1.t().mm(f.u1).add(f.u2.t().mm(f.u2)).div(6).detach();
    assertClose(s.F!, Fu, 1e-12, "F from u1, u2");
  });
  disposeState(s);
});

Deno.test("unigrad() state round-trips through stateDict/loadState", () => {
  manualSeed(5);
  const m = unigrad();
  const a = m.initState(4, { dtype: "float64" });
  const b = m.initState(4, { dtype: "float64" });
  scope(() => {
    m.gradient(randomFeatures(3, 4), a);
    m.loadState(b, m.stateDict(a));
    const f = randomFeatures(3, 4);
    assertClose(m.gradient(f, b).g1, m.gradient(f, a).g1, 1e-15, "same gradient after restore");
    assert.equal(b.step, 2);
  });
  [a, b].forEach(disposeState);
});

Deno.test("unigrad() rejects out-of-range λ and ρ", () => {
  assert.throws(() => unigrad({ lambda: -1 }), RangeError);
  assert.throws(() => unigrad({ rho: 1 }), /Invalid unigrad option rho/);
});
