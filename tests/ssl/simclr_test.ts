import assert from "node:assert/strict";
import { manualSeed, scope, tensor } from "../../mod.ts";
import { simclr } from "../../src/ssl/simclr.ts";
import { disposeState } from "../../src/ssl/state.ts";
import { assertClose, assertGradientMatchesAutograd, GOLDEN, goldenFeatures } from "./_helpers.ts";

Deno.test("simclr().gradient matches autograd of NT-Xent and of the gradient form's loss in float64", () => {
  manualSeed(20);
  for (const form of ["original", "gradient"] as const) {
    assertGradientMatchesAutograd(simclr({ form, tau: 0.25 }), { N: 4, D: 5, steps: 1 });
  }
});

Deno.test("simclr() original form equals the published NT-Xent loss and gradient (PyTorch golden)", () => {
  const m = simclr();
  const s = m.initState(GOLDEN.D, { dtype: "float64" });
  scope(() => {
    const f = goldenFeatures();
    const c = GOLDEN.cases.simclr_ntxent;
    assert.ok(Math.abs(m.loss!(f, s).item() - c.loss!) < 1e-12);
    const { g1, g2 } = m.gradient(f, s);
    assertClose(g1, c.g1, 1e-12, "g1");
    assertClose(g2, c.g2, 1e-12, "g2");
  });
  disposeState(s);
});

Deno.test("simclr() NT-Xent on a hand-checkable pair of samples", () => {
  const m = simclr({ tau: 1 });
  const s = m.initState(2, { dtype: "float64" });
  scope(() => {
    const o = { dtype: "float64" as const };
    const [u1, u2] = [tensor([[1, 0], [0, 1]], o), tensor([[1, 0], [0, 1]], o)];
    // every row: positive similarity 1, two other samples with similarity 0 → log(e + 2) − 1
    const loss = m.loss!({ u1, u2, v1: u1, v2: u2 }, s).item();
    assert.ok(Math.abs(loss - (Math.log(Math.E + 2) - 1)) < 1e-12);
  });
  disposeState(s);
});

Deno.test("simclr() gradient form equals the official loss_simclr_grad_mm and is swap-symmetric", () => {
  const m = simclr({ form: "gradient", target: "momentum" });
  const s = m.initState(GOLDEN.D, { dtype: "float64" });
  scope(() => {
    const f = goldenFeatures();
    const c = GOLDEN.cases.simclr_grad_mm;
    const { g1, g2 } = m.gradient(f, s);
    assertClose(g1, c.g1, 1e-12, "g1");
    assertClose(g2, c.g2, 1e-12, "g2");
    const swapped = m.gradient({ u1: f.u2, u2: f.u1, v1: f.v2, v2: f.v1 }, s);
    assertClose(swapped.g1, g2, 1e-14, "swapping the views swaps the gradients");
  });
  disposeState(s);
});

Deno.test("simclr() rejects an unknown form", () => {
  assert.throws(() => simclr({ form: "nope" as "original" }), /Invalid simclr form "nope"/);
});
