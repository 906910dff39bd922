/**
 * DirectPred's analytic linear predictor (Tian et al., "Understanding self-supervised learning dynamics
 * without contrastive pairs", ICML 2021), built from the moving correlation F as the official UniGrad
 * code builds it; BYOL's and SimSiam's "directpred" forms use it.
 *
 * Shape letters: D projector width.
 *
 * @module
 */
import { eigh, eye, type Tensor } from "../torch/mod.ts";

/**
 * DirectPred's linear predictor from F (Tian et al., ICML 2021), as the official UniGrad code builds it:
 * with F = U·diag(s)·Uᵀ, W_p = U·diag(max(√(s/max s) + ε, 1e-4))·Uᵀ; and F̃ = F/max s + ε²·I, which the
 * gradient form uses in place of W_pᵀW_p.
 *
 * @param F A symmetric positive semi-definite matrix [D, D].
 * @param eps DirectPred's ε.
 * @returns W_p and F̃, both [D, D].
 *
 * @example Usage
 * ```ts
 * import { directPredPredictor } from "@unigrad/unigrad/ssl";
 * import { eye } from "@unigrad/unigrad/torch";
 * import assert from "node:assert/strict";
 *
 * const F = eye(3, 3, { dtype: "float64" }).mul(0.5);
 * const { Wp, Ft } = directPredPredictor(F, 0.3); // s/max s = 1: W_p = (1 + ε)·I, F̃ = (1 + ε²)·I
 * assert.ok(Math.abs(Wp.diag().mean().item() - 1.3) < 1e-12);
 * assert.ok(Math.abs(Ft.diag().mean().item() - 1.09) < 1e-12);
 * [F, Wp, Ft].forEach((t) => t.dispose());
 * ```
 */
export function directPredPredictor(F: Tensor, eps = 0.3): { Wp: Tensor; Ft: Tensor } {
  const { values, vectors } = eigh(F); // [D], [D, D]
  const s = values.clamp(0); // round-off can make a zero eigenvalue slightly negative
  const sMax = s.amax();
  const p = s.div(sMax).sqrt().add(eps).clamp(1e-4); // [D]
  const Wp = vectors.mul(p).mm(vectors.t()); // U·diag(p)·Uᵀ [D, D]
  const D = F.size(0);
  const Ft = F.div(sMax).add(eye(D, D, { dtype: F.dtype, device: F.device }).mul(eps * eps)); // [D, D]
  return { Wp, Ft };
}
