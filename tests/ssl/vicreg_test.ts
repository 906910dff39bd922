import assert from "node:assert/strict";
import { manualSeed, normalize, scope, type Tensor, tensor } from "../../mod.ts";
import { vicreg } from "../../src/ssl/vicreg.ts";
import { disposeState } from "../../src/ssl/state.ts";
import { assertClose, assertGradientMatchesAutograd, GOLDEN, goldenFeatures, randomFeatures } from "./_helpers.ts";

Deno.test("vicreg().gradient matches autograd of its loss in both forms (float64)", () => {
  manualSeed(60);
  for (const form of ["original", "l2"] as const) {
    assertGradientMatchesAutograd(vicreg({ form, lambda: 3 }), { N: 6, D: 5, steps: 1 });
  }
});

Deno.test("vicreg() original form with a stop-grad target is the published loss, with half its gradient", () => {
  const m = vicreg();
  const s = m.initState(GOLDEN.D, { dtype: "float64" });
  scope(() => {
    const f = goldenFeatures();
    const g = { ...f, zt1: f.z1.detach(), zt2: f.z2.detach() };
    const c = GOLDEN.cases.vicreg_published;
    assert.ok(Math.abs(m.loss!(g, s).item() - c.loss!) < 1e-10);
    const { g1, g2 } = m.gradient(g, s);
    assertClose(g1.mul(2), c.g1, 1e-12, "g1");
    assertClose(g2.mul(2), c.g2, 1e-12, "g2");
    const t = GOLDEN.cases.vicreg_momentum;
    assert.ok(Math.abs(m.loss!(f, s).item() - t.loss!) < 1e-10);
    const r = m.gradient(f, s);
    assertClose(r.g1, t.g1, 1e-12, "g1 with a momentum target");
    assertClose(r.g2, t.g2, 1e-12, "g2 with a momentum target");
  });
  disposeState(s);
});

Deno.test("vicreg() loss on hand-checkable inputs: the variance hinge and the covariance term", () => {
  const m = vicreg();
  const s = m.initState(2);
  const o = { dtype: "float64" as const };
  const loss = (x: Tensor) => {
    const u = normalize(tensor([[1, 0], [0, 1]], o));
    return m.loss!({ u1: u, u2: u, v1: u, v2: u, z1: x, z2: x, zt1: x, zt2: x }, s).item();
  };
  scope(() => {
    // Column 2 is constant: σ = √(1e-4) = 0.01, hinge mean (0 + 0.99)/2, halved, on both sides: 25·0.99/2
    assert.ok(Math.abs(loss(tensor([[1, 0], [-1, 0]], o)) - 25 * 0.99 / 2) < 1e-12);
    // Both columns (1, −1): σ > 1, C = [[2, 2], [2, 2]]: off-diagonal Σ C² / D = 4 per side, 8 in all
    assert.ok(Math.abs(loss(tensor([[1, 1], [-1, -1]], o)) - 8) < 1e-12);
  });
});

Deno.test("vicreg() original loss is invariant to translating both views together", () => {
  manualSeed(61);
  const m = vicreg();
  const s = m.initState(4, { dtype: "float64" });
  scope(() => {
    const f = randomFeatures(5, 4);
    const t = (x: Tensor) => x.add(3);
    const a = m.loss!(f, s).item();
    const b = m.loss!({ ...f, z1: t(f.z1), z2: t(f.z2), zt1: t(f.zt1), zt2: t(f.zt2) }, s).item();
    assert.ok(Math.abs(a - b) < 1e-10 * Math.abs(a));
  });
  disposeState(s);
});

Deno.test("vicreg() l2 form is −v2 + λ·F1·u1 with F1 from the same view's targets", () => {
  manualSeed(62);
  const m = vicreg({ form: "l2", lambda: 10 });
  const s = m.initState(4, { dtype: "float64" });
  scope(() => {
    const f = randomFeatures(3, 4);
    const F1 = f.v1.t().mm(f.v1).div(3);
    const expected = f.u1.mm(F1).mul(10).sub(f.v2).div(6);
    assertClose(m.gradient(f, s).g1, expected.detach(), 1e-12, "g1");
  });
  disposeState(s);
  assert.throws(() => vicreg({ target: "momentum-positive" }), /momentum-positive/);
  assert.throws(() => vicreg({ std: -1 }), /Invalid vicreg option std/);
});
