/**
 * Gaussian blur of whole batches with a random sigma per sample, as a separable depthwise
 * convolution: the batch is viewed as [1, N·C, H, W] and convolved with `groups = N·C`, one
 * vertical and one horizontal pass, each channel with its own sample's kernel. Borders are
 * reflected (as torchvision). A sample that is not blurred gets a unit impulse, so no sample is
 * selected on the host and the GPU never waits.
 *
 * Shape letters: N batch, C channels, H/W size, K kernel taps.
 *
 * @module
 */
import { arange, conv2d, scope, type Tensor } from "../torch/mod.ts";
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

/** Reflected indices −r..n−1+r into 0..n−1 (torchvision's "reflect"): [n + 2r], int64. */
function reflectIndex(n: number, r: number, like: Tensor): Tensor {
  // Scalar arithmetic promotes to float; the values stay exact small integers.
  return scope(() => arange(-r, n + r, 1, { device: like.device }).abs().rsub(n - 1).abs().rsub(n - 1).to("int64"));
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
 * import { gaussianBlur, ones, scope } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const y = scope(() => gaussianBlur(ones([2, 3, 16, 16]), { p: 1 }).sub(1).abs().max().item());
 * assert.ok(y < 1e-5); // a flat image stays flat
 * ```
 */
export function gaussianBlur(x: Tensor, options: BlurOptions = {}): Tensor {
  const [N, C, H, W] = checkImages(x, "gaussianBlur");
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
    const w = k.div(k.sum(1, true)).view([N, 1, K]).expand([N, C, K]).reshape([N * C, 1, K]); // [N·C, 1, K]
    const padded = x.indexSelect(2, reflectIndex(H, r, x)).indexSelect(3, reflectIndex(W, r, x)); // [N, C, H+2r, W+2r]
    const flat = padded.reshape([1, N * C, H + 2 * r, W + 2 * r]);
    const vertical = conv2d(flat, w.view([N * C, 1, K, 1]), null, { groups: N * C }); // [1, N·C, H, W+2r]
    const both = conv2d(vertical, w.view([N * C, 1, 1, K]), null, { groups: N * C }); // [1, N·C, H, W]
    return both.view([N, C, H, W]);
  });
}
