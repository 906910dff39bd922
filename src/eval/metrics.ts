/**
 * Representation metrics: alignment and uniformity (Wang & Isola 2020), the per-dimension standard
 * deviation of l2-normalised features (the collapse detector of SimSiam), and the effective rank
 * (Roy & Vetterli 2007) of a covariance matrix or of UniGrad's correlation matrix F.
 *
 * Shapes: N rows, D feature width. Every function reads its result back to the host (one sync).
 *
 * @module
 */
import { eigh, noGrad, normalize, onesLike, scope, type Tensor } from "../torch/mod.ts";

function checkFeatures(z: Tensor, op: string, minRows = 1): void {
  if (z.ndim !== 2) throw new TypeError(`Cannot compute ${op}: features must be [N, D], got [${z.shape}]`);
  if (z.size(0) < minRows) {
    throw new RangeError(`Cannot compute ${op}: needs at least ${minRows} rows, got ${z.size(0)}`);
  }
}

function unit(z: Tensor): Tensor {
  return normalize(z.to({ dtype: "float64" }), 1); // [N, D]
}

/**
 * Alignment: the mean over rows of ‖u1 − u2‖^α for l2-normalised views (0 = perfectly aligned,
 * 4 = opposite). The inputs are normalised here.
 *
 * @param z1 Features of view 1 [N, D].
 * @param z2 Features of view 2 [N, D].
 * @param alpha The exponent α. @default 2
 * @returns The alignment, in [0, 2^α].
 * @throws {TypeError} When the shapes differ or are not [N, D].
 *
 * @example Usage
 * ```ts
 * import { alignment } from "@unigrad/unigrad/eval";
 * import { tensor } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * using a = tensor([[1, 0], [0, 2]]);
 * using b = tensor([[3, 0], [0, -1]]);
 * assert.equal(alignment(a, b), 2); // (0 + 4) / 2
 * ```
 */
export function alignment(z1: Tensor, z2: Tensor, alpha = 2): number {
  checkFeatures(z1, "alignment");
  if (z1.shape.join() !== z2.shape.join()) {
    throw new TypeError(`Cannot compute alignment: z1 has shape [${z1.shape}] but z2 has shape [${z2.shape}]`);
  }
  return noGrad(() => scope(() => unit(z1).sub(unit(z2)).norm(2, 1).pow(alpha).mean().item()));
}

/**
 * Uniformity: log of the mean of exp(−t‖ui − uj‖²) over all pairs i < j of l2-normalised rows.
 * Lower is more uniform; identical rows give 0, the minimum on the sphere tends to −4 for large N
 * and D.
 *
 * @param z Features [N, D], N ≥ 2 (normalised here); memory is O(N²).
 * @param t The temperature t. @default 2
 * @returns The uniformity, ≤ 0.
 *
 * @example Usage
 * ```ts
 * import { tensor } from "@unigrad/unigrad";
 * import { uniformity } from "@unigrad/unigrad/eval";
 * import assert from "node:assert/strict";
 *
 * using z = tensor([[1, 0], [-1, 0]]); // one pair at squared distance 4
 * assert.ok(Math.abs(uniformity(z) - -8) < 1e-12);
 * ```
 */
export function uniformity(z: Tensor, t = 2): number {
  checkFeatures(z, "uniformity", 2);
  return noGrad(() =>
    scope(() => {
      const u = unit(z); // [N, D]
      const n = u.size(0);
      const sq = u.mm(u.t()).mul(-2).add(2).clamp(0); // [N, N] ‖ui − uj‖² = 2 − 2 ui·uj
      const pairs = sq.maskedSelect(onesLike(sq).triu(1).ne(0)); // [N(N−1)/2] pairs i < j
      return pairs.mul(-t).logsumexp(0).item() - Math.log((n * (n - 1)) / 2);
    })
  );
}

/** Per-dimension standard deviation of l2-normalised features. */
export interface FeatureStd {
  /** Mean over dimensions: about 1/√D for healthy features, 0 when collapsed. */
  mean: number;
  /** Smallest over dimensions: 0 when some direction has collapsed. */
  min: number;
}

/**
 * The standard deviation over rows of each dimension of the l2-normalised features (population
 * formula, divisor N): the SimSiam collapse detector. Healthy features give about 1/√D per
 * dimension; a collapsed representation gives 0.
 *
 * @param z Features [N, D] (normalised here).
 * @returns The mean and minimum over dimensions.
 *
 * @example Usage
 * ```ts
 * import { featureStd } from "@unigrad/unigrad/eval";
 * import { tensor } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * using collapsed = tensor([[3, 4], [6, 8], [1.5, 2]]);
 * assert.deepEqual(featureStd(collapsed), { mean: 0, min: 0 });
 * ```
 */
export function featureStd(z: Tensor): FeatureStd {
  checkFeatures(z, "feature std");
  return noGrad(() =>
    scope(() => {
      const std = unit(z).std(0, false); // [D]
      return { mean: std.mean().item(), min: std.amin().item() };
    })
  );
}

/**
 * Effective rank exp(H(p)) of a symmetric positive semi-definite matrix, where p are its eigenvalues
 * divided by their sum and H is the Shannon entropy (Roy & Vetterli 2007). It runs from 1 (one
 * direction) to D (isotropic). A zero matrix gives 0.
 *
 * @param matrix A covariance or correlation matrix [D, D], e.g. UniGrad's F.
 * @returns The effective rank, in [1, D] (0 for a zero matrix).
 * @throws {TypeError} When the input is not square.
 *
 * @example Usage
 * ```ts
 * import { effectiveRank } from "@unigrad/unigrad";
 * import { eye } from "@unigrad/unigrad/torch";
 * import assert from "node:assert/strict";
 *
 * using identity = eye(5);
 * assert.ok(Math.abs(effectiveRank(identity) - 5) < 1e-9);
 * ```
 */
export function effectiveRank(matrix: Tensor): number {
  const s = matrix.shape;
  if (s.length !== 2 || s[0] !== s[1]) {
    throw new TypeError(`Cannot compute effective rank: expected [D, D], got [${s}]`);
  }
  return noGrad(() =>
    scope(() => {
      const lambda = eigh(matrix.to({ dtype: "float64" })).values.clamp(0); // [D]
      const total = lambda.sum().item();
      if (!(total > 0)) return 0;
      const p = lambda.div(total); // [D]
      return Math.exp(-p.mul(p.clamp(1e-300).log()).sum().item());
    })
  );
}

/**
 * Effective rank of the l2-normalised features' second-moment matrix F = uᵀu / N (UniGrad's F for
 * one batch): 1 when every row points the same way, D when the rows fill every direction equally.
 *
 * @param z Features [N, D] (normalised here).
 * @returns The effective rank, in [1, min(N, D)].
 *
 * @example Usage
 * ```ts
 * import { featureEffectiveRank } from "@unigrad/unigrad/eval";
 * import { tensor } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * using collapsed = tensor([[1, 2, 2], [2, 4, 4]]);
 * assert.ok(Math.abs(featureEffectiveRank(collapsed) - 1) < 1e-9);
 * ```
 */
export function featureEffectiveRank(z: Tensor): number {
  checkFeatures(z, "feature effective rank");
  return scope(() => {
    const u = noGrad(() => unit(z)); // [N, D]
    return effectiveRank(noGrad(() => u.t().mm(u).div(u.size(0)))); // F [D, D]
  });
}
