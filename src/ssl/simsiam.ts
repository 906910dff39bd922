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
import { predictorHead } from "../nn/heads.ts";
import { checkAsymmetric } from "./_checks.ts";
import { defineMethod } from "./_define.ts";
import {
  directPredGradient,
  directPredLoss,
  predictorGradient,
  predictorLoss,
  stepCorrelation,
  unifiedGradient,
  unifiedLoss,
} from "./_views.ts";
import { localComm } from "./comm.ts";
import type { CommonOptions, Features, Method } from "./method.ts";
import type { MethodState } from "./state.ts";

/** Options of `simsiam`. */
export interface SimsiamOptions extends CommonOptions {
  /** "original": a learnable predictor MLP; "directpred": DirectPred's predictor from F; "unified": −v2 + λ·F·u1. @default "original" */
  form?: "original" | "directpred" | "unified";
  /** Hidden width of the predictor MLP (original form). @default 512 */
  hiddenDim?: number;
  /** Balance λ of the unified form. @default 100 */
  lambda?: number;
  /** Moving-average coefficient ρ of F (directpred, unified). @default 0.99 */
  rho?: number;
  /** DirectPred's ε, added to the predictor's normalised eigenvalues' square roots. @default 0.3 */
  eps?: number;
}

/** The loss per view is A − B·cos(p, v). */
const [A, B] = [0, 1];

/**
 * SimSiam in its original, DirectPred or unified form.
 *
 * @param options Form, predictor width, λ, ρ, ε, target kind, communicator.
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
  const { form = "original", hiddenDim = 512, lambda = 100, rho = 0.99, eps = 0.3 } = options;
  const { target = "stop-grad", comm = localComm, checkValues } = options;
  checkAsymmetric("simsiam", { form, hiddenDim, lambda, rho, eps });
  const common = { name: "simsiam", form, target, checkValues };
  const F = (f: Features, s: MethodState) => stepCorrelation(f, s, rho, target, comm); // [D, D]
  if (form === "original") {
    return defineMethod({
      ...common,
      minBatch: 2,
      state: { predictor: (D) => predictorHead({ inDim: D, hiddenDim, outDim: D }) },
      gradient: (f, s, advance) => predictorGradient(f, s, A, B, advance),
      loss: (f, s) => predictorLoss(f, s, A, B),
    });
  }
  const reference = { name: "simsiam with DirectPred's linear predictor", wrt: "u" as const };
  return defineMethod({
    ...common,
    state: { correlation: true },
    gradient(f, s, advance) {
      const Fs = F(f, s);
      if (advance) s.F!.copy_(Fs);
      return form === "directpred" ? directPredGradient(f, Fs, eps) : unifiedGradient(f, Fs, lambda);
    },
    ...(form === "unified" && { loss: (f, s) => unifiedLoss(f, F(f, s), lambda) }),
    reference: { ...reference, loss: (f, s) => directPredLoss(f, F(f, s), eps, A, B) },
  });
}
