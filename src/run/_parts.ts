/**
 * The parts of a training run (internal to train.ts): the data, moved once to the training device; the
 * online encoder, the method and its state, the target branch, the optimizer and its schedule, the
 * trainer, the loader and the augmentation, all built from one config and freed together; and the two
 * evaluations of the online backbone (kNN, linear probe).
 *
 * @module
 */
import { cuda, type Device, scope, type Tensor } from "../torch/mod.ts";
import { type SGD, warmupCosine } from "../optim/mod.ts";
import {
  cifar10,
  cifar100,
  fashionMnist,
  IMAGENET_STATS,
  Loader,
  mnist,
  normalizeImages,
  type Recipe,
  recipe,
  stl10,
  type TensorDataset,
  toFloatImages,
} from "../data/mod.ts";
import { extractFeatures, knnAccuracy, linearProbe } from "../eval/mod.ts";
import { type ProcessGroup, processGroupComm } from "../dist/mod.ts";
import type { Encoder, Method, MethodState, TargetBranch, Trainer } from "../ssl/mod.ts";
import { buildMethod, derive, type DerivedNumbers, runMethodOptions, type TrainConfig } from "./config.ts";
import { buildTrainer } from "./setup.ts";
import type { Numerics } from "./numerics.ts";

/** The labelled train and test sets, on the training device. */
export interface RunData {
  /** Training images (uint8 [N, C, H, W]) and labels. */
  train: TensorDataset;
  /** Test images and labels. */
  test: TensorDataset;
}

/** Everything a run steps, evaluates and saves. */
export interface RunParts {
  data: RunData;
  derived: DerivedNumbers;
  /** The options the method was built with (λ scaled, target): `runMethodOptions(config)`. */
  methodOptions: Record<string, string | number | boolean>;
  method: Method;
  online: Encoder;
  state: MethodState;
  target: TargetBranch;
  optimizer: SGD;
  trainer: Trainer;
  /** The trainer's numerics and why they were chosen (the run header prints them). */
  numerics: Numerics;
  loader: Loader;
  views: Recipe;
  /** The learning rate of step k: linear warm-up, then cosine to 0. */
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

function loadSplit(c: TrainConfig, split: "train" | "test"): Promise<TensorDataset> {
  const limit = (split === "train" ? c.limitTrain : c.limitTest) || undefined;
  const dir = c.dataDir ?? undefined;
  const o = { split, limit };
  switch (c.dataset) {
    case "fashion-mnist":
      return fashionMnist({ ...o, dir });
    case "mnist":
      return mnist({ ...o, dir: dir ?? "/usr/share/datasets/mnist" });
    case "cifar10":
      return cifar10({ ...o, dir: dir ?? "data/cifar-10-batches-bin" });
    case "cifar100":
      return cifar100({ ...o, dir: dir ?? "data/cifar-100-binary" });
    case "stl10":
      return stl10({ ...o, dir: dir ?? "data/stl10_binary" });
  }
}

/** The smallest image side a run accepts (the ResNets downsample by 4 before their stages). */
const MIN_SIDE = 8;

/** An error when the splits' images differ in shape or are too small to train on, else null. */
function shapeProblem(c: TrainConfig, train: readonly number[], test: readonly number[]): Error | null {
  const where = `${c.dataset}${c.dataDir ? ` in ${c.dataDir}` : ""}`;
  if (train.join() !== test.join()) {
    return new RangeError(
      `Cannot train on ${where}: training images are [${train.join(", ")}] but test images are [${test.join(", ")}]`,
    );
  }
  if (Math.min(train[1], train[2]) < MIN_SIDE) {
    return new RangeError(
      `Cannot train on ${where}: images of [${train.join(", ")}] are smaller than ${MIN_SIDE}×${MIN_SIDE}`,
    );
  }
  return null;
}

/** Reads both splits and moves them to `device` once (on the CPU the tensors are only shared). */
async function loadData(c: TrainConfig, device: Device): Promise<RunData> {
  const settled = await Promise.allSettled([loadSplit(c, "train"), loadSplit(c, "test")]);
  const loaded = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  const problem = failed?.reason ?? shapeProblem(c, loaded[0].imageShape, loaded[1].imageShape);
  if (problem) {
    loaded.forEach((d) => d.dispose());
    throw problem;
  }
  const [train, test] = loaded.map((d) => {
    const moved = d.to(device);
    d.dispose();
    return moved;
  });
  return { train, test };
}

function viewsFor(c: TrainConfig, size: number): Recipe {
  const gray = c.dataset === "fashion-mnist" || c.dataset === "mnist";
  return gray ? recipe("fashion-mnist", { size }) : recipe("mocov2", { size });
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
  const data = await loadData(c, device);
  stack.defer(() => [data.train, data.test].forEach((d) => d.dispose()));
  const derived = derive(c, data.train.length);
  const worldSize = group?.worldSize ?? 1;
  const method = buildMethod(c, group ? processGroupComm(group) : undefined);
  const methodOptions = runMethodOptions(c);
  const [inChannels, imageSize] = data.train.imageShape;
  const projector = { projHidden: c.projHidden, projDim: c.projDim, projDepth: c.projDepth };
  const setup = buildTrainer({
    encoder: { arch: c.arch, inChannels, imageSize, width: c.width, ...projector },
    method,
    device,
    totalSteps: derived.totalSteps,
    lr: derived.effectiveLr,
    weightDecay: c.wd,
    precision: c.precision,
    guardNonFinite: methodOptions.checkValues === false, // no per-step checks: keep bad steps out on the device
    dist: group ? { group, syncBn: c.syncBn } : undefined,
  });
  stack.defer(() => setup.dispose());
  const { online, target, state, optimizer, trainer, numerics } = setup;
  const loader = new Loader(data.train, {
    batchSize: c.batchSize / worldSize, // the config's batch is the global one
    seed: c.seed,
    device,
    rank: group?.rank ?? 0,
    worldSize,
  });
  stack.defer(() => loader.close());
  const lrAt = warmupCosine({
    baseLr: derived.effectiveLr,
    warmupSteps: derived.warmupSteps,
    totalSteps: derived.totalSteps,
    finalLr: 0,
  });
  const views = viewsFor(c, data.train.imageShape[1]);
  const owned = stack.move();
  const parts = {
    data,
    derived,
    methodOptions,
    method,
    online,
    state,
    target,
    optimizer,
    trainer,
    numerics,
    loader,
    views,
    lrAt,
    worldSize,
  };
  return { ...parts, dispose: () => owned.dispose() };
}

/** The evaluation input: pixels in [0, 1], normalised as the training views are (not augmented). */
function evalTransform(views: Recipe): (batch: Tensor) => Tensor {
  const norm = views.views[0].normalize === undefined ? IMAGENET_STATS : views.views[0].normalize;
  return (batch) => {
    const x = toFloatImages(batch); // [B, C, H, W]
    return norm === null ? x : normalizeImages(x, norm.mean, norm.std);
  };
}

/** Backbone features of the training and test sets (eval mode, no grad), in `fn`'s scope. */
function withFeatures<T>(parts: RunParts, fn: (train: Tensor, test: Tensor) => T): T {
  const { online, data } = parts;
  const o = { batchSize: 512, transform: evalTransform(parts.views) };
  online.eval();
  try {
    return scope(() => {
      const forward = (x: Tensor) => online.features(x);
      const train = extractFeatures(forward, data.train.images, o); // [N, C]
      const test = extractFeatures(forward, data.test.images, o); // [M, C]
      return fn(train, test);
    });
  } finally {
    online.train();
  }
}

/**
 * kNN top-1 of the online backbone's features (test set against training set) and, when `probeEpochs`
 * is positive, the test accuracy of a linear probe trained on the same frozen features (one extraction).
 */
export function evaluate(parts: RunParts, probeEpochs = 0): { knn: number; probe: number | null } {
  const { train: tr, test: te } = parts.data;
  return withFeatures(parts, (train, test) => {
    const trainSet = { features: train, labels: tr.labels! };
    const testSet = { features: test, labels: te.labels! };
    const knn = knnAccuracy(trainSet, testSet);
    const probe = probeEpochs > 0 ? linearProbe(trainSet, testSet, { epochs: probeEpochs }).testAccuracy : null;
    return { knn, probe };
  });
}
