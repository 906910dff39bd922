import assert from "node:assert/strict";
import { eye } from "../../src/torch/mod.ts";
import { liveTensors, manualSeed, scope, tensor } from "../../mod.ts";
import { byol } from "../../src/ssl/byol.ts";
import { directPredPredictor } from "../../src/ssl/directpred.ts";
import { disposeState } from "../../src/ssl/state.ts";
import {
  assertClose,
  assertGradientMatchesAutograd,
  GOLDEN,
  goldenFeatures,
  loadGoldenPredictor,
  randomFeatures,
} from "./_helpers.ts";

Deno.test("byol() original form is half the published BYOL loss (views averaged, not summed), gradient included", () => {
  const before = liveTensors();
  const m = byol({ hiddenDim: GOLDEN.H });
  const s = m.initState(GOLDEN.D, { dtype: "float64" });
  loadGoldenPredictor(s);
  scope(() => {
    const f = goldenFeatures();
    const c = GOLDEN.cases.byol_published;
    assert.ok(Math.abs(m.loss!(f, s).item() - c.loss! / 2) < 1e-12);
    const { g1, g2 } = m.gradient(f, s);
    assertClose(g1.mul(2), c.g1, 1e-12, "g1");
    assertClose(g2.mul(2), c.g2, 1e-12, "g2");
    const w = m.parameters(s)[0].grad!;
    assertClose(w.mul(2), c.predictor_w0_grad as number[][], 1e-12, "predictor gradient accumulated");
  });
  m.parameters(s).forEach((p) => p.setGrad(null));
  disposeState(s);
  assert.equal(liveTensors(), before);
});

Deno.test("byol() original form: loss() leaves the predictor's BN statistics alone, gradient() updates them", () => {
  manualSeed(30);
  const m = byol({ hiddenDim: 6 });
  const s = m.initState(4, { dtype: "float64" });
  const mean = () => s.predictor!.stateDict().get("1.running_mean")!.abs().sum().item();
  scope(() => {
    const f = randomFeatures(5, 4);
    m.loss!(f, s);
    assert.equal(mean(), 0);
    m.gradient(f, s);
    assert.ok(mean() > 0);
    const keys = [...m.stateDict(s).tensors.keys()];
    assert.ok(keys.includes("predictor.0.weight") && keys.includes("predictor.1.running_var"));
  });
  m.parameters(s).forEach((p) => p.setGrad(null));
  disposeState(s);
});

Deno.test("directPredPredictor() matches its definition on a matrix with known eigenvalues", () => {
  scope(() => {
    const o = { dtype: "float64" as const };
    const c = Math.cos(0.3), s = Math.sin(0.3);
    const Q = tensor([[c, -s, 0], [s, c, 0], [0, 0, 1]], o); // orthogonal
    const F = Q.mul(tensor([4, 1, 0.25], o)).mm(Q.t()); // eigenvalues 4, 1, 0.25
    const { Wp, Ft } = directPredPredictor(F, 0.3);
    // √(s/max s) + ε = 1 + 0.3, 0.5 + 0.3, 0.25 + 0.3
    assertClose(Wp, Q.mul(tensor([1.3, 0.8, 0.55], o)).mm(Q.t()), 1e-12, "W_p");
    assertClose(Ft, F.div(4).add(eye(3, 3, o).mul(0.09)), 1e-12, "F̃ = F/4 + 0.09·I");
  });
});

Deno.test("byol() directpred form equals the official loss_byol_directpred_grad (scale 1, Table 1 row d)", () => {
  const m = byol({ form: "directpred" });
  const s = m.initState(GOLDEN.D, { dtype: "float64" });
  scope(() => {
    const f = goldenFeatures();
    const c = GOLDEN.cases.directpred_step0;
    const { g1, g2, stats } = m.gradient(f, s);
    assertClose(g1, c.g1, 1e-10, "g1");
    assertClose(g2, c.g2, 1e-10, "g2");
    assert.ok(Number.isFinite(stats.lambda.item()));
    assert.equal(m.loss, undefined);
    assert.equal(m.reference!.wrt, "u");
  });
  disposeState(s);
});

Deno.test("byol() unified form matches autograd of −u1·v2 + (λ/2)·u1ᵀFu1", () => {
  manualSeed(31);
  assertGradientMatchesAutograd(byol({ form: "unified", lambda: 4 }), { N: 4, D: 5 });
});

Deno.test("byol() rejects a batch of one for its predictor's BN and an unknown form", () => {
  manualSeed(32);
  const m = byol({ hiddenDim: 3 });
  const s = m.initState(4);
  scope(() => {
    assert.throws(() => m.gradient(randomFeatures(1, 4, "float32"), s), /byol gradient: a batch of 1 is too small/);
  });
  disposeState(s);
  assert.throws(() => byol({ form: "linear" as "original" }), /Invalid byol form "linear"/);
});
