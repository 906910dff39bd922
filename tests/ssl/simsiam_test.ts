import assert from "node:assert/strict";
import { liveTensors, manualSeed, scope } from "../../mod.ts";
import { simsiam } from "../../src/ssl/simsiam.ts";
import { disposeState } from "../../src/ssl/state.ts";
import {
  assertClose,
  assertGradientMatchesAutograd,
  GOLDEN,
  goldenFeatures,
  loadGoldenPredictor,
  randomFeatures,
} from "./_helpers.ts";

Deno.test("simsiam() original form equals the published SimSiam loss ½·D(p1, z2) + ½·D(p2, z1)", () => {
  const before = liveTensors();
  const m = simsiam({ hiddenDim: GOLDEN.H });
  assert.equal(m.target, "stop-grad");
  const s = m.initState(GOLDEN.D, { dtype: "float64" });
  loadGoldenPredictor(s);
  scope(() => {
    const f = goldenFeatures();
    const c = GOLDEN.cases.simsiam_published;
    assert.ok(Math.abs(m.loss!(f, s).item() - c.loss!) < 1e-12);
    const { g1, g2 } = m.gradient(f, s);
    assertClose(g1, c.g1, 1e-12, "g1");
    assertClose(g2, c.g2, 1e-12, "g2");
  });
  m.parameters(s).forEach((p) => p.setGrad(null));
  disposeState(s);
  assert.equal(liveTensors(), before);
});

Deno.test("simsiam() unified form matches autograd; the directpred form is gradient-only", () => {
  manualSeed(40);
  assertGradientMatchesAutograd(simsiam({ form: "unified", lambda: 2 }), { N: 3, D: 4, steps: 1 });
  assert.equal(simsiam({ form: "directpred" }).loss, undefined);
});

Deno.test("simsiam() directpred form equals the official loss_byol_directpred_grad", () => {
  const m = simsiam({ form: "directpred" });
  const s = m.initState(GOLDEN.D, { dtype: "float64" });
  scope(() => {
    const { g1, g2 } = m.gradient(goldenFeatures(), s);
    assertClose(g1, GOLDEN.cases.directpred_step0.g1, 1e-10, "g1");
    assertClose(g2, GOLDEN.cases.directpred_step0.g2, 1e-10, "g2");
    assertClose(s.F!, GOLDEN.cases.unigrad_step0.F as number[][], 1e-12, "F = F_batch");
  });
  disposeState(s);
});

Deno.test("simsiam() original form is invariant to scaling its targets (cosine loss)", () => {
  manualSeed(41);
  const m = simsiam({ hiddenDim: 3, checkValues: false });
  const s = m.initState(4, { dtype: "float64" });
  scope(() => {
    const f = randomFeatures(5, 4);
    const a = m.loss!(f, s).item();
    const b = m.loss!({ ...f, v1: f.v1.mul(3), v2: f.v2.mul(0.5) }, s).item();
    assert.ok(Math.abs(a - b) < 1e-12);
  });
  disposeState(s);
});
