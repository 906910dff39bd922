/**
 * Named augmentation recipes, found through a typed registry: `recipe("mocov2")`,
 * `recipe("byol")`, `recipe("fashion-mnist")` (underscores are accepted for hyphens: `"fashion_mnist"`).
 *
 * @module
 */
import { FASHION_MNIST_STATS, IMAGENET_STATS, Recipe, type ViewOptions } from "./recipe.ts";

/** Options shared by the named recipes. */
export interface RecipeOptions {
  /** Output side of every view. @default 224 (28 for fashion-mnist) */
  size?: number;
  /** Normalisation. @default IMAGENET_STATS (FASHION_MNIST_STATS for fashion-mnist) */
  normalize?: ViewOptions["normalize"];
}

/** The paper's views (MoCo v2 augmentation, official UniGrad code): two identical views. */
function mocov2(o: RecipeOptions): Recipe {
  const view: ViewOptions = {
    size: o.size ?? 224,
    scale: [0.2, 1],
    jitter: { brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1, p: 0.8 },
    grayscale: 0.2,
    blur: { p: 0.5, sigma: [0.1, 2] },
    flip: 0.5,
    normalize: o.normalize === undefined ? IMAGENET_STATS : o.normalize,
  };
  return new Recipe([view, view]);
}

/** BYOL's asymmetric pair: blur always on view 1 and rarely on view 2, solarisation on view 2 only. */
function byol(o: RecipeOptions): Recipe {
  const common: ViewOptions = {
    size: o.size ?? 224,
    scale: [0.08, 1],
    jitter: { brightness: 0.4, contrast: 0.4, saturation: 0.2, hue: 0.1, p: 0.8 },
    grayscale: 0.2,
    flip: 0.5,
    normalize: o.normalize === undefined ? IMAGENET_STATS : o.normalize,
  };
  return new Recipe([
    { ...common, blur: { p: 1, sigma: [0.1, 2] }, solarize: 0 },
    { ...common, blur: { p: 0.1, sigma: [0.1, 2] }, solarize: 0.2 },
  ]);
}

/** Fashion-MNIST (1 channel, 28²): crops, flips, brightness and contrast; no hue, saturation or blur. */
function fashionMnist(o: RecipeOptions): Recipe {
  const view: ViewOptions = {
    size: o.size ?? 28,
    scale: [0.2, 1],
    jitter: { brightness: 0.4, contrast: 0.4, saturation: 0, hue: 0, p: 0.8 },
    grayscale: 0,
    blur: null,
    flip: 0.5,
    normalize: o.normalize === undefined ? FASHION_MNIST_STATS : o.normalize,
  };
  return new Recipe([view, view]);
}

/** Every named recipe. */
export const RECIPES: Readonly<Record<RecipeName, (options?: RecipeOptions) => Recipe>> = {
  mocov2: (o = {}) => mocov2(o),
  byol: (o = {}) => byol(o),
  "fashion-mnist": (o = {}) => fashionMnist(o),
};

/** Names of the built-in recipes. */
export type RecipeName = "mocov2" | "byol" | "fashion-mnist";

/**
 * A named recipe.
 *
 * @param name "mocov2" (the paper's), "byol" or "fashion-mnist" ("fashion_mnist", the older spelling, works too).
 * @param options Output size and normalisation.
 * @returns The recipe.
 * @throws {RangeError} For an unknown name.
 *
 * @example Usage
 * ```ts
 * import { manualSeed, recipe, scope, zeros } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * manualSeed(0);
 * scope(() => {
 *   const [v1, v2] = recipe("fashion-mnist").apply(zeros([8, 1, 28, 28], { dtype: "uint8" }));
 *   assert.deepEqual(v1.shape, [8, 1, 28, 28]);
 *   assert.deepEqual(v2.shape, [8, 1, 28, 28]);
 * });
 * ```
 */
export function recipe(name: RecipeName | "fashion_mnist", options: RecipeOptions = {}): Recipe {
  const key = name.replaceAll("_", "-");
  const make = (RECIPES as Record<string, (o?: RecipeOptions) => Recipe>)[key];
  if (make === undefined || !Object.hasOwn(RECIPES, key)) {
    throw new RangeError(`Unknown recipe "${name}": expected one of ${Object.keys(RECIPES).join(", ")}`);
  }
  return make(options);
}
