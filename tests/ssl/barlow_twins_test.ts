import assert from "node:assert/strict";
import { manualSeed, scope, tensor } from "../../mod.ts";
import { barlowTwins } from "../../src/ssl/barlow_twins.ts";
import { disposeState } from "../../src/ssl/state.ts";
import { assertClose, assertGradientMatchesAutograd, GOLDEN, goldenFeatures, randomFeatures } from "./_helpers.ts";

Deno.test("barlowTwins().gradient matches autograd of its loss in every form (float64)", () => {
  manualSeed(50);
  for (const form of ["original", "a-identity", "l2"] as const) {
    for (const target of form === "l2" ? ["stop-grad", "momentum-positive"] as const : ["stop-grad"] as const) {
      const lambda = form === "l2" ? 3 : 0.2;
      assertGradientMatchesAutograd(barlowTwins({ form, target, lambda }), { N: 6, D: 5, steps: 1 });
    }
  }
});

Deno.test("barlowTwins() original form with a stop-grad target is the published loss, with half its gradient", () => {
  const m = barlowTwins();
  const s = m.initState(GOLDEN.D, { dtype: "float64" });
  scope(() => {
    const f = goldenFeatures();
    const g = { ...f, zt1: f.z1.detach(), zt2: f.z2.detach() };
    const c = GOLDEN.cases.barlow_published;
    assert.ok(Math.abs(m.loss!(g, s).item() - c.loss!) < 1e-12);
    const { g1, g2 } = m.gradient(g, s);
    assertClose(g1.mul(2), c.g1, 1e-12, "g1");
    assertClose(g2.mul(2), c.g2, 1e-12, "g2");
  });
  disposeState(s);
});

Deno.test("barlowTwins() original form with a separate target equals the golden per-view published loss", () => {
  const m = barlowTwins({ target: "momentum" });
  const s = m.initState(GOLDEN.D, { dtype: "float64" });
  scope(() => {
    const f = goldenFeatures();
    const c = GOLDEN.cases.barlow_momentum;
    assert.ok(Math.abs(m.loss!(f, s).item() - c.loss!) < 1e-12);
    const { g1, g2 } = m.gradient(f, s);
    assertClose(g1, c.g1, 1e-12, "g1");
    assertClose(g2, c.g2, 1e-12, "g2");
  });
  disposeState(s);
});

Deno.test("barlowTwins() losses on a hand-checkable input: original 2λ, A → I 4λ − 2", () => {
  const o = { dtype: "float64" as const };
  scope(() => {
    // Each column of each view is (a, −a) around its mean: it standardises to (1, −1) or (−1, 1).
    const z = tensor([[1, 3], [-1, 5]], o); // x̂ = [[1, −1], [−1, 1]], so W = [[1, −1], [−1, 1]]
    const u = tensor([[1, 0], [0, 1]], o); // unit rows, unused by the BN forms
    const f = { u1: u, u2: u, v1: u, v2: u, z1: z, z2: z, zt1: z, zt2: z };
    const lambda = 0.25;
    const orig = barlowTwins({ lambda, eps: 0 });
    const ident = barlowTwins({ form: "a-identity", lambda, eps: 0 });
    const [s1, s2] = [orig.initState(2), ident.initState(2)];
    assert.ok(Math.abs(orig.loss!(f, s1).item() - 2 * lambda) < 1e-12); // Σ(1 − 1)² + λ·(1 + 1)
    assert.ok(Math.abs(ident.loss!(f, s2).item() - (4 * lambda - 2)) < 1e-12); // D − 2·tr W + λ·‖W‖²
  });
});

Deno.test("barlowTwins() original loss is invariant to z → 2z + 4 (batch standardisation)", () => {
  manualSeed(51);
  const m = barlowTwins({ eps: 0 });
  const s = m.initState(4, { dtype: "float64" });
  scope(() => {
    const f = randomFeatures(5, 4);
    const a = m.loss!(f, s).item();
    const t = (x: import("../../mod.ts").Tensor) => x.mul(2).add(4);
    const b = m.loss!({ ...f, z1: t(f.z1), z2: t(f.z2), zt1: t(f.zt1), zt2: t(f.zt2) }, s).item();
    assert.ok(Math.abs(a - b) < 1e-12 * Math.abs(a));
  });
  disposeState(s);
});

Deno.test("barlowTwins() l2 form equals the official loss_barlow_twins_grad_mm (λ = 50)", () => {
  const m = barlowTwins({ form: "l2" });
  const s = m.initState(GOLDEN.D, { dtype: "float64" });
  scope(() => {
    const { g1, g2, stats } = m.gradient(goldenFeatures(), s);
    assertClose(g1, GOLDEN.cases.barlow_grad_mm.g1, 1e-12, "g1");
    assertClose(g2, GOLDEN.cases.barlow_grad_mm.g2, 1e-12, "g2");
    assert.equal(stats.lambda.item(), 50);
    assertClose(stats.positive, 2, 1e-12, "positive = ‖2·v2‖");
  });
  disposeState(s);
});

Deno.test("barlowTwins() rejects a batch of one for its BN forms and momentum-positive with BN", () => {
  manualSeed(52);
  const m = barlowTwins();
  const s = m.initState(3);
  scope(() => {
    assert.throws(
      () => m.gradient(randomFeatures(1, 3, "float32"), s),
      /barlow-twins gradient: a batch of 1 is too small/,
    );
  });
  assert.throws(() => barlowTwins({ target: "momentum-positive" }), /momentum-positive/);
  assert.throws(() => barlowTwins({ form: "bn" as "l2" }), /Invalid barlow-twins form "bn"/);
});
