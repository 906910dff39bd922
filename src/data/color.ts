/**
 * Colour augmentation of whole batches with per-sample random factors (torchvision semantics on
 * float images in [0, 1]): brightness, contrast, saturation and hue jitter in a random order,
 * random grayscale, solarisation and per-channel normalisation.
 *
 * Random order: torchvision draws one order of the four jitter ops per image. Doing that exactly on
 * a batch costs either 24 gathers or every op at every one of the four positions (16 op passes); we
 * split the batch into `groups` contiguous chunks (batches come shuffled, so a chunk is a random
 * subset) and give each chunk its own order: the same four passes over the data as one fixed order,
 * at `groups` × the kernel launches (4 chunks: about 100 small kernels per view on CUDA).
 *
 * Shape letters: N batch, C channels (1 or 3), H/W size.
 *
 * @module
 */
import { arange, cat, full, randperm, scope, type Tensor, where } from "../torch/mod.ts";
import { checkImages, checkProbability, coin, perSample, uniform } from "./_util.ts";

// ITU-R 601-2 luma weights, as torchvision's rgb_to_grayscale.
const LUMA = [0.2989, 0.587, 0.114] as const;

/**
 * Luma of RGB images (torchvision's weights 0.2989, 0.587, 0.114); a 1-channel batch is returned as is.
 *
 * @param x Float images [N, 3, H, W] or [N, 1, H, W].
 * @returns [N, 1, H, W].
 *
 * @example Usage
 * ```ts
 * import { grayscale } from "@unigrad/unigrad/data";
 * import { rand, scope } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(scope(() => grayscale(rand([2, 3, 4, 4])).shape), [2, 1, 4, 4]);
 * ```
 */
export function grayscale(x: Tensor): Tensor {
  const [, C] = checkImages(x, "grayscale");
  if (C === 1) return x.share();
  return scope(() => x.narrow(1, 0, 1).mul(LUMA[0]).add(x.narrow(1, 1, 1), LUMA[1]).add(x.narrow(1, 2, 1), LUMA[2]));
}

/** degenerate + f·(x − degenerate), clamped to [0, 1]; f is [N]. */
function blend(x: Tensor, degenerate: Tensor, f: Tensor): Tensor {
  return scope(() => x.sub(degenerate).mul(perSample(f)).add(degenerate).clamp_(0, 1));
}

/**
 * Multiplies each sample by its factor f [N] (0 black, 1 unchanged), clamped to [0, 1].
 *
 * @example Usage
 * ```ts
 * import { adjustBrightness } from "@unigrad/unigrad/data";
 * import { ones, scope, tensor } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const y = scope(() => adjustBrightness(ones([2, 1, 1, 1]).mul(0.5), tensor([0, 2])).flatten().toArray());
 * assert.deepEqual(y, [0, 1]); // black, and 0.5·2 clamped to 1
 * ```
 */
export function adjustBrightness(x: Tensor, f: Tensor): Tensor {
  checkImages(x, "adjustBrightness");
  return scope(() => x.mul(perSample(f)).clamp_(0, 1));
}

/**
 * Blends each sample with its mean gray level by its factor f [N] (0 flat gray, 1 unchanged).
 *
 * @example Usage
 * ```ts
 * import { adjustContrast } from "@unigrad/unigrad/data";
 * import { rand, scope, tensor } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const flat = scope(() => adjustContrast(rand([1, 3, 4, 4]), tensor([0])).std().item());
 * assert.ok(flat < 1e-6); // factor 0: one gray level
 * ```
 */
export function adjustContrast(x: Tensor, f: Tensor): Tensor {
  checkImages(x, "adjustContrast");
  return scope(() => blend(x, grayscale(x).mean([1, 2, 3], true), f)); // mean [N, 1, 1, 1]
}

/**
 * Blends each sample with its grayscale by its factor f [N] (0 gray, 1 unchanged); 1-channel input is unchanged.
 *
 * @example Usage
 * ```ts
 * import { adjustSaturation } from "@unigrad/unigrad/data";
 * import { rand, scope, tensor } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const spread = scope(() => adjustSaturation(rand([1, 3, 4, 4]), tensor([0])).std(1).max().item());
 * assert.ok(spread < 1e-6); // factor 0: the channels are equal
 * ```
 */
export function adjustSaturation(x: Tensor, f: Tensor): Tensor {
  const [, C] = checkImages(x, "adjustSaturation");
  if (C === 1) return x.share();
  return scope(() => blend(x, grayscale(x), f));
}

/**
 * Rotates each sample's hue by its factor f [N] in [−0.5, 0.5] turns (through HSV, as torchvision);
 * 1-channel input is unchanged.
 *
 * @example Usage
 * ```ts
 * import { adjustHue } from "@unigrad/unigrad/data";
 * import { scope, tensor } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const red = tensor([1, 0, 0]).reshape([1, 3, 1, 1]);
 * const y = scope(() => adjustHue(red, tensor([1 / 3])).flatten().toArray() as number[]);
 * assert.ok(Math.abs(y[1] - 1) < 1e-5 && y[0] < 1e-5); // a third of a turn: red → green
 * red.dispose();
 * ```
 */
export function adjustHue(x: Tensor, f: Tensor): Tensor {
  const [, C] = checkImages(x, "adjustHue");
  if (C === 1) return x.share();
  return scope(() => {
    const [r, g, b] = x.chunk(3, 1); // 3 × [N, 1, H, W]
    const v = x.amax(1, true); // [N, 1, H, W], the HSV value
    const delta = v.sub(x.amin(1, true)); // chroma = v·s
    const d = delta.clamp(1e-12);
    // 6·hue (torchvision's rc, gc, bc differences written out): (g − b)/d where r is the largest,
    // (b − r)/d + 2 where g is, (r − g)/d + 4 elsewhere.
    const h6 = where(v.eq(r), g.sub(b), where(v.eq(g), b.sub(r).add(d, 2), r.sub(g).add(d, 4))).div_(d);
    // HSV → RGB: channel n ∈ (5, 3, 1): v − v·s·clamp(min(k, 4 − k), 0, 1), k = (n + 6·(hue + f)) mod 6.
    const n = arange(5, 0, -2, { device: x.device }).view([1, 3, 1, 1]);
    const k = h6.add(perSample(f.mul(6))).add(n).remainder(6); // [N, 3, H, W]
    const t = k.minimum(k.rsub(4)).clamp_(0, 1);
    return v.sub(t.mul_(delta));
  });
}

/** Options of `colorJitter` (torchvision's `ColorJitter` wrapped in `RandomApply`); defaults are the paper's. */
export interface JitterOptions {
  /** Brightness factor drawn from [max(0, 1 − b), 1 + b]. @default 0.4 */
  brightness?: number;
  /** Contrast factor drawn from [max(0, 1 − c), 1 + c]. @default 0.4 */
  contrast?: number;
  /** Saturation factor drawn from [max(0, 1 − s), 1 + s]. @default 0.4 */
  saturation?: number;
  /** Hue shift drawn from [−h, h] turns (h ≤ 0.5). @default 0.1 */
  hue?: number;
  /** Probability that a sample is jittered at all. @default 0.8 */
  p?: number;
  /** Number of batch chunks that each draw their own order of the four ops (see the module doc). @default 4 */
  groups?: number;
}

type Op = (x: Tensor, f: Tensor) => Tensor;

/**
 * Colour jitter with per-sample factors, applied with probability `p` per sample, the four ops in a
 * random order per batch chunk. A zero magnitude leaves that op out.
 *
 * @param x Float images [N, C, H, W] in [0, 1].
 * @param options Magnitudes, probability and order groups.
 * @returns [N, C, H, W] in [0, 1].
 *
 * @example Usage
 * ```ts
 * import { colorJitter } from "@unigrad/unigrad/data";
 * import { manualSeed, rand, scope } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * manualSeed(0);
 * const [lo, hi] = scope(() => {
 *   const y = colorJitter(rand([4, 3, 8, 8]), { brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1, p: 0.8 });
 *   return [y.min().item(), y.max().item()];
 * });
 * assert.ok(lo >= 0 && hi <= 1);
 * ```
 */
export function colorJitter(x: Tensor, options: JitterOptions = {}): Tensor {
  const [N] = checkImages(x, "colorJitter");
  const { brightness = 0.4, contrast = 0.4, saturation = 0.4, hue = 0.1, p = 0.8, groups = 4 } = options;
  checkProbability(p, "Jitter probability");
  for (const [name, v] of Object.entries({ brightness, contrast, saturation })) {
    if (!(v >= 0)) throw new RangeError(`Jitter ${name} must be >= 0, got ${v}`);
  }
  if (!(hue >= 0 && hue <= 0.5)) throw new RangeError(`Jitter hue must be in [0, 0.5], got ${hue}`);
  if (!Number.isInteger(groups) || groups < 1) {
    throw new RangeError(`Jitter groups must be a positive integer, got ${groups}`);
  }
  return scope(() => {
    const on = coin(x, N, p); // [N]
    const ops: [Op, Tensor][] = [];
    // Identity factor (1, or 0 for hue) where a sample is not jittered.
    const factor = (m: number, id: number) => uniform(x, N, Math.max(0, 1 - m), 1 + m).sub(id).mul(on).add(id);
    if (brightness > 0) ops.push([adjustBrightness, factor(brightness, 1)]);
    if (contrast > 0) ops.push([adjustContrast, factor(contrast, 1)]);
    if (saturation > 0) ops.push([adjustSaturation, factor(saturation, 1)]);
    if (hue > 0) ops.push([adjustHue, uniform(x, N, -hue, hue).mul(on)]);
    if (ops.length === 0) return x.share();
    const g = Math.min(groups, N);
    const step = Math.ceil(N / g);
    const chunks: Tensor[] = [];
    for (let start = 0; start < N; start += step) {
      const len = Math.min(step, N - start);
      const order = randperm(ops.length).data() as BigInt64Array; // host draw: the order is a host decision
      let y = x.narrow(0, start, len);
      for (const i of order) y = ops[Number(i)][0](y, ops[Number(i)][1].narrow(0, start, len));
      chunks.push(y);
    }
    return chunks.length === 1 ? chunks[0] : cat(chunks, 0);
  });
}

/**
 * Replaces each sample by its grayscale (repeated over the channels) with probability p.
 *
 * @param x Float images [N, C, H, W].
 * @param p Probability per sample. @default 0.2
 * @returns [N, C, H, W]; 1-channel input is unchanged.
 *
 * @example Usage
 * ```ts
 * import { manualSeed, rand, scope } from "@unigrad/unigrad";
 * import { randomGrayscale } from "@unigrad/unigrad/data";
 * import assert from "node:assert/strict";
 *
 * manualSeed(0);
 * const spread = scope(() => randomGrayscale(rand([2, 3, 4, 4]), 1).std(1).max().item());
 * assert.ok(spread < 1e-6); // p = 1: every sample gray, still 3 channels
 * ```
 */
export function randomGrayscale(x: Tensor, p = 0.2): Tensor {
  const [N, C] = checkImages(x, "randomGrayscale");
  checkProbability(p, "Grayscale probability");
  if (C === 1 || p === 0) return x.share();
  return scope(() => where(perSample(coin(x, N, p)).gt(0), grayscale(x), x));
}

/**
 * Solarises each sample with probability p: pixels at or above `threshold` become 1 − x.
 *
 * @param x Float images [N, C, H, W] in [0, 1].
 * @param p Probability per sample.
 * @param threshold @default 0.5
 * @returns [N, C, H, W].
 *
 * @example Usage
 * ```ts
 * import { ones, scope } from "@unigrad/unigrad";
 * import { randomSolarize } from "@unigrad/unigrad/data";
 * import assert from "node:assert/strict";
 *
 * const y = scope(() => randomSolarize(ones([1, 1, 2, 2]).mul(0.8), 1).max().item());
 * assert.ok(Math.abs(y - 0.2) < 1e-6); // above the threshold: 1 − x
 * ```
 */
export function randomSolarize(x: Tensor, p: number, threshold = 0.5): Tensor {
  const [N] = checkImages(x, "randomSolarize");
  checkProbability(p, "Solarize probability");
  if (p === 0) return x.share();
  return scope(() => where(perSample(coin(x, N, p)).gt(0).logicalAnd(x.ge(threshold)), x.rsub(1), x));
}

/**
 * (x − mean) / std per channel, with constants made on the images' device (no host copy).
 *
 * @param x Float images [N, C, H, W].
 * @param mean One value per channel.
 * @param std One value per channel, each > 0.
 * @returns [N, C, H, W].
 *
 * @example Usage
 * ```ts
 * import { normalizeImages } from "@unigrad/unigrad/data";
 * import { ones, scope } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const y = scope(() => normalizeImages(ones([1, 1, 2, 2]), [0.5], [0.25]).max().item());
 * assert.equal(y, 2); // (1 − 0.5) / 0.25
 * ```
 */
export function normalizeImages(x: Tensor, mean: readonly number[], std: readonly number[]): Tensor {
  const [, C] = checkImages(x, "normalizeImages");
  if (mean.length !== C || std.length !== C) {
    throw new TypeError(`Cannot normalize ${C}-channel images with ${mean.length} means and ${std.length} stds`);
  }
  if (std.some((s) => !(s > 0))) throw new RangeError(`Normalisation std must be > 0, got [${std}]`);
  return scope(() => {
    const dev = { device: x.device };
    const column = (v: readonly number[]) => cat(v.map((c) => full([1, 1, 1, 1], c, dev)), 1); // [1, C, 1, 1]
    return x.sub(column(mean)).div(column(std));
  });
}
