/**
 * SimSiam (Chen & He, CVPR 2021) in the unified framework: BYOL without the momentum encoder (target
 * "stop-grad"), with the loss per view ℓ = −cos(h(u1), v2), averaged over the views (the paper's
 * ½·D(p1, z2) + ½·D(p2, z1)). Three gradient forms (the paper's Table 1):
 *
 *     original     g1 = ∂ℓ/∂u1 through a learnable predictor h (Linear → BN → ReLU → Linear, hidden 512)
 *     directpred   g1 = (−W_p·v2 + λ_b·F̃·u1)/‖W_p·u1‖,  λ_b = (W_p·u1)·v2 / (u1ᵀF̃u1)
 *     unified      g1 = −v2 + λ·F·u1                    (as UniGrad)
 *
 * with F ← ρ·F + (1 − ρ)·(v1ᵀv1 + v2ᵀv2)/(2N) the moving correlation of the target features, W_p
 * DirectPred's analytic predictor from F's eigen-decomposition and F̃ = F/max eig + ε²·I: the official
 * `loss_byol_directpred_grad`. The predictor lives in the method state: give `method.parameters(state)`
 * to the optimizer. DirectPred is a gradient-only form; its `reference` is the loss −cos(W_p·u1, v2).
 *
 * @module
 */
import { asymmetricMethod, type AsymmetricOptions } from "./asymmetric.ts";
import type { Method } from "./method.ts";

/** Options of `simsiam` (the predictor's hidden width defaults to 512). */
export type SimsiamOptions = AsymmetricOptions;

/**
 * SimSiam in its original, DirectPred or unified form.
 *
 * @param options Form, predictor width, λ, ρ, ε, target kind, communicator (see `AsymmetricOptions`).
 * @returns The method; its state holds the predictor (original) or F (directpred, unified).
 * @throws {RangeError} On an unknown form or out-of-range options.
 *
 * @example Usage
 * ```ts
 * import { disposeState } from "@unigrad/unigrad/ssl";
 * import { normalize, randn, scope, simsiam } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const method = simsiam({ form: "directpred" });
 * assert.equal(method.target, "stop-grad");
 * const state = method.initState(8);
 * scope(() => {
 *   const [u1, u2, v1, v2] = [0, 1, 2, 3].map(() => normalize(randn([4, 8])));
 *   const { stats } = method.gradient({ u1, u2, v1, v2 }, state);
 *   assert.ok(Number.isFinite(stats.lambda.item())); // DirectPred's per-sample balance, averaged
 * });
 * disposeState(state);
 * ```
 */
export function simsiam(options: SimsiamOptions = {}): Method {
  return asymmetricMethod({ name: "simsiam", hiddenDim: 512, target: "stop-grad", loss: { A: 0, B: 1 } }, options);
}
