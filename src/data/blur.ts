/**
 * Gaussian blur of whole batches with a random sigma per sample. The blur with reflected borders (as
 * torchvision's) is linear along each axis, so each sample's separable blur is one [H, H] matrix
 * (the kernel's taps, borders folded in) applied along the columns and one [W, W] along the rows:
 * two batched matrix products. (A depthwise convolution over N·C groups computes the same with
 * fewer multiply-adds, but took more CPU time: 1.3× at 224², 3× at 32², one thread.) On CUDA a sample
 * that is not blurred gets the identity matrices, so no sample is selected on the host and the GPU
 * never waits; on the CPU only the samples drawn for blurring are computed.
 *
 * Shape letters: N batch, C channels, H/W size, K kernel taps.
 *
 * @module
 */
import { arange, scope, type Tensor, zeros } from "../torch/mod.ts";
import { checkImages, checkProbability, checkRange, coin, uniform } from "./_util.ts";

/** Options of `gaussianBlur`; defaults are the paper's (MoCo v2: sigma in [0.1, 2], p 0.5). */
export interface BlurOptions {
  /** Probability that a sample is blurred. @default 0.5 */
  p?: number;
  /** Range of sigma in pixels, drawn uniformly per sample. @default [0.1, 2] */
  sigma?: readonly [number, number];
  /** Odd kernel size. @default the odd number nearest 10 % of the image side, at least 3 (23 at 224) */
  kernelSize?: number;
}

/** Reflected source index of output row i and tap t: reflect(i + t − r) into 0..n−1 ([n, K], int64). */
function reflectIndex(n: number, r: number, like: Tensor): Tensor {
  return scope(() => {
    const dev = { device: like.device };
    const at = arange(0, n, 1, dev).view([n, 1]).add(arange(-r, r + 1, 1, dev).view([1, 2 * r + 1])); // [n, K]
    // Scalar arithmetic promotes to float; the values stay exact small integers.
    return at.abs().rsub(n - 1).abs().rsub(n - 1).to("int64");
  });
}

/** Per-sample blur matrices [N, n, n] along one axis of length n: row i holds the taps at their reflected sources. */
function blurMatrix(k: Tensor, n: number, r: number): Tensor {
  return scope(() => {
    const [N, K] = k.shape;
    const index = reflectIndex(n, r, k).view([1, n, K]).expand([N, n, K]); // [N, n, K]
    return zeros([N, n, n], { device: k.device }).scatterAdd(2, index, k.view([N, 1, K]).expand([N, n, K])); // [N, n, n]
  });
}

/** Blurs x [N, C, H, W] with per-sample normalised taps w [N, K] (K = 2r + 1), reflected borders. */
function blurWith(x: Tensor, w: Tensor, r: number): Tensor {
  const [N, C, H, W] = x.shape;
  return scope(() => {
    const rows = blurMatrix(w, W, r).transpose(1, 2); // [N, W, W]: x·rows blurs along W
    const cols = blurMatrix(w, H, r).view([N, 1, H, H]); // cols·x blurs along H
    const horizontal = x.reshape([N, C * H, W]).bmm(rows).view([N, C, H, W]); // [N, C, H, W]
    return cols.matmul(horizontal); // [N, C, H, W]
  });
}

/**
 * Blurs each sample with probability p by a Gaussian of random sigma.
 *
 * @param x Float images [N, C, H, W].
 * @param options Probability, sigma range, kernel size.
 * @returns [N, C, H, W].
 *
 * @example Usage
 * ```ts
 * import { gaussianBlur } from "@unigrad/unigrad/data";
 * import { ones, scope } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const y = scope(() => gaussianBlur(ones([2, 3, 16, 16]), { p: 1 }).sub(1).abs().max().item());
 * assert.ok(y < 1e-5); // a flat image stays flat
 * ```
 */
export function gaussianBlur(x: Tensor, options: BlurOptions = {}): Tensor {
  const [N, , H, W] = checkImages(x, "gaussianBlur");
  const { p = 0.5, sigma = [0.1, 2] } = options;
  const kernelSize = options.kernelSize ?? Math.max(3, 2 * Math.round(Math.min(H, W) * 0.05) + 1);
  checkProbability(p, "Blur probability");
  checkRange(sigma, "Blur sigma", 0);
  if (!Number.isInteger(kernelSize) || kernelSize < 1 || kernelSize % 2 === 0) {
    throw new RangeError(`Blur kernel size must be a positive odd integer, got ${kernelSize}`);
  }
  const r = Math.min(kernelSize >> 1, H - 1, W - 1);
  if (p === 0 || r === 0) return x.share();
  return scope(() => {
    const K = 2 * r + 1;
    // sigma → 1e-3 where the sample is not blurred: the kernel is then a unit impulse.
    const on = coin(x, N, p);
    const s = uniform(x, N, sigma[0], sigma[1]).sub(1e-3).mul(on).add(1e-3); // [N]
    const taps = arange(-r, r + 1, 1, { device: x.device }).square().view([1, K]); // [1, K]
    const k = taps.div(s.square().mul(-2).view([N, 1])).exp(); // [N, K]
    const w = k.div(k.sum(1, true)); // [N, K], each row sums to 1
    if (x.device !== "cpu") return blurWith(x, w, r);
    // On the CPU reading `on` costs nothing: blur only the samples drawn for it (the others' identity
    // matrices would give them back unchanged).
    const picked = on.nonzero().view([-1]); // [B] int64
    const B = picked.shape[0];
    if (B === N) return blurWith(x, w, r);
    if (B === 0) return x.share();
    return x.clone().indexCopy_(0, picked, blurWith(x.indexSelect(0, picked), w.indexSelect(0, picked), r));
  });
}
