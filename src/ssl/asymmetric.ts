/**
 * The asymmetric methods, BYOL and SimSiam, from one factory: a predictor on the online branch and three
 * gradient forms (the paper's Table 1):
 *
 *     original     g1 = ∂ℓ/∂u1 through a learnable predictor h (Linear → BN → ReLU → Linear)
 *     directpred   g1 = (−W_p·v2 + λ_b·F̃·u1)/‖W_p·u1‖,  λ_b = (W_p·u1)·v2 / (u1ᵀF̃u1)
 *     unified      g1 = −v2 + λ·F·u1                      (as UniGrad)
 *
 * with the loss per view ℓ = A − B·cos(h(u1), v2), F ← ρ·F + (1 − ρ)·(v1ᵀv1 + v2ᵀv2)/(2N) the moving
 * correlation of the target features, W_p DirectPred's analytic predictor from F's eigen-decomposition
 * and F̃ = F/max eig + ε²·I. The two methods differ only in their constants (`AsymmetricSpec`).
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
import { UNIT_NORM_LAMBDA } from "./lambdas.ts";
import type { CommonOptions, Features, Method, TargetKind } from "./method.ts";
import type { MethodState } from "./state.ts";

/** Options of `byol` and `simsiam`. */
export interface AsymmetricOptions extends CommonOptions {
  /** "original": a learnable predictor MLP; "directpred": DirectPred's predictor from F; "unified": −v2 + λ·F·u1. @default "original" */
  form?: "original" | "directpred" | "unified";
  /** Hidden width of the predictor MLP (original form). @default 4096 for BYOL, 512 for SimSiam */
  hiddenDim?: number;
  /** Balance λ of the unified form. @default `UNIT_NORM_LAMBDA` ("byol/unified", "simsiam/unified": 100) */
  lambda?: number;
  /** Moving-average coefficient ρ of F (directpred, unified). @default 0.99 */
  rho?: number;
  /** DirectPred's ε, added to the predictor's normalised eigenvalues' square roots. @default 0.3 */
  eps?: number;
}

/** What makes BYOL or SimSiam: the name, the predictor's width, the target branch, the loss's constants. */
export interface AsymmetricSpec {
  /** The registry name. */
  name: "byol" | "simsiam";
  /** The default hidden width of the predictor. */
  hiddenDim: number;
  /** The default target branch. */
  target: TargetKind;
  /** The loss per view is A − B·cos(p, v). */
  loss: { A: number; B: number };
}

/**
 * An asymmetric method (see `byol` and `simsiam`, which call it with their constants).
 *
 * @param spec The method's constants.
 * @param options The user's options.
 * @returns The method; its state holds the predictor (original) or F (directpred, unified).
 * @throws {RangeError} On an unknown form or out-of-range options.
 */
export function asymmetricMethod(spec: AsymmetricSpec, options: AsymmetricOptions = {}): Method {
  const { form = "original", hiddenDim = spec.hiddenDim, rho = 0.99, eps = 0.3 } = options;
  const lambda = options.lambda ?? UNIT_NORM_LAMBDA[`${spec.name}/unified`];
  const { target = spec.target, comm = localComm, checkValues } = options;
  const { A, B } = spec.loss;
  checkAsymmetric(spec.name, { form, hiddenDim, lambda, rho, eps });
  const common = { name: spec.name, form, target, checkValues };
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
  const reference = { name: `${spec.name} with DirectPred's linear predictor`, wrt: "u" as const };
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
