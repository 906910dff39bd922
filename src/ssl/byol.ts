/**
 * BYOL (Grill et al., NeurIPS 2020) in the unified framework, with a momentum encoder. The loss per view
 * is ℓ = 2 − 2·cos(h(u1), v2) (averaged over the two views: BYOL's paper sums them). Three gradient
 * forms (the paper's Table 1):
 *
 *     original     g1 = ∂ℓ/∂u1 through a learnable predictor h (Linear → BN → ReLU → Linear, hidden 4096)
 *     directpred   g1 = (−W_p·v2 + λ_b·F̃·u1)/‖W_p·u1‖,  λ_b = (W_p·u1)·v2 / (u1ᵀF̃u1)
 *     unified      g1 = −v2 + λ·F·u1                      (as UniGrad)
 *
 * with F ← ρ·F + (1 − ρ)·(v1ᵀv1 + v2ᵀv2)/(2N) the moving correlation of the target features, W_p
 * DirectPred's analytic predictor from F's eigen-decomposition and F̃ = F/max eig + ε²·I (Tian et al.,
 * ICML 2021): exactly the official `loss_byol_directpred_grad` (configs/byol_directpred_grad.py), which
 * BYOL and SimSiam share, so its scale is 1, half the gradient of 2 − 2·cos(W_p·u1, v2); under SGD with
 * weight decay a 2× gradient is not absorbed by the learning rate, and the paper's Table 1 row (d) is
 * this scale. The predictor
 * lives in the method state: give `method.parameters(state)` to the optimizer. DirectPred is a
 * gradient-only form; its `reference` is the loss 2 − 2·cos(W_p·u1, v2).
 *
 * @module
 */
import { asymmetricMethod, type AsymmetricOptions } from "./asymmetric.ts";
import type { Method } from "./method.ts";

/** Options of `byol` (the predictor's hidden width defaults to 4096). */
export type ByolOptions = AsymmetricOptions;

/**
 * BYOL with a momentum encoder, in its original, DirectPred or unified form.
 *
 * @param options Form, predictor width, λ, ρ, ε, target kind, communicator (see `AsymmetricOptions`).
 * @returns The method; its state holds the predictor (original) or F (directpred, unified).
 * @throws {RangeError} On an unknown form or out-of-range options.
 *
 * @example Usage
 * ```ts
 * import { byol, normalize, randn, scope } from "@unigrad/unigrad";
 * import { disposeState } from "@unigrad/unigrad/ssl";
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
export function byol(options: ByolOptions = {}): Method {
  return asymmetricMethod({ name: "byol", hiddenDim: 4096, target: "momentum", loss: { A: 2, B: 2 } }, options);
}
