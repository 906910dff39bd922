/**
 * Barlow Twins (Zbontar et al., ICML 2021) in the unified framework. With W = x̂1ᵀ·t̂2/N the
 * cross-correlation of the online features x̂1 and the target features t̂2 of the other view, the loss
 * Σ_i (1 − W_ii)² + λ·Σ_{i≠j} W_ij² has, per sample,
 *
 *     ∂/∂x̂1 = 2·(−A·t̂2 + λ·Σ_b (t̂2·t̂2_b/N)·x̂1_b)/N,   A = I − (1 − λ)·diag(W)
 *
 * Three forms (the paper's Table 1):
 * - "original": x̂ = BN(z) (batch-standardised raw projector outputs, affine-free BN), λ = 0.0051; the
 *   gradient is taken through the standardisation, with respect to z.
 * - "a-identity": A → I, i.e. the loss D − 2·tr W + λ·‖W‖²_F on the same standardised features.
 * - "l2": A → I on l2-normalised features u, v, λ = 50, g1 = 2·(−v2 + λ·Σ_b (v2·v2_b/N)·u1_b) per sample,
 *   over the gathered (global) batch as the official `loss_barlow_twins_grad_mm`. The negative's vectors
 *   are the online u1_b (the official code's z1_bank), which makes it the exact gradient of the A = I
 *   loss; the paper's Table 1 writes v1_b.
 *
 * Symmetrised: L = ½·(ℓ(1 → 2) + ℓ(2 → 1)); with a stop-grad target this is the published loss in value
 * and half its gradient (the official framework's scale). The BN forms use the local batch.
 *
 * @module
 */
import { normalize, type Tensor } from "../torch/mod.ts";
import { bnBackward, standardize } from "./_batch_norm.ts";
import { checkForm, checkRange } from "./_checks.ts";
import { canonicalName } from "../data/mod.ts";
import { defineMethod } from "./_define.ts";
import { combineViews, negatives, type ViewParts } from "./_views.ts";
import { localComm } from "./comm.ts";
import { BARLOW_TWINS_BN_LAMBDA, UNIT_NORM_LAMBDA } from "./lambdas.ts";
import type { CommonOptions, Features, Method } from "./method.ts";

/** Options of `barlowTwins`. */
export interface BarlowTwinsOptions extends CommonOptions {
  /** "original", "a-identity" (A → I) or "l2" (BN → l2-normalisation); "a_identity" is accepted too. @default "original" */
  form?: "original" | "a-identity" | "a_identity" | "l2";
  /** Weight λ of the off-diagonal terms. @default 0.0051 for the BN forms, 50 for "l2" */
  lambda?: number;
  /** BN's ε (BN forms). @default 1e-5 */
  eps?: number;
}

/** The published loss on standardised x̂, t̂ (or its A = I version with nt for the λ term). */
function btLoss(xh: Tensor, th: Tensor, lambda: number, identity: boolean, nt: Tensor = th): Tensor {
  const N = xh.size(0);
  const W = xh.t().mm(th.detach()).div(N); // [D, D]
  if (identity) {
    const Wn = nt === th ? W : xh.t().mm(nt.detach()).div(N); // [D, D]
    return Wn.square().sum().mul(lambda).sub(W.diag().sum().mul(2)).add(W.size(0)); // []
  }
  const d = W.diag(); // [D]
  return d.rsub(1).square().sum().add(W.square().sum().sub(d.square().sum()).mul(lambda)); // []
}

/** One view's gradient with respect to x̂: (2λ·t̂·Wᵀ − 2·t̂·A)/(2N), W = x̂ᵀ·t̂/N. */
function viewHat(xh: Tensor, th: Tensor, lambda: number, identity: boolean): { G: Tensor; pos: Tensor; neg: Tensor } {
  const N = xh.size(0);
  const W = xh.t().mm(th).div(N); // [D, D]
  const a = identity ? null : W.diag().mul(lambda - 1).add(1); // [D]  diagonal of A
  const pos = (a ? th.mul(a) : th).mul(2); // [N, D]
  const neg = th.mm(W.t()).mul(2 * lambda); // [N, D]
  return { G: neg.sub(pos).div(2 * N), pos, neg };
}

/**
 * Barlow Twins in its original, A → I or l2-normalised form.
 *
 * @throws {RangeError} On an unknown form, out-of-range options, or target "momentum-positive" with a BN
 * form (their loss has no separate negative gradient).
 *
 * @example Usage
 * ```ts
 * import { barlowTwins, normalize, randn, scope } from "@unigrad/unigrad";
 * import { gradientInputs } from "@unigrad/unigrad/ssl";
 * import assert from "node:assert/strict";
 *
 * const method = barlowTwins(); // the original form works on the raw projector outputs z
 * const state = method.initState(8);
 * scope(() => {
 *   const [z1, z2, zt1, zt2] = [0, 1, 2, 3].map(() => randn([4, 8]));
 *   const f = { z1, z2, zt1, zt2, u1: normalize(z1), u2: normalize(z2), v1: normalize(zt1), v2: normalize(zt2) };
 *   const { g1 } = method.gradient(f, state);
 *   assert.equal(gradientInputs(method, f)[0], z1); // so backward goes into z1, z2
 *   assert.deepEqual(g1.shape, [4, 8]);
 * });
 * ```
 */
export function barlowTwins(options: BarlowTwinsOptions = {}): Method {
  const form = canonicalName(options.form ?? "original") as "original" | "a-identity" | "l2";
  const { eps = 1e-5, target = "stop-grad", comm = localComm, checkValues } = options;
  const lambda = options.lambda ?? (form === "l2" ? UNIT_NORM_LAMBDA["barlow-twins/l2"] : BARLOW_TWINS_BN_LAMBDA);
  checkForm("barlow-twins", form, ["original", "a-identity", "l2"], String(options.form));
  for (const [k, v] of Object.entries({ lambda, eps })) checkRange("barlow-twins", k, v, 0);
  if (form !== "l2" && target === "momentum-positive") {
    throw new RangeError(`Cannot use target "momentum-positive" with barlow-twins form "${form}": use form "l2"`);
  }
  const identity = form !== "original";
  const bnView = (x: Tensor, t: Tensor): ViewParts => {
    const { xh, sigma } = standardize(x, eps);
    const { G, pos, neg } = viewHat(xh, standardize(t, eps).xh, lambda, identity);
    return { g: bnBackward(G, xh, sigma), positive: pos, negative: neg, lambda, u: normalize(x), v: normalize(t) };
  };
  const bnLoss = (f: Features, lam: number, ident: boolean) => {
    const [x1, x2] = [standardize(f.z1!, eps).xh, standardize(f.z2!, eps).xh];
    const [t1, t2] = [standardize(f.zt1!.detach(), eps).xh, standardize(f.zt2!.detach(), eps).xh];
    return btLoss(x1, t2, lam, ident).add(btLoss(x2, t1, lam, ident)).mul(0.5); // []
  };
  const original = { name: `barlow-twins original (λ = ${BARLOW_TWINS_BN_LAMBDA})`, wrt: "z" as const };
  const reference = { ...original, loss: (f: Features) => bnLoss(f, BARLOW_TWINS_BN_LAMBDA, false) };
  if (form !== "l2") {
    return defineMethod({
      name: "barlow-twins",
      form,
      target,
      globalBatch: true, // standardised over the (global) batch
      checkValues,
      wrt: "z",
      minBatch: 2,
      gradient: (f) => combineViews(bnView(f.z1!, f.zt2!.detach()), bnView(f.z2!, f.zt1!.detach())),
      loss: (f) => bnLoss(f, lambda, identity),
      reference: identity ? reference : undefined,
    });
  }
  // l2 form: the λ term over the gathered batch (weights from the other view's targets, vectors online).
  const l2View = (u: Tensor, v: Tensor, n: Tensor): ViewParts => {
    const N = u.size(0);
    const uBank = comm.allGather(u.detach()); // [N_g, D]
    const nBank = comm.allGather(n); // [N_g, D]
    const Wn = uBank.t().mm(nBank).div(nBank.size(0)); // [D, D]
    const positive = v.detach().mul(2); // [N, D]
    const negative = n.mm(Wn.t()).mul(2 * lambda); // [N, D]
    return { g: negative.sub(positive).div(2 * N), positive, negative, lambda, u, v };
  };
  return defineMethod({
    name: "barlow-twins",
    form,
    target,
    checkValues,
    gradient(f) {
      const [n1, n2] = negatives(f, target);
      return combineViews(l2View(f.u1, f.v2, n2), l2View(f.u2, f.v1, n1));
    },
    loss(f) {
      const [n1, n2] = negatives(f, target);
      return btLoss(f.u1, f.v2, lambda, true, n2).add(btLoss(f.u2, f.v1, lambda, true, n1)).mul(0.5);
    },
    reference,
  });
}
