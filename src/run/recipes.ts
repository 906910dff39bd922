/**
 * Named training recipes: the options of a published (or a tested) setting at once, as `--recipe
 * NAME` sets them. A recipe is a row of config values applied over the defaults, stating only what it
 * changes (a test checks that no value equals its default); a config file and flags then override it,
 * and the run's `config.json` records the resolved values (and the recipe's name). To add one, add a row.
 *
 * @module
 */
import type { TrainConfig } from "./settings.ts";

/** A named recipe: what it reproduces, and the config values it sets. */
export interface TrainRecipe {
  /** One line: the setting and where it comes from. */
  description: string;
  /** The values it sets (the rest keep their defaults). */
  config: Partial<TrainConfig>;
}

/**
 * The paper's ImageNet setting (its section 4; the official `configs/unigrad.py` and
 * `project/pretrainer.py`): ResNet-50 with the last BN γ of every block at 0, a 3×2048 projector,
 * λ 100, ρ 0.99, momentum encoder, SGD momentum 0.9 with weight decay 1e-4 on every parameter, lr
 * 0.05·B/256 for B = 1024 with a 5-epoch warm-up then cosine down to 1e-3·lr, 100 epochs, bf16 (where the device computes it), the
 * MoCo v2 augmentation at 224², SyncBN when the run spans several processes (`--nproc`, torchrun, srun).
 */
const IMAGENET: Partial<TrainConfig> = {
  methodOptions: { lambda: 100, rho: 0.99 },
  arch: "resnet50",
  zeroInitResidual: true,
  convInit: "kaiming_normal",
  projHidden: 2048,
  projDim: 2048,
  projDepth: 3,
  dataset: "image-folder", // MoCo v2 views at 224² (the defaults for image folders)
  epochs: 100,
  batchSize: 1024,
  lr: 0.05,
  lrMin: 0.05e-3,
  wd: 1e-4,
  wdExcludeNormBias: false,
  warmupEpochs: 5,
  probeEpochs: 90,
};

/** The CPU default run (Fashion-MNIST, ResNet-20, 512→128 projector, batch 128, the epochs that fit 10 minutes): the defaults. */
const FASHION_MNIST: Partial<TrainConfig> = {};

/** Every named recipe (`--recipe NAME`; `--help` lists them). */
export const TRAIN_RECIPES: Readonly<Record<string, TrainRecipe>> = {
  "unigrad-imagenet-100ep": {
    description: "the paper's ImageNet run: ResNet-50, 3×2048 projector, λ 100, SGD lr 0.05·B/256 (B 1024), " +
      "wd 1e-4, 5 warm-up epochs + cosine, 100 epochs, bf16 where the device computes it, MoCo v2 views at 224²",
    config: IMAGENET,
  },
  "unigrad-cutmix": {
    description: "Table 3, UniGrad + CutMix (74.9 % linear top-1 at 800 epochs): the ImageNet recipe with a third " +
      "view that is a CutMix of the batch (α 1), 800 epochs",
    config: { ...IMAGENET, cutmix: 1, epochs: 800 },
  },
  "unigrad-multicrop": {
    description: "Table 3, UniGrad + multi-crop: the ImageNet recipe with SwAV's 2×224² global (scale 0.14–1) and " +
      "6×96² local (scale 0.05–0.14) views, 800 epochs",
    config: { ...IMAGENET, multiCrop: "2x224,6x96", epochs: 800 },
  },
  "unigrad-cifar10": {
    description:
      "CIFAR-10 on one GPU: ResNet-18 with the small stem, 3×2048 projector, λ 100, batch 512, lr 0.1·B/256, " +
      "wd 5e-4, 2 warm-up epochs + cosine, 200 epochs, bf16 where the device computes it, MoCo v2 views at 32²",
    config: {
      methodOptions: { lambda: 100, rho: 0.99 },
      arch: "resnet18",
      projHidden: 2048,
      projDim: 2048,
      projDepth: 3,
      dataset: "cifar10", // MoCo v2 views at 32² (the defaults for CIFAR)
      epochs: 200,
      batchSize: 512,
      warmupEpochs: 2,
    },
  },
  "unigrad-fashion-mnist": {
    description: "the CPU default run: ResNet-20 (width 16), 512→128 projector (λ 6.25), batch 128, lr 0.1·128/256, " +
      "wd 5e-4, as many epochs as fit 10 minutes of training here (4 with bf16 instructions, 1 on AVX2), " +
      "grayscale views at 28²",
    config: FASHION_MNIST,
  },
  "unigrad-official-fashion-mnist": {
    description: "the CPU default run with the official code's optimizer settings (project/pretrainer.py): " +
      "wd 1e-4 on every parameter (BN weights and biases too), cosine down to 1e-3·lr instead of 0; F stays float32",
    config: { ...FASHION_MNIST, wd: 1e-4, wdExcludeNormBias: false, lrMin: 1e-3 * 0.1 },
  },
  "barlow-twins-l2-official-fashion-mnist": {
    description:
      "Barlow Twins l2 (Table 1 row h) as the official configs/barlow_twins_grad_mm.py trains it: momentum " +
      "encoder, wd 1e-4 on every parameter, cosine down to 1e-3·lr; the CPU default's network and data (λ 50·d/2048)",
    config: {
      ...FASHION_MNIST,
      method: "barlow-twins-l2",
      target: "momentum",
      wd: 1e-4,
      wdExcludeNormBias: false,
      lrMin: 1e-3 * 0.1,
    },
  },
};

/**
 * The config values of a named recipe, with `recipe` set to its name.
 *
 * @param name A key of `TRAIN_RECIPES`.
 * @returns The values (a copy).
 * @throws {RangeError} For an unknown name, listing the known ones.
 *
 * @example Usage
 * ```ts
 * import { recipeConfig } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const c = recipeConfig("unigrad-imagenet-100ep");
 * assert.deepEqual([c.arch, c.batchSize, c.lr, c.recipe], ["resnet50", 1024, 0.05, "unigrad-imagenet-100ep"]);
 * ```
 */
export function recipeConfig(name: string): Partial<TrainConfig> {
  const row = Object.hasOwn(TRAIN_RECIPES, name) ? TRAIN_RECIPES[name] : undefined;
  if (row === undefined) {
    throw new RangeError(`Unknown recipe "${name}": expected one of ${Object.keys(TRAIN_RECIPES).join(", ")}`);
  }
  return structuredClone({ ...row.config, recipe: name });
}
