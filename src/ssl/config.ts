/**
 * The configuration of a training run: one typed object, every field with its one default, and the
 * numbers derived from it. `train.ts` fills it from flags (and `--config file.json`); `train()` reads it.
 *
 * The defaults are the CPU default run: UniGrad on Fashion-MNIST with the small ResNet-20-style
 * network, chosen so that a 2-core machine trains it within 15 minutes and its kNN accuracy clearly
 * rises above the same network's at initialisation.
 *
 * @module
 */
import { TARGET_KINDS, type TargetKind } from "./method.ts";
import { METHODS } from "./mod.ts";

/** Backbones `--arch` accepts. */
export const ARCHS = ["resnet20", "resnet18", "resnet34", "resnet50"] as const;
/** A backbone name. */
export type Arch = typeof ARCHS[number];
/** Datasets `--dataset` accepts. */
export const DATASETS = ["fashion-mnist", "mnist", "cifar10", "cifar100", "stl10"] as const;
/** A dataset name. */
export type DatasetName = typeof DATASETS[number];
/** Numeric precisions `--precision` accepts. */
export const PRECISIONS = ["fp32", "bf16"] as const;

/** Everything a run needs. */
export interface TrainConfig {
  /** Method name (see `METHODS`). @default "unigrad" */
  method: string;
  /** Method options, e.g. `{ lambda: 6.25 }` or `{ form: "original" }`. @default {} */
  methodOpts: Record<string, string | number | boolean>;
  /** Backbone. @default "resnet20" */
  arch: Arch;
  /** Projector hidden width. @default 512 */
  projHidden: number;
  /** Projector output width d. @default 128 */
  projDim: number;
  /** Projector Linear layers (BN + ReLU after all but the last). @default 2 */
  projDepth: number;
  /** Dataset. @default "fashion-mnist" */
  dataset: DatasetName;
  /** Folder of the dataset files. @default the Debian package's folder for Fashion-MNIST and MNIST */
  dataDir: string | null;
  /** Training epochs. @default 2 */
  epochs: number;
  /** Pairs per step. @default 256 */
  batchSize: number;
  /** Base learning rate (for batchSize 256; scaled linearly with the batch). @default 0.1 */
  lr: number;
  /** Weight decay (BN and bias excluded). @default 5e-4 */
  wd: number;
  /** Linear warm-up epochs before the cosine decay. @default 0.2 */
  warmupEpochs: number;
  /** Target branch type (paper Table 2); null uses the one the method is built for. @default null */
  target: TargetKind | null;
  /** Device: "cpu", "cuda" or "cuda:k". @default "cpu" */
  device: string;
  /** "bf16" runs the forwards under autocast on CUDA. @default "fp32" */
  precision: typeof PRECISIONS[number];
  /** Seed of weights, data order and augmentation. @default 0 */
  seed: number;
  /** Run folder (config, metrics, checkpoints, plot, report). @default "runs/<method>-<dataset>" */
  out: string | null;
  /** Checkpoint (folder or run folder) to resume from. @default null */
  resume: string | null;
  /** kNN evaluation every N epochs (and always at the start and the end); 0 only at start and end. @default 1 */
  evalEvery: number;
  /** Use only the first N training images (0 = all). @default 0 */
  limitTrain: number;
  /** Use only the first N test images (0 = all). @default 0 */
  limitTest: number;
  /** Log a metrics line every N steps (each log reads values back: a device sync). @default 20 */
  logEvery: number;
  /** Save a checkpoint every N steps (and at each epoch end). @default 200 */
  checkpointEvery: number;
  /** Epochs of the final linear probe (0 skips it). @default 20 */
  probeEpochs: number;
  /** CPU threads (0 = all cores). @default 0 */
  threads: number;
}

/** The defaults: the CPU default run. */
export const DEFAULT_CONFIG: Readonly<TrainConfig> = Object.freeze({
  method: "unigrad",
  methodOpts: {},
  arch: "resnet20",
  projHidden: 512,
  projDim: 128,
  projDepth: 2,
  dataset: "fashion-mnist",
  dataDir: null,
  epochs: 2,
  batchSize: 256,
  lr: 0.1,
  wd: 5e-4,
  warmupEpochs: 0.2,
  target: null,
  device: "cpu",
  precision: "fp32",
  seed: 0,
  out: null,
  resume: null,
  evalEvery: 1,
  limitTrain: 0,
  limitTest: 0,
  logEvery: 20,
  checkpointEvery: 200,
  probeEpochs: 20,
  threads: 0,
});

function oneOf<T extends string>(field: string, value: string, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    throw new RangeError(`Invalid ${field} "${value}": expected one of ${allowed.join(", ")}`);
  }
  return value as T;
}

function atLeast(field: string, value: number, min: number, integer = true): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    throw new RangeError(`Invalid ${field} ${value}: expected ${integer ? "an integer" : "a number"} ≥ ${min}`);
  }
}

/**
 * Checks every field of a config (types, ranges, names) and returns it.
 *
 * @throws {RangeError} On a value out of range or an unknown name, listing the valid ones.
 * @throws {TypeError} On an unknown field.
 */
export function validateConfig(config: TrainConfig): TrainConfig {
  const unknown = Object.keys(config).filter((k) => !(k in DEFAULT_CONFIG));
  if (unknown.length) {
    throw new TypeError(
      `Unknown config field(s) ${unknown.join(", ")}: expected ${Object.keys(DEFAULT_CONFIG).join(", ")}`,
    );
  }
  oneOf("method", config.method, Object.keys(METHODS));
  oneOf("arch", config.arch, ARCHS);
  oneOf("dataset", config.dataset, DATASETS);
  if (config.target !== null) oneOf("target", config.target, TARGET_KINDS);
  oneOf("precision", config.precision, PRECISIONS);
  if (!/^(cpu|cuda(:\d+)?)$/.test(config.device)) {
    throw new RangeError(`Invalid device "${config.device}": expected cpu, cuda or cuda:<index>`);
  }
  for (const f of ["projHidden", "projDim", "projDepth", "epochs", "batchSize"] as const) atLeast(f, config[f], 1);
  for (const f of ["evalEvery", "limitTrain", "limitTest", "probeEpochs", "threads", "seed"] as const) {
    atLeast(f, config[f], 0);
  }
  atLeast("logEvery", config.logEvery, 1);
  atLeast("checkpointEvery", config.checkpointEvery, 1);
  atLeast("lr", config.lr, 0, false);
  atLeast("wd", config.wd, 0, false);
  atLeast("warmupEpochs", config.warmupEpochs, 0, false);
  if (config.batchSize < 2) throw new RangeError(`Invalid batchSize ${config.batchSize}: expected at least 2`);
  return config;
}

/** Numbers derived from a config, printed at start. */
export interface DerivedNumbers {
  /** Optimizer steps per epoch. */
  stepsPerEpoch: number;
  /** Steps of the whole run. */
  totalSteps: number;
  /** lr · batchSize / 256. */
  effectiveLr: number;
  /** Warm-up steps. */
  warmupSteps: number;
}

/** Steps and the effective learning rate for a training set of `trainSize` images. */
export function derive(config: TrainConfig, trainSize: number): DerivedNumbers {
  const stepsPerEpoch = Math.floor(trainSize / config.batchSize);
  if (stepsPerEpoch < 1) {
    throw new RangeError(`Cannot train: ${trainSize} training images give no full batch of ${config.batchSize}`);
  }
  return {
    stepsPerEpoch,
    totalSteps: stepsPerEpoch * config.epochs,
    effectiveLr: (config.lr * config.batchSize) / 256,
    warmupSteps: Math.round(config.warmupEpochs * stepsPerEpoch),
  };
}

/**
 * UniGrad's λ = 100 belongs to a 2048-wide projector output (mean eigenvalue of λF = λ/d); a narrower
 * output needs λ scaled with d (DESIGN.md §1). Returns the method options with λ = 100·d/2048 when the
 * method is UniGrad and λ was not given, else the options unchanged.
 */
export function scaledMethodOpts(config: TrainConfig): Record<string, string | number | boolean> {
  if (config.method !== "unigrad" || "lambda" in config.methodOpts) return config.methodOpts;
  return { ...config.methodOpts, lambda: (100 * config.projDim) / 2048 };
}
