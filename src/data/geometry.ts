/**
 * Geometric augmentation of whole batches: random resized crops and horizontal flips, each sample
 * with its own box and flip, done as one `gridSample` call over a separable sampling grid (the grid
 * `affineGrid` would make, built from two rows: crop, resize and flip in a single resampling pass,
 * bilinear, edge pixels repeated outside the image).
 *
 * Shape letters: N batch, C channels, H/W input size, h/w output size, T crop attempts.
 *
 * @module
 */
import {
  arange,
  type Device,
  gridSample,
  linspace,
  type Operand,
  scope,
  stack,
  Tensor,
  where,
  zeros,
} from "../torch/mod.ts";
import { checkImages, checkProbability, checkRange, coin, uniform } from "./_util.ts";

/** Options of `randomResizedCrop`; the defaults are torchvision's `RandomResizedCrop` and the paper's scale. */
export interface CropOptions {
  /** Output size: a side, or [height, width]. */
  size: number | readonly [number, number];
  /** Range of the crop's area as a fraction of the image's. @default [0.2, 1] */
  scale?: readonly [number, number];
  /** Range of the crop's aspect ratio (width / height), sampled log-uniformly. @default [3 / 4, 4 / 3] */
  ratio?: readonly [number, number];
  /** Probability of a horizontal flip. @default 0.5 */
  flip?: number;
}

/** Crop boxes and flips drawn for a batch by `sampleCrops`. */
export interface CropParams {
  /** Boxes in pixels, one row (x0, y0, width, height) per sample: [N, 4], float32. */
  boxes: Tensor;
  /** −1 where the sample is flipped, 1 elsewhere: [N], float32. */
  flips: Tensor;
}

const ATTEMPTS = 10;

/** Normalises a size option to [h, w]. */
export function sizeOf(size: number | readonly [number, number]): [number, number] {
  const [h, w] = typeof size === "number" ? [size, size] : size;
  if (!Number.isInteger(h) || !Number.isInteger(w) || h < 1 || w < 1) {
    throw new RangeError(`Crop size must be positive integers, got ${JSON.stringify(size)}`);
  }
  return [h, w];
}

/** The fallback crop of torchvision when every attempt fails: the largest centred box within the ratio range. */
function fallback(H: number, W: number, ratio: readonly [number, number]): [number, number] {
  const r = W / H;
  if (r < ratio[0]) return [W, Math.round(W / ratio[0])];
  if (r > ratio[1]) return [Math.round(H * ratio[1]), H];
  return [W, H];
}

/** The fallback box [width, height] of every sample (tensor sizes: [N] each). */
function fallbackOf(H: Tensor, W: Tensor, ratio: readonly [number, number]): [Tensor, Tensor] {
  const r = W.div(H); // [N]
  const fw = where(r.gt(ratio[1]), H.mul(ratio[1]).round(), W);
  const fh = where(r.lt(ratio[0]), W.div(ratio[0]).round(), H);
  return [fw, fh];
}

/**
 * Draws one random resized crop per sample, as torchvision's `RandomResizedCrop` does per image:
 * up to 10 attempts of (area fraction uniform in `scale`, log-ratio uniform in `ratio`), the first
 * that fits wins, else the centred fallback box; the position is uniform over the valid offsets.
 * All draws are on `like`'s device (no host round trip).
 *
 * The image size is one [H, W] for the whole batch, or a tensor [N, 2] of each sample's [height,
 * width] at the top-left of its canvas (an image folder's letterboxed batch): boxes then lie inside
 * each sample's own image, so a crop can cover the whole photograph and nothing else.
 *
 * @param like A tensor on the device to draw on (usually the batch).
 * @param n Number of samples.
 * @param imageSize The input [H, W], or per-sample sizes [N, 2] (any numeric dtype, on `like`'s device).
 * @param options Scale, ratio and flip probability (the output size is not used here).
 * @returns Boxes [N, 4] and flips [N].
 *
 * @example Usage
 * ```ts
 * import { manualSeed, scope, zeros } from "@unigrad/unigrad";
 * import { sampleCrops } from "@unigrad/unigrad/data";
 * import assert from "node:assert/strict";
 *
 * manualSeed(0);
 * const shapes = scope(() => {
 *   const { boxes, flips } = sampleCrops(zeros([1]), 8, [32, 32], { scale: [0.2, 1] });
 *   return [boxes.shape, flips.shape];
 * });
 * assert.deepEqual(shapes, [[8, 4], [8]]);
 * ```
 */
export function sampleCrops(
  like: Tensor,
  n: number,
  imageSize: readonly [number, number] | Tensor,
  options: Omit<CropOptions, "size"> = {},
): CropParams {
  const { scale = [0.2, 1], ratio = [3 / 4, 4 / 3], flip = 0.5 } = options;
  checkRange(scale, "Crop scale", 0);
  checkRange(ratio, "Crop ratio", 0);
  checkProbability(flip, "Flip probability");
  const perImage = imageSize instanceof Tensor;
  if (perImage && !(imageSize.ndim === 2 && imageSize.size(0) === n && imageSize.size(1) === 2)) {
    throw new TypeError(`Crop image sizes must be [${n}, 2] (height, width), got [${imageSize.shape.join(", ")}]`);
  }
  return scope(() => {
    const dev = { device: like.device };
    let H: Operand, W: Operand, fw: Operand, fh: Operand, Hc: Operand, Wc: Operand;
    if (perImage) {
      const hw = imageSize.to({ dtype: "float32", device: like.device }); // [N, 2]
      H = hw.select(1, 0); // [N]
      W = hw.select(1, 1); // [N]
      [fw, fh] = fallbackOf(H, W, ratio);
      Hc = H.view([n, 1]); // [N, 1]
      Wc = W.view([n, 1]); // [N, 1]
    } else {
      [H, W] = imageSize as readonly [number, number];
      [fw, fh] = fallback(H, W, ratio);
      [Hc, Wc] = [H, W];
    }
    const area = uniform(like, n * ATTEMPTS, scale[0], scale[1]).view([n, ATTEMPTS]).mul(mulOf(Hc, Wc)); // [N, T]
    const logRatio = uniform(like, n * ATTEMPTS, Math.log(ratio[0]), Math.log(ratio[1])).view([n, ATTEMPTS]);
    const r = logRatio.exp();
    const w = area.mul(r).sqrt().round(); // [N, T]
    const h = area.div(r).sqrt().round(); // [N, T]
    const fits = w.le(Wc).logicalAnd(h.le(Hc)).logicalAnd(w.gt(0)).logicalAnd(h.gt(0)).to("float32"); // [N, T]
    // First fitting attempt: the largest of fits·(T − t).
    const rank = fits.mul(arange(ATTEMPTS, 0, -1, dev)); // [N, T]
    const first = rank.argmax(1, true); // [N, 1]
    const any = fits.amax(1); // [N]
    const pick = (v: Tensor, fb: Operand) => {
      const chosen = v.gather(1, first).view([n]); // [N]
      return typeof fb === "number" ? chosen.sub(fb).mul(any).add(fb) : where(any.gt(0), chosen, fb);
    };
    const bw = pick(w, fw);
    const bh = pick(h, fh);
    const x0 = uniform(like, n, 0, 1).mul(room(W, bw)).floor(); // [N]
    const y0 = uniform(like, n, 0, 1).mul(room(H, bh)).floor(); // [N]
    const boxes = stack([x0, y0, bw, bh], 1); // [N, 4]
    const flips = coin(like, n, flip).mul(-2).add(1); // [N]
    return { boxes, flips };
  });
}

/** H·W for numbers or tensors. */
function mulOf(a: Operand, b: Operand): Operand {
  return typeof a === "number" ? (typeof b === "number" ? a * b : b.mul(a)) : a.mul(b);
}

/** Number of valid offsets of a box of side `box` in a side `full`: full + 1 − box ([N]). */
function room(full: Operand, box: Tensor): Tensor {
  return typeof full === "number" ? box.rsub(full + 1) : full.add(1).sub(box);
}

/**
 * Crops each sample to its box, resizes it to `size` and flips it where `flips` is −1, in one
 * bilinear resampling pass (`align_corners = false`, edge pixels repeated). A box covering the whole
 * image with flip 1 and the same output size returns the input.
 *
 * @param x Float images [N, C, H, W].
 * @param params Boxes [N, 4] (x0, y0, width, height in pixels) and flips [N].
 * @param size Output side or [h, w].
 * @returns [N, C, h, w].
 *
 * @example Usage
 * ```ts
 * import { manualSeed, rand, scope } from "@unigrad/unigrad";
 * import { resizedCrop, sampleCrops } from "@unigrad/unigrad/data";
 * import assert from "node:assert/strict";
 *
 * manualSeed(0);
 * const shape = scope(() => {
 *   const x = rand([4, 3, 32, 32]);
 *   return resizedCrop(x, sampleCrops(x, 4, [32, 32]), 16).shape;
 * });
 * assert.deepEqual(shape, [4, 3, 16, 16]);
 * ```
 */
export function resizedCrop(x: Tensor, params: CropParams, size: number | readonly [number, number]): Tensor {
  const [N, , H, W] = checkImages(x, "crop");
  const [oh, ow] = sizeOf(size);
  return scope(() => {
    const [x0, y0, bw, bh] = params.boxes.t().chunk(4, 0).map((c) => c.view([N])); // 4 × [N]
    // Normalised input coordinate = scale · output coordinate + centre (both in [−1, 1]).
    const sx = bw.div(W).mul(params.flips);
    const sy = bh.div(H);
    const cx = x0.mul(2).add(bw).div(W).sub(1);
    const cy = y0.mul(2).add(bh).div(H).sub(1);
    // The map has no rotation or shear, so the sampling grid is separable: x' = sx·x + cx along the
    // width, y' = sy·y + cy along the height. Broadcasting an [N, w] and an [N, h] row into the
    // [N, h, w, 2] grid writes it once; affineGrid (what a PyTorch script calls) multiplies a 3-vector
    // by a 3×2 matrix at every pixel in tiny batched products, ~6× the time here.
    const gx = sx.view([N, 1]).mul(gridCoordinates(ow, x.device).view([1, ow])).add(cx.view([N, 1])); // [N, w]
    const gy = sy.view([N, 1]).mul(gridCoordinates(oh, x.device).view([1, oh])).add(cy.view([N, 1])); // [N, h]
    const grid = stack([gx.view([N, 1, ow]).expand([N, oh, ow]), gy.view([N, oh, 1]).expand([N, oh, ow])], 3); // [N, h, w, 2]
    return gridSample(x, grid, { padding: "border" }); // [N, C, h, w]
  });
}

/**
 * The normalised coordinates of n output pixel centres in [−1, 1] (align_corners false), computed as
 * libtorch's affine_grid computes them: linspace(−1, 1, n)·(n − 1)/n, and 0 for a single pixel.
 */
function gridCoordinates(n: number, device: Device): Tensor {
  return n <= 1 ? zeros([1], { device }) : linspace(-1, 1, n, { device }).mul((n - 1) / n);
}

/**
 * Random resized crop and horizontal flip with per-sample parameters (torchvision's
 * `RandomResizedCrop` followed by `RandomHorizontalFlip`, batched).
 *
 * @param x Float images [N, C, H, W].
 * @param options Output size, scale, ratio, flip probability.
 * @returns [N, C, h, w].
 *
 * @example Usage
 * ```ts
 * import { manualSeed, rand, scope } from "@unigrad/unigrad";
 * import { randomResizedCrop } from "@unigrad/unigrad/data";
 * import assert from "node:assert/strict";
 *
 * manualSeed(0);
 * assert.deepEqual(scope(() => randomResizedCrop(rand([4, 3, 32, 32]), { size: [24, 16] }).shape), [4, 3, 24, 16]);
 * ```
 */
export function randomResizedCrop(x: Tensor, options: CropOptions): Tensor {
  const [N, , H, W] = checkImages(x, "randomResizedCrop");
  return scope(() => resizedCrop(x, sampleCrops(x, N, [H, W], options), options.size));
}
