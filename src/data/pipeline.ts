/**
 * Augmentation augmentations: a list of views, each a crop + colour pipeline, applied to a whole batch on
 * the batch's device. `augmentation(name)` builds the named ones: the paper's MoCo-v2 views, BYOL's
 * asymmetric pair and a grayscale augmentation for Fashion-MNIST; `multiCrop` adds SwAV-style local views.
 *
 * Per view: random resized crop + flip → colour jitter (p) → random grayscale → Gaussian blur (p)
 * → solarisation (p) → normalisation. Views with identical options are cropped separately, then
 * coloured together as one batch (fewer kernel launches on CUDA).
 *
 * Shape letters: N batch, C channels, H/W input size, h/w view size, V views.
 *
 * @module
 */
import { cat, scope, type Tensor } from "../torch/mod.ts";
import { type BlurOptions, gaussianBlur } from "./blur.ts";
import { colorJitter, type JitterOptions, normalizeImages, randomGrayscale, randomSolarize } from "./color.ts";
import { type CropOptions, resizedCrop, sampleCrops } from "./geometry.ts";

/** Per-channel mean and standard deviation for normalisation. */
export interface Normalization {
  /** One value per channel. */
  mean: readonly number[];
  /** One value per channel, each > 0. */
  std: readonly number[];
}

/** ImageNet's channel statistics (torchvision's). */
export const IMAGENET_STATS: Normalization = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
/** Fashion-MNIST's training-set pixel statistics. */
export const FASHION_MNIST_STATS: Normalization = { mean: [0.286], std: [0.353] };

/** One view's pipeline. Each default is the paper's augmentation (the MoCo v2 augmentation the paper trains with). */
export interface ViewOptions extends CropOptions {
  /** Colour jitter, or null for none. @default {} (brightness, contrast, saturation 0.4, hue 0.1, p 0.8) */
  jitter?: JitterOptions | null;
  /** Probability of grayscale. @default 0.2 */
  grayscale?: number;
  /** Gaussian blur, or null for none. @default {} (p 0.5, sigma 0.1–2) */
  blur?: BlurOptions | null;
  /** Probability of solarisation. @default 0 */
  solarize?: number;
  /** Normalisation, or null to keep [0, 1]. @default IMAGENET_STATS */
  normalize?: Normalization | null;
}

/**
 * uint8 images (0–255) → float32 in [0, 1]; float images are returned as they are (a new handle).
 *
 * @param x Images [N, C, H, W].
 * @returns Float images [N, C, H, W].
 *
 * @example Usage
 * ```ts
 * import { scope, tensor } from "@unigrad/unigrad";
 * import { toFloatImages } from "@unigrad/unigrad/data";
 * import assert from "node:assert/strict";
 *
 * const x = tensor(new Uint8Array([0, 255]), { shape: [1, 1, 1, 2] });
 * assert.deepEqual(scope(() => toFloatImages(x).flatten().toArray()), [0, 1]);
 * x.dispose();
 * ```
 */
export function toFloatImages(x: Tensor): Tensor {
  if (x.dtype !== "uint8") return x.share();
  return scope(() => x.to("float32").mul(1 / 255));
}

/** The colour part of a view: jitter → grayscale → blur → solarise → normalise. */
function colour(x: Tensor, view: ViewOptions): Tensor {
  return scope(() => {
    let y = x;
    if (view.jitter !== null) y = colorJitter(y, view.jitter ?? {});
    y = randomGrayscale(y, view.grayscale ?? 0.2);
    if (view.blur !== null) y = gaussianBlur(y, view.blur ?? {});
    y = randomSolarize(y, view.solarize ?? 0);
    const norm = view.normalize === undefined ? IMAGENET_STATS : view.normalize;
    return norm === null ? y : normalizeImages(y, norm.mean, norm.std);
  });
}

/**
 * One augmented view of a batch, every sample with its own random parameters.
 *
 * @param batch Images [N, C, H, W]: uint8 (0–255) or float in [0, 1].
 * @param view The view's pipeline.
 * @param sizes Each image's [height, width] at the top-left of its canvas ([N, 2], an image folder's
 *   `Batch.sizes`), so crops come from the image only; null when every image fills the batch's [H, W].
 * @returns Float32 [N, C, h, w].
 *
 * @example Usage
 * ```ts
 * import { augment } from "@unigrad/unigrad/data";
 * import { manualSeed, scope, zeros } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * manualSeed(0);
 * const batch = zeros([4, 1, 28, 28], { dtype: "uint8" });
 * const shape = scope(() => augment(batch, { size: 24, scale: [0.5, 1], normalize: null }).shape);
 * assert.deepEqual(shape, [4, 1, 24, 24]);
 * batch.dispose();
 * ```
 */
export function augment(batch: Tensor, view: ViewOptions, sizes: Tensor | null = null): Tensor {
  return scope(() => {
    const x = toFloatImages(batch);
    const [N, , H, W] = x.shape;
    return colour(resizedCrop(x, sampleCrops(x, N, sizes ?? [H, W], view), view.size), view);
  });
}

/**
 * A list of views applied together: `apply(batch)` returns one augmented tensor per view.
 *
 * @example Usage
 * ```ts
 * import { manualSeed, Augmentation, scope, zeros } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * manualSeed(0);
 * const augmentation = new Augmentation([{ size: 16 }, { size: 16, solarize: 0.2 }]);
 * scope(() => {
 *   const images = zeros([4, 3, 32, 32], { dtype: "uint8" });
 *   const views = augmentation.apply(images);
 *   assert.equal(views.length, 2);
 *   assert.deepEqual(views[1].shape, [4, 3, 16, 16]);
 * });
 * ```
 */
export class Augmentation {
  /** The views, in output order. */
  readonly views: readonly ViewOptions[];
  #groups: number[][];

  /**
   * A augmentation of the given views.
   *
   * @param views At least one view.
   * @throws {RangeError} With no views.
   */
  constructor(views: readonly ViewOptions[]) {
    if (views.length === 0) throw new RangeError("A augmentation needs at least one view");
    this.views = views.map((v) => ({ ...v }));
    const byKey = new Map<string, number[]>();
    this.views.forEach((v, i) => {
      const key = JSON.stringify(v);
      byKey.set(key, [...(byKey.get(key) ?? []), i]);
    });
    this.#groups = [...byKey.values()];
  }

  /** Number of views. */
  get length(): number {
    return this.views.length;
  }

  /**
   * Augments a batch into one tensor per view (on the batch's device).
   *
   * @param batch Images [N, C, H, W]: uint8 (0–255) or float in [0, 1].
   * @param sizes Each image's [height, width] at the top-left of its canvas ([N, 2], an image folder's
   *   `Batch.sizes`): crops are drawn from the whole image and nothing else; null when every image
   *   fills the batch's [H, W].
   * @returns V float32 tensors [N, C, h, w], in the order of `views`.
   */
  apply(batch: Tensor, sizes: Tensor | null = null): Tensor[] {
    return scope(() => {
      const x = toFloatImages(batch);
      const [N, , H, W] = x.shape;
      const out: Tensor[] = new Array(this.views.length);
      for (const group of this.#groups) {
        const view = this.views[group[0]];
        const crops = group.map(() => resizedCrop(x, sampleCrops(x, N, sizes ?? [H, W], view), view.size)); // V_g × [N, C, h, w]
        const coloured = colour(crops.length === 1 ? crops[0] : cat(crops, 0), view); // [V_g·N, C, h, w]
        const parts = group.length === 1 ? [coloured] : coloured.chunk(group.length, 0);
        group.forEach((v, j) => out[v] = parts[j].contiguous());
      }
      return out;
    });
  }
}

/** Sizes and scales of the two kinds of views in `multiCrop`. */
export interface MultiCropOptions {
  /** Global views. @default { count: 2, size: 224, scale: [0.14, 1] } */
  global?: { count: number; size: number | readonly [number, number]; scale?: readonly [number, number] };
  /** Local (smaller) views. @default { count: 6, size: 96, scale: [0.05, 0.14] } */
  local?: { count: number; size: number | readonly [number, number]; scale?: readonly [number, number] };
}

/**
 * Multi-crop (SwAV): `global.count` large views followed by `local.count` small ones, all with the
 * colour pipeline of `base`. Views 0 and 1 are the global pair.
 *
 * @param base The colour pipeline (and flip/ratio) shared by every view.
 * @param options Counts, sizes and scales.
 * @returns A augmentation of global + local views.
 *
 * @example Usage
 * ```ts
 * import { manualSeed, multiCrop, scope, zeros } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * manualSeed(0);
 * const views = multiCrop({ flip: 0.5 }, { global: { count: 2, size: 32 }, local: { count: 2, size: 16 } });
 * const batch = zeros([2, 3, 48, 48], { dtype: "uint8" });
 * const shapes = scope(() => views.apply(batch).map((v) => v.shape[2]));
 * assert.deepEqual(shapes, [32, 32, 16, 16]);
 * batch.dispose();
 * ```
 */
export function multiCrop(base: Omit<ViewOptions, "size" | "scale">, options: MultiCropOptions = {}): Augmentation {
  const g = options.global ?? { count: 2, size: 224, scale: [0.14, 1] };
  const l = options.local ?? { count: 6, size: 96, scale: [0.05, 0.14] };
  for (const [name, k] of [["global", g.count], ["local", l.count]] as const) {
    if (!Number.isInteger(k) || k < 0) {
      throw new RangeError(`Multi-crop ${name} count must be an integer >= 0, got ${k}`);
    }
  }
  const make = (o: typeof g, scale: readonly [number, number]) =>
    Array.from({ length: o.count }, () => ({ ...base, size: o.size, scale: o.scale ?? scale }));
  return new Augmentation([...make(g, [0.14, 1]), ...make(l, [0.05, 0.14])]);
}

/**
 * Reads a multi-crop specification: comma-separated `COUNTxSIZE[:LO-HI]` groups, the first the
 * global views, the second (optional) the local ones, each with an optional crop-scale range
 * (defaults: global [0.14, 1], local [0.05, 0.14], SwAV's).
 *
 * @param spec E.g. "2x224,6x96" or "2x160:0.14-1,4x96:0.05-0.14".
 * @returns The `multiCrop` options.
 * @throws {RangeError} Naming the malformed group.
 *
 * @example Usage
 * ```ts
 * import { parseMultiCrop } from "@unigrad/unigrad/data";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseMultiCrop("2x224,6x96:0.05-0.2"), {
 *   global: { count: 2, size: 224, scale: [0.14, 1] },
 *   local: { count: 6, size: 96, scale: [0.05, 0.2] },
 * });
 * ```
 */
export function parseMultiCrop(spec: string): Required<MultiCropOptions> {
  const groups = spec.split(",").map((g) => g.trim());
  if (groups.length < 1 || groups.length > 2 || groups.some((g) => g === "")) {
    throw new RangeError(
      `Invalid multi-crop "${spec}": expected COUNTxSIZE[:LO-HI] for the global views, then optionally for the local ones, e.g. 2x224,6x96`,
    );
  }
  const defaults: [number, number][] = [[0.14, 1], [0.05, 0.14]];
  const read = (g: string, k: number) => {
    const m = /^(\d+)x(\d+)(?::([\d.]+)-([\d.]+))?$/.exec(g);
    const scale: [number, number] = m?.[3] === undefined ? defaults[k] : [Number(m[3]), Number(m[4])];
    if (!m || Number(m[2]) < 1 || !(scale[0] > 0 && scale[0] <= scale[1] && scale[1] <= 1)) {
      throw new RangeError(
        `Invalid multi-crop group "${g}" in "${spec}": expected COUNTxSIZE[:LO-HI] with 0 < LO <= HI <= 1`,
      );
    }
    return { count: Number(m[1]), size: Number(m[2]), scale };
  };
  const global = read(groups[0], 0);
  if (global.count !== 2) {
    throw new RangeError(`Invalid multi-crop "${spec}": there must be 2 global views, got ${global.count}`);
  }
  return {
    global,
    local: groups.length > 1 ? read(groups[1], 1) : { count: 0, size: global.size, scale: defaults[1] },
  };
}
