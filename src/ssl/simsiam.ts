/**
 * SimSiam (Chen & He, CVPR 2021) in the unified framework: BYOL without the momentum encoder (target
 * "stop-grad") and with the loss −cos(h(u1), v2), averaged over the views (the paper's
 * ½·D(p1, z2) + ½·D(p2, z1)); predictor hidden width 512. Same three forms as `byol`: "original"
 * (learnable predictor), "directpred" (analytic predictor from F) and "unified" (−v2 + λ·F·u1).
 *
 * @module
 */
import { asymmetric, type AsymmetricOptions } from "./_asymmetric.ts";
import type { Method } from "./method.ts";

/**
 * SimSiam in its original, DirectPred or unified form.
 *
 * @throws {RangeError} On an unknown form or out-of-range options.
 *
 * @example Usage
 * ```ts
 * import { disposeState, normalize, randn, scope, simsiam } from "@unigrad/unigrad";
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
export function simsiam(options: AsymmetricOptions = {}): Method {
  return asymmetric({ name: "simsiam", target: "stop-grad", hiddenDim: 512, a: 0, b: 1 }, options);
}
