/**
 * The parts of a training run (internal to train.ts): the data (see `_data.ts`); the online encoder,
 * the method and its state, the target branch, the optimizer and its schedule, the trainer, the
 * loader and the views (augmentation, multi-crop, CutMix), all built from one config and freed
 * together; and the two evaluations of the online backbone (kNN, linear probe), streamed in chunks
 * for image folders.
 *
 * @module
 */
import { cuda, type Device, manualSeed, scope, type Tensor } from "../torch/mod.ts";
import { type Optimizer, warmupCosine } from "../optim/mod.ts";
import {
  augment,
  Augmentation,
  augmentation,
  type Batch,
  cutmix,
  FASHION_MNIST_STATS,
  IMAGENET_STATS,
  Loader,
  multiCrop,
  normalizeImages,
  parseMultiCrop,
  type TensorDataset,
  toFloatImages,
  type ViewOptions,
} from "../data/mod.ts";
import {
  extractFeatures,
  extractLabelledFeatures,
  knnScores,
  type LabelledFeatures,
  linearProbe,
} from "../eval/mod.ts";
import { type ProcessGroup, processGroupComm } from "../distributed/mod.ts";
import type { CutMixTarget, Encoder, Method, MethodState, StepResult, TargetBranch, Trainer } from "../ssl/mod.ts";
import { derive, type DerivedNumbers } from "./config.ts";
import { type AUGMENTS, DATASET_AUGMENT, type TrainConfig } from "./settings.ts";
import { buildMethod, resolvedMethodOptions } from "./method_options.ts";
import { inMemory, loadData, type RunData, type RunDataset } from "./_data.ts";
import { buildTrainer } from "./setup.ts";
import { stepSeed } from "./_state.ts";
import type { Numerics } from "./numerics.ts";

export type { RunData };

/** Everything a run steps, evaluates and saves. */
export interface RunParts {
  data: RunData;
  derived: DerivedNumbers;
  /** The options the method was built with (λ scaled, target): `resolvedMethodOptions(config)`. */
  resolvedMethodOptions: Record<string, string | number | boolean>;
  method: Method;
  online: Encoder;
  state: MethodState;
  target: TargetBranch;
  optimizer: Optimizer;
  trainer: Trainer;
  /** The trainer's numerics and why they were chosen (the run header prints them). */
  numerics: Numerics;
  loader: Loader;
  /** The views of a batch: two global views, then the local ones of multi-crop. */
  views: Augmentation;
  /** The augmentation the views use (the config's, or the dataset's default). */
  augment: typeof AUGMENTS[number];
  /** CutMix α of an extra view (0: none). */
  cutmix: number;
  /** The learning rate of step k: linear warm-up, then cosine to `lrMin`. */
  lrAt: (step: number) => number;
  /** Processes sharing each step's batch (1 without data parallelism). */
  worldSize: number;
  /** Frees every part (in reverse order of construction). */
  dispose(): void;
}

/**
 * Throws unless `device` can be used: "cpu", or a CUDA device that exists.
 *
 * @throws {RangeError} Naming the device and why.
 */
export function checkDevice(device: string): void {
  if (device === "cpu") return;
  if (!cuda.isAvailable()) {
    throw new RangeError(
      `Cannot train on device "${device}": CUDA is not available (a CPU-only libtorch, or no visible GPU); use --device cpu`,
    );
  }
  const index = Number(device.split(":")[1] ?? 0);
  if (index >= cuda.deviceCount()) {
    throw new RangeError(`Cannot train on device "${device}": only ${cuda.deviceCount()} CUDA device(s) are visible`);
  }
}

/** The augmentation a config asks for: its own, or its dataset's. */
export function augmentOf(c: TrainConfig): typeof AUGMENTS[number] {
  return c.augment ?? DATASET_AUGMENT[c.dataset];
}

/**
 * The views of a batch: the augmentation's two views at `size` (normalised for `channels`), or, with
 * multi-crop, its global and local views with the colour pipeline of the augmentation's first view.
 * "none" crops and flips only.
 */
function viewsFor(c: TrainConfig, channels: number, size: number): Augmentation {
  const normalize = channels === 1 ? FASHION_MNIST_STATS : IMAGENET_STATS;
  const name = augmentOf(c);
  const plain: ViewOptions = { size, jitter: null, grayscale: 0, blur: null, normalize };
  const pair = name === "none" ? new Augmentation([plain, plain]) : augmentation(name, { size, normalize });
  if (c.multiCrop === null) return pair;
  const { size: _size, scale: _scale, ...base } = pair.views[0];
  return multiCrop(base, parseMultiCrop(c.multiCrop));
}

/**
 * The views of one training step: the augmentation's views of the batch (crops from each whole image when
 * the batch carries image sizes), plus, with CutMix, a view of the first kind mixed within the batch.
 */
export function makeViews(parts: RunParts, batch: Batch): { views: Tensor[]; cutmix?: CutMixTarget } {
  const views = parts.views.apply(batch.images, batch.sizes);
  if (parts.cutmix === 0) return { views };
  const mixed = cutmix(augment(batch.images, parts.views.views[0], batch.sizes), { alpha: parts.cutmix });
  return {
    views: [...views, mixed.images],
    cutmix: { view: views.length, partner: mixed.partner, lambda: mixed.lambda },
  };
}

/**
 * One optimisation step on `batch` (freed here), its augmentation seeded from (seed, step, rank): the
 * CPU and CUDA generators give the same views after a resume, and every rank its own views.
 */
export function stepOn(
  parts: RunParts,
  batch: Batch,
  step: number,
  seed: number,
  rank: number,
  withLoss: boolean,
): StepResult {
  manualSeed(stepSeed(seed, step, rank));
  try {
    return scope(() => {
      const { views, cutmix } = makeViews(parts, batch); // crops from each whole image when the batch has sizes
      return parts.trainer.step(views, step, parts.lrAt(step), { withLoss, cutmix });
    });
  } finally {
    batch.dispose();
  }
}

/**
 * Builds every part of a run from a validated config, seeding nothing (the caller seeds first): the
 * weights come from the global generator, in a fixed order (online, then the target copy, then the
 * method state). With a process `group`, this rank loads every `worldSize`-th sample, batchSize /
 * worldSize per step, and the method, the networks and the trainer are wired for data parallelism.
 */
export async function buildParts(c: TrainConfig, group: ProcessGroup | null = null): Promise<RunParts> {
  const device = c.device as Device;
  using stack = new DisposableStack();
  const data = stack.adopt(await loadData(c, device), (d) => d.dispose());
  const derived = derive(c, data.train.length);
  const worldSize = group?.worldSize ?? 1;
  const method = buildMethod(c, group ? processGroupComm(group) : undefined);
  const resolvedOptions = resolvedMethodOptions(c);
  const projector = { projHidden: c.projHidden, projDim: c.projDim, projDepth: c.projDepth };
  const encoder = { arch: c.arch, inChannels: data.channels, imageSize: data.viewSize, width: c.width, ...projector };
  const setup = buildTrainer({
    encoder: { ...encoder, zeroInitResidual: c.zeroInitResidual, convInit: c.convInit },
    method,
    device,
    totalSteps: derived.totalSteps,
    lr: derived.effectiveLr,
    weightDecay: c.wd,
    excludeBiasAndNorm: c.wdExcludeNormBias,
    optimizer: c.optimizer,
    momentum: c.momentum,
    trustCoefficient: c.larsTrust,
    precision: c.precision,
    guardNonFinite: resolvedOptions.checkValues === false, // no per-step checks: keep bad steps out on the device
    dist: group ? { group, syncBn: c.syncBn } : undefined,
  });
  stack.defer(() => setup.dispose());
  const { online, target, state, optimizer, trainer, numerics } = setup;
  const prefetch = inMemory(data.train) ? 2 : 4; // streamed batches: keep the decoding threads busy
  const loader = new Loader(data.train, {
    batchSize: c.batchSize / worldSize, // the config's batch is the global one
    seed: c.seed,
    device,
    prefetch,
    rank: group?.rank ?? 0,
    worldSize,
  });
  stack.defer(() => loader.close());
  const lrAt = warmupCosine({
    baseLr: derived.effectiveLr,
    warmupSteps: derived.warmupSteps,
    totalSteps: derived.totalSteps,
    finalLr: (c.lrMin * c.batchSize) / 256,
  });
  const views = viewsFor(c, data.channels, data.viewSize);
  const owned = stack.move();
  const parts = {
    data,
    derived,
    resolvedMethodOptions: resolvedOptions,
    method,
    online,
    state,
    target,
    optimizer,
    trainer,
    numerics,
    loader,
    views,
    augment: augmentOf(c),
    cutmix: c.cutmix,
    lrAt,
    worldSize,
  };
  return { ...parts, dispose: () => owned.dispose() };
}

/** The evaluation input: pixels in [0, 1], normalised as the training views are (not augmented). */
function evalTransform(views: Augmentation): (batch: Tensor) => Tensor {
  const norm = views.views[0].normalize === undefined ? IMAGENET_STATS : views.views[0].normalize;
  return (batch) => {
    const x = toFloatImages(batch); // [B, C, H, W]
    return norm === null ? x : normalizeImages(x, norm.mean, norm.std);
  };
}

/**
 * Backbone features and labels of a labelled set (eval mode, no grad): on the device for a set held
 * there, on the host, batch by batch, for a streamed one (the evaluation then streams them back).
 */
async function featuresOf(parts: RunParts, set: RunDataset, signal?: Interruption): Promise<LabelledFeatures> {
  const forward = (x: Tensor) => parts.online.features(x);
  const transform = evalTransform(parts.views);
  if (inMemory(set)) {
    const features = extractFeatures(forward, set.images, { batchSize: 512, transform, signal }); // [N, C]
    return { features, labels: set.labels!.share() };
  }
  const device = parts.online.parameters()[0].device;
  using loader = new Loader(set, { batchSize: 256, shuffle: false, dropLast: false, device, prefetch: 4 });
  return await extractLabelledFeatures(forward, loader, { transform, signal });
}

/** What an evaluation polls to be abandoned (see `interruptionOf`). */
type Interruption = { throwIfAborted(): void };

/** What an evaluation measured. */
export interface Evaluation {
  /** kNN top-1 (test set against the training set). */
  knn: number;
  /** kNN top-5. */
  knnTop5: number;
  /** Linear-probe test top-1, or null when not trained. */
  probe: number | null;
}

/** Largest image (C·H·W values) whose raw pixels the run evaluates as a baseline: 32² RGB. */
const PIXEL_BASELINE_MAX = 3 * 32 * 32;

/**
 * The same evaluation on the normalised pixels themselves (kNN, k 200, cosine; a linear probe of
 * `probeEpochs`): what the features are worth next to no network at all. Null for streamed sets and
 * images larger than 32² RGB (where pixels are no baseline and the bank would not fit).
 */
export function pixelBaselines(parts: RunParts, probeEpochs: number): Evaluation | null {
  const { evalTrain, test } = parts.data;
  if (!inMemory(evalTrain) || !inMemory(test) || evalTrain.imageShape.reduce((a, b) => a * b) > PIXEL_BASELINE_MAX) {
    return null;
  }
  const device = parts.online.parameters()[0].device;
  const transform = evalTransform(parts.views);
  return scope(() => {
    const pixels = (set: TensorDataset): LabelledFeatures => ({
      features: extractFeatures((x) => x.flatten(1), set.images, { batchSize: 4096, transform }), // [N, C·H·W]
      labels: set.labels!,
    });
    const [train, test_] = [pixels(evalTrain), pixels(test)];
    const { top1, top5 } = knnScores(train, test_, { device });
    const probe = probeEpochs > 0 ? linearProbe(train, test_, { epochs: probeEpochs, device }).testAccuracy : null;
    return { knn: top1, knnTop5: top5, probe };
  });
}

/**
 * kNN top-1 and top-5 of the online backbone's features (test set against training set) and, when
 * `probeEpochs` is positive, the test accuracy of a linear probe trained on the same frozen features
 * (one extraction). Streamed sets are compared on the device chunk by chunk (see `knnScores`). `signal`
 * is polled batch by batch: a stop request abandons the evaluation (it throws `StopRequested`).
 */
export async function evaluate(parts: RunParts, probeEpochs = 0, signal?: Interruption): Promise<Evaluation> {
  const device = parts.online.parameters()[0].device;
  parts.online.eval();
  const sets: LabelledFeatures[] = [];
  try {
    sets.push(await featuresOf(parts, parts.data.evalTrain, signal));
    sets.push(await featuresOf(parts, parts.data.test, signal));
    const [train, test] = sets;
    const { top1, top5 } = knnScores(train, test, { device, signal });
    const probe = probeEpochs > 0
      ? linearProbe(train, test, { epochs: probeEpochs, device, signal }).testAccuracy
      : null;
    return { knn: top1, knnTop5: top5, probe };
  } finally {
    for (const s of sets) [s.features, s.labels].forEach((t) => t.dispose());
    parts.online.train();
  }
}
