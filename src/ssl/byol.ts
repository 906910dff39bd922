/**
 * BYOL (Grill et al., NeurIPS 2020) in the unified framework. Three gradient forms (the paper's Table 1):
 *
 * - "original": a learnable predictor h (Linear → BN → ReLU → Linear, hidden 4096) on the online
 *   feature, loss 2 − 2·cos(h(u1), v2) (symmetrised by averaging: BYOL's paper sums the two views);
 *   g1 = ∂L/∂u1 through h. The predictor lives in the method state: add `method.parameters(state)` to
 *   the optimizer.
 * - "directpred": DirectPred's analytic predictor W_p from the eigen-decomposition of F, with the
 *   official code's gradient g1 = (−W_p·v2 + λ_b·F̃·u1)/‖W_p·u1‖, λ_b = (W_p·u1)·v2 / (u1ᵀF̃u1),
 *   F̃ = F/max eig + ε²·I: exactly the official `loss_byol_directpred_grad` (configs/byol_directpred_grad.py),
 *   which BYOL and SimSiam share, so its scale is 1, half the gradient of the loss 2 − 2·cos(W_p·u1, v2)
 *   (under SGD with weight decay a 2× gradient is not absorbed by the learning rate, so the paper's
 *   Table 1 row (d) is this scale). A gradient-only form; its `reference` is the loss 2 − 2·cos(W_p·u1, v2).
 * - "unified": g1 = −v2 + λ·F·u1, as UniGrad.
 *
 * F is the moving correlation of the target features, F ← ρ·F + (1 − ρ)·(v1ᵀv1 + v2ᵀv2)/(2N).
 *
 * @module
 */
import { asymmetric, type AsymmetricOptions } from "./_asymmetric.ts";
import type { Method } from "./method.ts";

export { type AsymmetricOptions, directPredPredictor } from "./_asymmetric.ts";

/**
 * BYOL with a momentum encoder, in its original, DirectPred or unified form.
 *
 * @throws {RangeError} On an unknown form or out-of-range options.
 *
 * @example Usage
 * ```ts
 * import { byol, disposeState, normalize, randn, scope } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const method = byol({ hiddenDim: 16 });
 * const state = method.initState(8); // holds the predictor
 * const params = method.parameters(state); // give these to the optimizer too
 * scope(() => {
 *   const [u1, u2, v1, v2] = [0, 1, 2, 3].map(() => normalize(randn([4, 8])));
 *   method.gradient({ u1, u2, v1, v2 }, state);
 *   assert.notEqual(params[0].grad, null); // the predictor's gradient is accumulated
 * });
 * disposeState(state);
 * ```
 */
export function byol(options: AsymmetricOptions = {}): Method {
  return asymmetric({ name: "byol", target: "momentum", hiddenDim: 4096, a: 2, b: 2 }, options);
}
