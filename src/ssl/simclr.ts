/**
 * SimCLR (Chen et al., ICML 2020) in the unified framework. The original loss is NT-Xent over the 2N
 * online features Z = [u1; u2], each row against its other view, with the 2N − 2 other samples as
 * negatives and gradients flowing through them:
 *
 *     L = (1/2N)·Σ_i −log( exp(z_i·z_p(i)/τ) / Σ_{k≠i} exp(z_i·z_k/τ) ),   ∂L/∂Z = ((P + Pᵀ)·Z − 2·Z_p)/(2Nτ)
 *
 * (P the row softmax without the diagonal). The paper keeps only each sample's own term and replaces the
 * features by the target's: the "gradient" form g1 = (−v2 + Σ_{v∈V} s_v·v)/τ with V the target features
 * of both views of the (global) batch, as the official `loss_simclr_grad_mm` (the same gradient as
 * `moco()` without a queue).
 *
 * @module
 */
import { cat, eye, type Tensor } from "../torch/mod.ts";
import { checkForm, checkRange } from "./_checks.ts";
import { defineMethod, U } from "./_define.ts";
import { combineViews, gatheredNegatives, infoNCELoss, infoNCEView, rowDot } from "./_views.ts";
import { localComm } from "./comm.ts";
import type { CommonOptions, Features, GradientResult, Method } from "./method.ts";

/** Options of `simclr`. */
export interface SimclrOptions extends CommonOptions {
  /** Temperature τ. @default 0.2 */
  tau?: number;
  /** "original": NT-Xent over the online features; "gradient": the paper's form over target features. @default "original" */
  form?: "original" | "gradient";
}

/** Logits of NT-Xent over Z = [u1; u2] with the diagonal masked, and the positives Z_p = [u2; u1]. */
function ntXent(u1: Tensor, u2: Tensor, tau: number): { Z: Tensor; Zp: Tensor; logits: Tensor } {
  const Z = cat([u1, u2]); // [2N, D]
  const mask = eye(Z.size(0), Z.size(0), { dtype: "bool", device: Z.device }); // [2N, 2N]
  return { Z, Zp: cat([u2, u1]), logits: Z.mm(Z.t()).div(tau).maskedFill(mask, -Infinity) };
}

/** NT-Xent, the published SimCLR loss: mean over the 2N rows of −z·z_p/τ + logsumexp. */
function originalLoss(f: Features, tau: number): Tensor {
  const { Z, Zp, logits } = ntXent(f.u1, f.u2, tau);
  return logits.logsumexp(1, true).sub(rowDot(Z, Zp).div(tau)).mean(); // []
}

/** The exact gradient of NT-Xent: ∂L/∂Z = ((P + Pᵀ)·Z − 2·Z_p)/(2Nτ), split into the two views. */
function originalGradient(f: Features, tau: number): GradientResult {
  const N = f.u1.size(0);
  const { Z, Zp, logits } = ntXent(f.u1, f.u2, tau);
  const P = logits.softmax(1); // [2N, 2N]
  const positive = Zp.mul(2); // [2N, D]
  const negative = P.add(P.t()).mm(Z); // [2N, D]
  const [g1, g2] = negative.sub(positive).div(2 * N * tau).chunk(2); // 2 × [N, D]
  const [p1, p2] = positive.chunk(2);
  const [n1, n2] = negative.chunk(2);
  return combineViews(
    { g: g1, positive: p1, negative: n1, lambda: 1, u: f.u1, v: f.u2 },
    { g: g2, positive: p2, negative: n2, lambda: 1, u: f.u2, v: f.u1 },
  );
}

/**
 * SimCLR: the NT-Xent loss and its exact gradient, or the paper's gradient form.
 *
 * @throws {RangeError} On an unknown form or τ ≤ 0.
 *
 * @example Usage
 * ```ts
 * import { autograd } from "@unigrad/unigrad/torch";
 * import { disposeState } from "@unigrad/unigrad/ssl";
 * import { normalize, randn, scope, simclr } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const method = simclr({ tau: 0.2 });
 * const state = method.initState(8, { dtype: "float64" });
 * scope(() => {
 *   const [u1, u2] = [0, 1].map(() => normalize(randn([4, 8], { dtype: "float64", requiresGrad: true })));
 *   const f = { u1, u2, v1: u1, v2: u2 }; // the original form reads the online features only
 *   const [a1] = autograd.grad([method.loss!(f, state)], [u1]);
 *   const { g1 } = method.gradient(f, state);
 *   assert.ok(g1.sub(a1!).abs().max().item() < 1e-12); // the exact gradient of NT-Xent
 * });
 * disposeState(state);
 * ```
 */
export function simclr(options: SimclrOptions = {}): Method {
  const { tau = 0.2, form = "original", target = "stop-grad", comm = localComm, checkValues } = options;
  checkForm("simclr", form, ["original", "gradient"]);
  checkRange("simclr", "tau", tau, 1e-8);
  if (form === "original") {
    return defineMethod({
      name: "simclr",
      form,
      target,
      checkValues,
      needs: U,
      globalBatch: true, // NT-Xent over the (global) batch's online features
      gradient: (f) => originalGradient(f, tau),
      loss: (f) => originalLoss(f, tau),
    });
  }
  return defineMethod({
    name: "simclr",
    form,
    target,
    checkValues,
    gradient(f) {
      const V = gatheredNegatives(f, target, comm); // [2·N_global, D]
      return combineViews(infoNCEView(f.u1, f.v2, V, tau), infoNCEView(f.u2, f.v1, V, tau));
    },
    loss(f) {
      const V = gatheredNegatives(f, target, comm); // [2·N_global, D]
      return infoNCELoss(f.u1, f.v2, V, tau).add(infoNCELoss(f.u2, f.v1, V, tau)).mul(0.5);
    },
    reference: { name: "simclr original (NT-Xent)", wrt: "u", loss: (f) => originalLoss(f, tau) },
  });
}
