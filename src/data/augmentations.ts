/**
 * Named augmentations, found through a typed registry: `augmentation("mocov2")`,
 * `augmentation("byol")`, `augmentation("fashion-mnist")` (underscores are accepted for hyphens: `"fashion_mnist"`).
 *
 * @module
 */
import { Augmentation, FASHION_MNIST_STATS, IMAGENET_STATS, type ViewOptions } from "./pipeline.ts";
import { canonicalName } from "./names.ts";

/** Options shared by the named augmentations. */
export interface AugmentationOptions {
  /** Output side of every view. @default 224 (28 for fashion-mnist) */
  size?: number;
  /** Normalisation. @default IMAGENET_STATS (FASHION_MNIST_STATS for fashion-mnist) */
  normalize?: ViewOptions["normalize"];
}

/** The paper's views (MoCo v2 augmentation, official UniGrad code): two identical views. */
function mocov2(o: AugmentationOptions): Augmentation {
  const view: ViewOptions = {
    size: o.size ?? 224,
    scale: [0.2, 1],
    jitter: { brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1, p: 0.8 },
    grayscale: 0.2,
    blur: { p: 0.5, sigma: [0.1, 2] },
    flip: 0.5,
    normalize: o.normalize === undefined ? IMAGENET_STATS : o.normalize,
  };
  return new Augmentation([view, view]);
}

/** BYOL's asymmetric pair: blur always on view 1 and rarely on view 2, solarisation on view 2 only. */
function byol(o: AugmentationOptions): Augmentation {
  const common: ViewOptions = {
    size: o.size ?? 224,
    scale: [0.08, 1],
    jitter: { brightness: 0.4, contrast: 0.4, saturation: 0.2, hue: 0.1, p: 0.8 },
    grayscale: 0.2,
    flip: 0.5,
    normalize: o.normalize === undefined ? IMAGENET_STATS : o.normalize,
  };
  return new Augmentation([
    { ...common, blur: { p: 1, sigma: [0.1, 2] }, solarize: 0 },
    { ...common, blur: { p: 0.1, sigma: [0.1, 2] }, solarize: 0.2 },
  ]);
}

/** Fashion-MNIST (1 channel, 28²): crops, flips, brightness and contrast; no hue, saturation or blur. */
function fashionMnist(o: AugmentationOptions): Augmentation {
  const view: ViewOptions = {
    size: o.size ?? 28,
    scale: [0.2, 1],
    jitter: { brightness: 0.4, contrast: 0.4, saturation: 0, hue: 0, p: 0.8 },
    grayscale: 0,
    blur: null,
    flip: 0.5,
    normalize: o.normalize === undefined ? FASHION_MNIST_STATS : o.normalize,
  };
  return new Augmentation([view, view]);
}

/** Every named augmentation. */
export const AUGMENTATIONS: Readonly<Record<AugmentationName, (options?: AugmentationOptions) => Augmentation>> = {
  mocov2: (o = {}) => mocov2(o),
  byol: (o = {}) => byol(o),
  "fashion-mnist": (o = {}) => fashionMnist(o),
};

/** Names of the built-in augmentations. */
export type AugmentationName = "mocov2" | "byol" | "fashion-mnist";

/**
 * A named augmentation.
 *
 * @param name "mocov2" (the paper's), "byol" or "fashion-mnist" ("fashion_mnist", the older spelling, works too).
 * @param options Output size and normalisation.
 * @returns The augmentation.
 * @throws {RangeError} For an unknown name.
 *
 * @example Usage
 * ```ts
 * import { manualSeed, augmentation, scope, zeros } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * manualSeed(0);
 * scope(() => {
 *   const [v1, v2] = augmentation("fashion-mnist").apply(zeros([8, 1, 28, 28], { dtype: "uint8" }));
 *   assert.deepEqual(v1.shape, [8, 1, 28, 28]);
 *   assert.deepEqual(v2.shape, [8, 1, 28, 28]);
 * });
 * ```
 */
export function augmentation(
  name: AugmentationName | "fashion_mnist",
  options: AugmentationOptions = {},
): Augmentation {
  const key = canonicalName(name);
  const make = (AUGMENTATIONS as Record<string, (o?: AugmentationOptions) => Augmentation>)[key];
  if (make === undefined || !Object.hasOwn(AUGMENTATIONS, key)) {
    throw new RangeError(`Unknown augmentation "${name}": expected one of ${Object.keys(AUGMENTATIONS).join(", ")}`);
  }
  return make(options);
}

/** @deprecated Renamed `Augmentation` ("recipe" now means a training preset, `--recipe`); this alias goes in the next release. */
export const Recipe: typeof Augmentation = Augmentation;
/** @deprecated Renamed `Augmentation`; this alias goes in the next release. */
export type Recipe = Augmentation;
/** @deprecated Renamed `AUGMENTATIONS`; this alias goes in the next release. */
export const RECIPES: typeof AUGMENTATIONS = AUGMENTATIONS;
/** @deprecated Renamed `augmentation`; this alias goes in the next release. */
export const recipe: typeof augmentation = augmentation;
/** @deprecated Renamed `AugmentationName`; this alias goes in the next release. */
export type RecipeName = AugmentationName;
/** @deprecated Renamed `AugmentationOptions`; this alias goes in the next release. */
export type RecipeOptions = AugmentationOptions;
