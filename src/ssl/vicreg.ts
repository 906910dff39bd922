/**
 * VICReg (Bardes et al., ICLR 2022) in the unified framework. Two forms (the paper's Table 1):
 *
 * - "original": on the raw projector outputs z (online) and zt (target), the official loss
 *   25·mse(z1, zt2) + 25·(mean relu(1 − σ(z1)) + mean relu(1 − σ(zt2)))/2
 *   + 1·(Σ_{i≠j} C(z1)_ij² + Σ_{i≠j} C(zt2)_ij²)/D, σ = √(Var + 1e-4), C the covariance (unbiased);
 *   the gradient with respect to z1 is invariance 50·(z1 − zt2)/(N·D), the variance hinge, and the
 *   covariance term 4·C_off·(z1 − mean)/(D·(N − 1)).
 * - "l2": on l2-normalised features, invariance −v2 and the covariance term with the target's
 *   correlation, dropping the variance hinge: g1 = −v2 + λ·F1·u1 with F1 = v1ᵀv1/N of the same view
 *   (Σ_b (u1·v1_b/N)·v1_b), the loss mean_b(−u1·v2 + (λ/2)·u1ᵀF1u1).
 *
 * Symmetrised: L = ½·(ℓ(1 → 2) + ℓ(2 → 1)); with a stop-grad target this is the published loss in value
 * and half its gradient. The original form uses the local batch.
 *
 * @module
 */
import { eye, normalize, type Tensor } from "../torch/mod.ts";
import { checkForm, checkRange } from "./_checks.ts";
import { defineMethod } from "./_define.ts";
import {
  batchCorrelation,
  combineViews,
  correlationLoss,
  correlationView,
  negatives,
  type ViewParts,
} from "./_views.ts";
import { localComm } from "./comm.ts";
import { UNIT_NORM_LAMBDA } from "./lambdas.ts";
import type { CommonOptions, Features, Method } from "./method.ts";

/** Options of `vicreg`. */
export interface VicregOptions extends CommonOptions {
  /** "original" or "l2" (l2-normalised, no variance term). @default "original" */
  form?: "original" | "l2";
  /** Invariance coefficient (original). @default 25 */
  sim?: number;
  /** Variance coefficient (original). @default 25 */
  std?: number;
  /** Covariance coefficient (original). @default 1 */
  cov?: number;
  /** Balance λ of the l2 form (chosen like UniGrad's for D = 2048; not given by the paper). @default `UNIT_NORM_LAMBDA["vicreg/l2"]` (100) */
  lambda?: number;
}

interface Coefficients {
  sim: number;
  std: number;
  cov: number;
}

/** The official VICReg loss of (x, y), either side possibly constant. */
function vicregLoss(x: Tensor, y: Tensor, c: Coefficients): Tensor {
  const D = x.size(1);
  const mask = eye(D, D, { dtype: "bool", device: x.device }); // [D, D]
  const hinge = (z: Tensor) => z.var(0).add(1e-4).sqrt().rsub(1).relu().mean().div(2); // []
  const offCov = (z: Tensor) => {
    const zc = z.sub(z.mean(0, true)); // [N, D]
    return zc.t().mm(zc).div(z.size(0) - 1).maskedFill(mask, 0).square().sum().div(D); // []
  };
  const inv = x.sub(y).square().mean(); // []
  return inv.mul(c.sim).add(hinge(x).add(hinge(y)).mul(c.std)).add(offCov(x).add(offCov(y)).mul(c.cov));
}

/** One view's gradient of the original loss with respect to x (y constant), halved for the symmetrisation. */
function originalView(x: Tensor, y: Tensor, c: Coefficients): ViewParts {
  const [N, D] = x.shape;
  const xc = x.sub(x.mean(0, true)); // [N, D]
  const sigma = xc.square().sum(0, true).div(N - 1).add(1e-4).sqrt(); // [1, D]
  const active = sigma.lt(1).to(x.dtype); // [1, D]  hinge derivative
  const variance = xc.mul(active).div(sigma).mul(-c.std / (2 * D * (N - 1))); // [N, D]
  const C = xc.t().mm(xc).div(N - 1); // [D, D]
  const Coff = C.maskedFill(eye(D, D, { dtype: "bool", device: x.device }), 0); // [D, D]
  const covariance = xc.mm(Coff).mul((4 * c.cov) / (D * (N - 1))); // [N, D]
  const k = (2 * c.sim) / D; // invariance per sample: k·(x − y)
  const positive = y.mul(k); // [N, D]
  const negative = x.mul(k).add(variance.add(covariance).mul(N)); // [N, D]
  return {
    g: negative.sub(positive).div(2 * N),
    positive,
    negative,
    lambda: c.cov / c.sim,
    u: normalize(x),
    v: normalize(y),
  };
}

/**
 * VICReg in its original or l2-normalised form.
 *
 * @throws {RangeError} On an unknown form, negative coefficients, or target "momentum-positive" with the
 * original form.
 *
 * @example Usage
 * ```ts
 * import { normalize, randn, scope, vicreg } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const method = vicreg({ form: "l2" });
 * const state = method.initState(8);
 * scope(() => {
 *   const [u1, u2, v1, v2] = [0, 1, 2, 3].map(() => normalize(randn([4, 8])));
 *   const { stats } = method.gradient({ u1, u2, v1, v2 }, state);
 *   assert.equal(stats.lambda.item(), 100);
 * });
 * ```
 */
export function vicreg(options: VicregOptions = {}): Method {
  const { form = "original", sim = 25, std = 25, cov = 1, lambda = UNIT_NORM_LAMBDA["vicreg/l2"] } = options;
  const { target = "stop-grad", comm = localComm, checkValues } = options;
  checkForm("vicreg", form, ["original", "l2"]);
  for (const [k, v] of Object.entries({ sim, std, cov, lambda })) checkRange("vicreg", k, v, 0);
  if (form === "original" && target === "momentum-positive") {
    throw new RangeError(`Cannot use target "momentum-positive" with vicreg form "original": use form "l2"`);
  }
  const c = { sim, std, cov };
  const original = (f: Features) =>
    vicregLoss(f.z1!, f.zt2!.detach(), c).add(vicregLoss(f.z2!, f.zt1!.detach(), c)).mul(0.5);
  if (form === "original") {
    return defineMethod({
      name: "vicreg",
      form,
      target,
      globalBatch: true, // variance and covariance over the (global) batch
      checkValues,
      wrt: "z",
      minBatch: 2,
      gradient: (f) => combineViews(originalView(f.z1!, f.zt2!.detach(), c), originalView(f.z2!, f.zt1!.detach(), c)),
      loss: original,
    });
  }
  const F = (n: Tensor) => batchCorrelation(n, n, n.dtype, comm); // [D, D]  nᵀn/N
  return defineMethod({
    name: "vicreg",
    form,
    target,
    checkValues,
    gradient(f) {
      const [n1, n2] = negatives(f, target);
      return combineViews(correlationView(f.u1, f.v2, F(n1), lambda), correlationView(f.u2, f.v1, F(n2), lambda));
    },
    loss(f) {
      const [n1, n2] = negatives(f, target);
      return correlationLoss(f.u1, f.v2, F(n1), lambda).add(correlationLoss(f.u2, f.v1, F(n2), lambda)).mul(0.5);
    },
    reference: { name: "vicreg original", wrt: "z", loss: original },
  });
}
