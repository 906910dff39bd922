/**
 * UniGrad (Tao et al., "Exploring the Equivalence of Siamese Self-Supervised Learning via A Unified
 * Gradient Framework", CVPR 2022): the gradient with respect to the normalised online feature u1 is
 *
 *     g1 = −v2 + λ·F·u1,   F ← ρ·F + (1 − ρ)·(v1ᵀv1 + v2ᵀv2)/(2N)
 *
 * (symmetrised: g2 = −v1 + λ·F·u2), with F the moving average of the target features' correlation,
 * F = F_batch at the first step, all-reduce-averaged across workers and kept in float32. No memory bank,
 * no predictor. With F held fixed it is the gradient of ℓ = mean_b(−u1·v2 + (λ/2)·u1ᵀFu1), which `loss()`
 * returns (symmetrised), so autograd can check it.
 *
 * @module
 */
import { checkRange } from "./_checks.ts";
import { defineMethod } from "./_define.ts";
import { stepCorrelation, unifiedGradient, unifiedLoss } from "./_views.ts";
import { localComm } from "./comm.ts";
import { UNIT_NORM_LAMBDA } from "./lambdas.ts";
import type { CommonOptions, Method } from "./method.ts";

/** Options of `unigrad`. */
export interface UnigradOptions extends CommonOptions {
  /** Balance λ of the negative gradient (belongs to D = 2048: the mean eigenvalue of λF is λ/D). @default `UNIT_NORM_LAMBDA["unigrad/unified"]` (100) */
  lambda?: number;
  /** Moving-average coefficient ρ of F. @default 0.99 */
  rho?: number;
}

/**
 * UniGrad: g1 = (−v2 + λ·F·u1)/(2N), with the moving correlation F in the method state.
 *
 * @param options λ, ρ, target kind, communicator.
 * @returns The method; its state holds F ("F" in checkpoints).
 * @throws {RangeError} When λ < 0 or ρ is outside [0, 1).
 *
 * @example Usage
 * ```ts
 * import { backward, normalize, randn, scope, unigrad } from "@unigrad/unigrad";
 * import { disposeState } from "@unigrad/unigrad/ssl";
 * import assert from "node:assert/strict";
 *
 * const method = unigrad({ lambda: 100 });
 * const state = method.initState(16);
 * scope(() => {
 *   const z1 = randn([8, 16], { requiresGrad: true });
 *   const [u1, u2] = [normalize(z1), normalize(randn([8, 16]))];
 *   const [v1, v2] = [normalize(randn([8, 16])), normalize(randn([8, 16]))];
 *   const { g1, g2, stats } = method.gradient({ u1, u2, v1, v2 }, state);
 *   assert.deepEqual(g1.shape, [8, 16]);
 *   assert.equal(stats.lambda.item(), 100);
 *   backward([u1], [g1]); // the trainer: backward([u1, u2], [g1, g2])
 *   assert.equal(g2.requiresGrad, false);
 * });
 * assert.equal(state.step, 1);
 * disposeState(state);
 * ```
 */
export function unigrad(options: UnigradOptions = {}): Method {
  const { lambda = UNIT_NORM_LAMBDA["unigrad/unified"], rho = 0.99, target = "momentum", comm = localComm } = options;
  const { checkValues } = options;
  checkRange("unigrad", "lambda", lambda, 0);
  checkRange("unigrad", "rho", rho, 0, 1, true);
  return defineMethod({
    name: "unigrad",
    form: "unified",
    target,
    checkValues,
    state: { correlation: true },
    gradient(f, s, advance) {
      const F = stepCorrelation(f, s, rho, target, comm); // [D, D]
      if (advance) s.F!.copy_(F);
      return unifiedGradient(f, F, lambda);
    },
    loss: (f, s) => unifiedLoss(f, stepCorrelation(f, s, rho, target, comm), lambda),
  });
}
