/**
 * The configuration of a training run: one typed object, every field with its one default, and the
 * numbers derived from it. `train.ts` fills it from flags (and `--config file.json`); `train()` reads it.
 *
 * The defaults are the CPU default run: UniGrad on Fashion-MNIST with the small ResNet-20-style
 * network, chosen so that a 2-core machine trains it within a few minutes and its kNN accuracy clearly
 * rises above the same network's at initialisation.
 *
 * @module
 */
import { parseMultiCrop } from "../data/mod.ts";
import {
  type Arch,
  ARCHS,
  type Communicator,
  createMethod,
  findPreset,
  type Method,
  METHODS,
  multiViewSupport,
  TABLE1,
  TARGET_KINDS,
  type TargetKind,
  widthScaledLambda,
} from "../ssl/mod.ts";
import { readFileBounded, readFileBoundedSync } from "../torch/files.ts";
import { join } from "node:path";
import { listCheckpoints } from "../io/mod.ts";
import { TRAIN_RECIPES } from "./recipes.ts";

/** Datasets `--dataset` accepts ("image-folder": `--data-dir` in ImageNet's layout, see `imageFolderSplits`). */
export const DATASETS = ["fashion-mnist", "mnist", "cifar10", "cifar100", "stl10", "image-folder"] as const;
/** A dataset name. */
export type DatasetName = typeof DATASETS[number];
/**
 * Numeric precisions `--precision` accepts: "auto" is the fastest the machine computes natively (bf16
 * autocast on a CPU with bf16 instructions, float32 elsewhere; see `chooseNumerics`).
 */
export const PRECISIONS = ["auto", "fp32", "bf16"] as const;
/** Backbone conv initialisations `--conv-init` accepts (see `ResNetOptions.convInit`). */
export const CONV_INITS = ["torch", "kaiming_normal"] as const;
/** Augmentations `--augment` accepts: the named view recipes of src/data, or none (crops only). */
export const AUGMENTS = ["mocov2", "byol", "fashion-mnist", "none"] as const;
/** Optimizers `--optimizer` accepts. */
export const OPTIMIZERS = ["sgd", "lars"] as const;
/** Image-folder storages `--image-storage` accepts (see `imageFolder`). */
export const IMAGE_STORAGES = ["stream", "cache"] as const;

/** Everything a run needs. */
export interface TrainConfig {
  /** Method name (see `METHODS`) or Table 1 preset name (see `TABLE1`). @default "unigrad" */
  method: string;
  /** Method options, e.g. `{ lambda: 6.25 }` or `{ form: "original" }` (`methodOpts` in older config files). @default {} */
  methodOptions: Record<string, string | number | boolean>;
  /** Backbone. @default "resnet20" */
  arch: Arch;
  /** Channels of the backbone's first stage, doubling at each stage; 0 keeps the architecture's (16 for resnet20, 64 for the others). @default 0 */
  width: number;
  /** Projector hidden width. @default 512 */
  projHidden: number;
  /** Projector output width d. @default 128 */
  projDim: number;
  /** Projector Linear layers (BN + ReLU after all but the last). @default 2 */
  projDepth: number;
  /** Start the last BN γ of every residual block at 0 (the paper's ResNet-50). @default false */
  zeroInitResidual: boolean;
  /**
   * Backbone conv weights: "torch" (`nn.Conv2d`'s default, what a plain PyTorch script gets) or
   * "kaiming_normal" (torchvision's ResNet init, about 2.4× larger weights: a smaller effective learning
   * rate of the convs under BN). @default "torch"
   */
  convInit: typeof CONV_INITS[number];
  /** Dataset. @default "fashion-mnist" */
  dataset: DatasetName;
  /** Folder of the dataset files. @default the Debian package's folder for Fashion-MNIST and MNIST */
  dataDir: string | null;
  /** A labelled image folder (train/ and val/) the kNN and probe use when `dataDir` is a flat unlabelled folder. @default null */
  evalDataDir: string | null;
  /** Image folders: side of the global training views and of the evaluation centre crop. @default 224 */
  imageSize: number;
  /** Image folders: side of the canvas each whole image is letterboxed into; 0: imageSize·8/7 (256 for 224). @default 0 */
  imageCanvas: number;
  /** Image folders: "stream" decodes the files every epoch, "cache" a JPEG cache bounded to the canvas. @default "stream" */
  imageStorage: typeof IMAGE_STORAGES[number];
  /** Image folders: decoding worker threads (0: the number of cores). @default 0 */
  decodeWorkers: number;
  /** View augmentation (see AUGMENTS); null: fashion-mnist for Fashion-MNIST and MNIST, mocov2 otherwise. @default null */
  augment: typeof AUGMENTS[number] | null;
  /** Multi-crop views, e.g. "2x224,6x96" (see `parseMultiCrop`); null: two views of the augmentation. @default null */
  multiCrop: string | null;
  /** CutMix: α of Beta(α, α) for an extra view that is a CutMix of the batch; 0: none. @default 0 */
  cutmix: number;
  /**
   * Training epochs; 0: as many whole epochs as fit `trainMinutes` of training, measured on this
   * machine before the run (`resolveEpochs`; config.json then records the count). @default 0
   */
  epochs: number;
  /**
   * With `epochs` 0: the training time to fill, in minutes (evaluation and checkpoints not counted).
   * The default run's 10 minutes give 4 epochs on a 2-core CPU with bf16 instructions and 1 on an
   * AVX2-only one (README, "Quick start"). @default 10
   */
  trainMinutes: number;
  /** Pairs per step. @default 128 */
  batchSize: number;
  /** Base learning rate (for batchSize 256; scaled linearly with the batch). @default 0.1 */
  lr: number;
  /** Weight decay. @default 5e-4 */
  wd: number;
  /** Exclude BN parameters and biases (1-D parameters) from weight decay (and, with LARS, from adaptation). @default true */
  wdExcludeNormBias: boolean;
  /** Optimizer (see OPTIMIZERS). @default "sgd" */
  optimizer: typeof OPTIMIZERS[number];
  /** Momentum of SGD and LARS. @default 0.9 */
  momentum: number;
  /** LARS trust coefficient η. @default 0.001 */
  larsTrust: number;
  /** Floor of the cosine decay, for batchSize 256 (scaled like lr; the official code: 1e-3·lr). @default 0 */
  lrMin: number;
  /** Linear warm-up epochs before the cosine decay. @default 0.2 */
  warmupEpochs: number;
  /** Target branch type (paper Table 2); null uses the one the method is built for. @default null */
  target: TargetKind | null;
  /** Device: "cpu", "cuda" or "cuda:k". @default "cpu" */
  device: string;
  /** Encoder forwards in bf16 autocast or float32: "auto" picks bf16 where the CPU computes it natively (see `chooseNumerics`). @default "auto" */
  precision: typeof PRECISIONS[number];
  /** Seed of weights, data order and augmentation. @default 0 */
  seed: number;
  /** Run folder (config, metrics, checkpoints, plot, report). @default "runs/<method>-<dataset>" */
  out: string | null;
  /** Checkpoint (folder or run folder) to resume from. @default null */
  resume: string | null;
  /** Start a new run in a folder that holds another run's checkpoints, deleting them (and its metrics). @default false */
  overwrite: boolean;
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
  /**
   * With several processes: batch norm over the global batch (SyncBN) in both encoders, as the official
   * code; false keeps each rank's own batch statistics. @default true
   */
  syncBn: boolean;
  /** With several processes: seconds any rendezvous or collective may wait for the other ranks. @default 60 */
  distTimeout: number;
  /** The named recipe the values came from (see `TRAIN_RECIPES`), recorded; null: none. @default null */
  recipe: string | null;
}

/** The defaults: the CPU default run. */
export const DEFAULT_CONFIG: Readonly<TrainConfig> = Object.freeze({
  method: "unigrad",
  methodOptions: {},
  arch: "resnet20",
  width: 0,
  projHidden: 512,
  projDim: 128,
  projDepth: 2,
  zeroInitResidual: false,
  convInit: "torch",
  dataset: "fashion-mnist",
  dataDir: null,
  evalDataDir: null,
  imageSize: 224,
  imageCanvas: 0,
  imageStorage: "stream",
  decodeWorkers: 0,
  augment: null,
  multiCrop: null,
  cutmix: 0,
  epochs: 0,
  trainMinutes: 10,
  batchSize: 128,
  lr: 0.1,
  wd: 5e-4,
  wdExcludeNormBias: true,
  optimizer: "sgd",
  momentum: 0.9,
  larsTrust: 0.001,
  lrMin: 0,
  warmupEpochs: 0.2,
  target: null,
  device: "cpu",
  precision: "auto",
  seed: 0,
  out: null,
  resume: null,
  overwrite: false,
  evalEvery: 1,
  limitTrain: 0,
  limitTest: 0,
  logEvery: 20,
  checkpointEvery: 200,
  probeEpochs: 20,
  threads: 0,
  syncBn: true,
  distTimeout: 60,
  recipe: null,
});

/** A name with underscores read as hyphens: the spelling the registry uses (`barlow_twins` → `barlow-twins`). */
function hyphenated(name: string): string {
  return name.replaceAll("_", "-");
}

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
  if (integer && !Number.isSafeInteger(value)) {
    // beyond 2^53 integers are not exact: --seed 1e300 would silently be another seed
    throw new RangeError(`Invalid ${field} ${value}: expected an integer from ${min} to 2^53 − 1`);
  }
}

/** The JSON type a field takes: "string|null" for the nullable strings (their default is null). */
function expectedType(field: keyof TrainConfig): string {
  if (field === "methodOptions") return "object";
  return DEFAULT_CONFIG[field] === null ? "string|null" : typeof DEFAULT_CONFIG[field];
}

function checkTypes(config: TrainConfig): void {
  for (const [field, value] of Object.entries(config) as [keyof TrainConfig, unknown][]) {
    const want = expectedType(field);
    const got = value === null ? "null" : Array.isArray(value) ? "array" : typeof value;
    if (want === "string|null" ? got !== "string" && got !== "null" : got !== want) {
      const wanted = { "string|null": "a string or null", object: "an object" }[want] ?? `a ${want}`;
      throw new TypeError(`Invalid ${field} ${JSON.stringify(value)}: expected ${wanted}`);
    }
  }
  for (const [k, v] of Object.entries(config.methodOptions)) {
    if (!["string", "number", "boolean"].includes(typeof v)) {
      throw new TypeError(`Invalid method option ${k} ${JSON.stringify(v)}: expected a string, number or boolean`);
    }
  }
}

/**
 * Checks every field of a config (types, ranges, names, and the method options against the method's
 * factory) and returns it, with the method and dataset names in their one spelling (`barlow_twins` →
 * `barlow-twins`, `fashion_mnist` → `fashion-mnist`).
 *
 * @throws {RangeError} On a value out of range or an unknown name, listing the valid ones.
 * @throws {TypeError} On an unknown field, a value of the wrong type, or an unknown method option.
 *
 * @example Usage
 * ```ts
 * import { DEFAULT_CONFIG, validateConfig } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const config = validateConfig({ ...DEFAULT_CONFIG, method: "barlow_twins", epochs: 2 });
 * assert.equal(config.method, "barlow-twins"); // the one spelling
 * assert.throws(() => validateConfig({ ...DEFAULT_CONFIG, epochs: -1 }), /Invalid epochs -1: expected an integer ≥ 0/);
 * ```
 */
export function validateConfig(config: TrainConfig): TrainConfig {
  const unknown = Object.keys(config).filter((k) => !(k in DEFAULT_CONFIG));
  if (unknown.length) {
    throw new TypeError(
      `Unknown config field(s) ${unknown.join(", ")}: expected ${Object.keys(DEFAULT_CONFIG).join(", ")}`,
    );
  }
  const missing = Object.keys(DEFAULT_CONFIG).filter((k) => !(k in config));
  if (missing.length) throw new TypeError(`Config field(s) ${missing.join(", ")} missing`);
  checkTypes(config);
  const names = [...Object.keys(METHODS), ...Object.keys(TABLE1).filter((k) => !(k in METHODS))];
  const method = oneOf("method", hyphenated(config.method), names);
  oneOf("arch", config.arch, ARCHS);
  const dataset = oneOf("dataset", hyphenated(config.dataset), DATASETS);
  if (config.target !== null) oneOf("target", config.target, TARGET_KINDS);
  oneOf("precision", config.precision, PRECISIONS);
  oneOf("convInit", config.convInit, CONV_INITS);
  for (const f of ["out", "resume", "dataDir"] as const) {
    if (config[f] !== null && config[f]!.trim() === "") {
      throw new RangeError(`Invalid ${f} ${JSON.stringify(config[f])}: expected a folder path, or null`);
    }
  }
  if (!/^(cpu|cuda(:\d+)?)$/.test(config.device)) {
    throw new RangeError(`Invalid device "${config.device}": expected cpu, cuda or cuda:<index>`);
  }
  for (const f of ["projHidden", "projDim", "projDepth", "logEvery", "checkpointEvery"] as const) {
    atLeast(f, config[f], 1);
  }
  atLeast("trainMinutes", config.trainMinutes, 0, false);
  if (config.epochs === 0 && !(config.trainMinutes > 0)) {
    throw new RangeError("Invalid epochs 0 with trainMinutes 0: epochs 0 fills trainMinutes; give one of them");
  }
  for (
    const f of ["width", "epochs", "evalEvery", "limitTrain", "limitTest", "probeEpochs", "threads", "seed"] as const
  ) {
    atLeast(f, config[f], 0);
  }
  for (const f of ["lr", "wd", "warmupEpochs"] as const) atLeast(f, config[f], 0, false);
  atLeast("distTimeout", config.distTimeout, 0.001, false);
  atLeast("batchSize", config.batchSize, 2);
  const augment = config.augment === null ? null : oneOf("augment", hyphenated(config.augment), AUGMENTS);
  checkTraining(config, dataset);
  const same = method === config.method && dataset === config.dataset && augment === config.augment;
  const checked = same ? config : { ...config, method, dataset, augment };
  const built = buildMethod(checked); // checks the option names and values
  const extra = extraViews(checked);
  const unsupported = extra.length > 0 ? multiViewSupport(built, { cutmix: checked.cutmix > 0 }) : null;
  if (unsupported !== null) {
    throw new RangeError(
      `Cannot train ${checked.method} (${built.form}, target ${built.target}) with ${
        extra.join(" and ")
      }: ${unsupported}`,
    );
  }
  return checked;
}

/** The options of image folders, augmentation, optimizer and schedule. */
function checkTraining(config: TrainConfig, dataset: DatasetName): void {
  oneOf("optimizer", config.optimizer, OPTIMIZERS);
  oneOf("imageStorage", config.imageStorage, IMAGE_STORAGES);
  atLeast("imageSize", config.imageSize, 1);
  for (const f of ["imageCanvas", "decodeWorkers"] as const) atLeast(f, config[f], 0);
  for (const f of ["cutmix", "lrMin"] as const) atLeast(f, config[f], 0, false);
  if (!(config.larsTrust > 0)) throw new RangeError(`Invalid larsTrust ${config.larsTrust}: expected a number > 0`);
  if (!(config.momentum >= 0 && config.momentum < 1)) {
    throw new RangeError(`Invalid momentum ${config.momentum}: expected a number in [0, 1)`);
  }
  if (config.multiCrop !== null) parseMultiCrop(config.multiCrop);
  if (config.recipe !== null) oneOf("recipe", config.recipe, Object.keys(TRAIN_RECIPES));
  if (dataset === "image-folder" && config.dataDir === null) {
    throw new RangeError(
      "Cannot train on image-folder without --data-dir: DIR/train/<class>/* (and DIR/val/<class>/*), or a flat folder of images",
    );
  }
  if (dataset !== "image-folder" && config.evalDataDir !== null) {
    throw new RangeError(`Invalid evalDataDir "${config.evalDataDir}": only image-folder datasets take one`);
  }
}

/**
 * What a config adds to the two global views: ["6 local views", "a CutMix view"], or [].
 *
 * @example Usage
 * ```ts
 * import { DEFAULT_CONFIG, extraViews } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(extraViews(DEFAULT_CONFIG), []); // two global views only
 * assert.equal(extraViews({ ...DEFAULT_CONFIG, cutmix: 1 }).length, 1);
 * ```
 */
export function extraViews(config: TrainConfig): string[] {
  const local = config.multiCrop === null ? 0 : parseMultiCrop(config.multiCrop).local.count;
  return [
    ...(local > 0 ? [`${local} local view${local > 1 ? "s" : ""} (--multi-crop ${config.multiCrop})`] : []),
    ...(config.cutmix > 0 ? [`a CutMix view (--cutmix ${config.cutmix})`] : []),
  ];
}

/** Numbers derived from a config, printed at start. */
export interface DerivedNumbers {
  /** Optimizer steps per epoch. */
  stepsPerEpoch: number;
  /** Steps of the whole run. */
  totalSteps: number;
  /** lr · batchSize / 256. */
  effectiveLr: number;
  /** Warm-up steps (at most the whole run). */
  warmupSteps: number;
}

/** Steps and the effective learning rate for a training set of `trainSize` images. */
export function derive(config: TrainConfig, trainSize: number): DerivedNumbers {
  if (config.epochs < 1) throw new RangeError("Cannot plan the run: epochs 0 is resolved first (resolveEpochs)");
  const stepsPerEpoch = Math.floor(trainSize / config.batchSize);
  if (stepsPerEpoch < 1) {
    throw new RangeError(`Cannot train: ${trainSize} training images give no full batch of ${config.batchSize}`);
  }
  return {
    stepsPerEpoch,
    totalSteps: stepsPerEpoch * config.epochs,
    effectiveLr: (config.lr * config.batchSize) / 256,
    warmupSteps: Math.min(Math.round(config.warmupEpochs * stepsPerEpoch), stepsPerEpoch * config.epochs), // a run shorter than its warm-up warms up throughout
  };
}

/** Method options as a config holds them. */
type Options = Record<string, string | number | boolean>;

/** The registry method and the options a config names: a method, or a Table 1 preset's with the config's on top. */
function methodAndOptions(config: TrainConfig): { name: string; options: Options } {
  const preset = Object.hasOwn(METHODS, hyphenated(config.method)) ? undefined : findPreset(config.method);
  if (!preset) return { name: config.method, options: config.methodOptions };
  return { name: preset.method, options: { ...preset.options, ...config.methodOptions } as Options };
}

/**
 * The method options a run builds its method with: the config's (over a Table 1 preset's); when λ is not
 * given and the form's negative gradient is built from unit-norm features (UniGrad, the unified BYOL and
 * SimSiam forms, Barlow Twins l2, VICReg l2), λ_d = λ_2048·d/2048 (`widthScaledLambda`: λ_2048 belongs to
 * a 2048-wide projector output, the mean eigenvalue of λF being λ/d: ≈ 0.05 at d = 2048); `target` when the
 * config sets one; and `checkValues: false` on CUDA unless set.
 *
 * @param config A config.
 * @returns The options, as they go into `createMethod` and the run's `config.json`.
 * @throws {TypeError} On an unknown method or option.
 *
 * @example Usage
 * ```ts
 * import { DEFAULT_CONFIG, resolvedMethodOptions } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(resolvedMethodOptions({ ...DEFAULT_CONFIG, projDim: 128 }), { lambda: 6.25 });
 * ```
 */
export function resolvedMethodOptions(config: TrainConfig): Record<string, string | number | boolean> {
  const { name, options } = methodAndOptions(config);
  const out: Options = { ...options };
  const scaled = "lambda" in options ? null : widthScaledLambda(createMethod(name, options), config.projDim);
  if (scaled !== null) out.lambda = scaled.lambda;
  // The per-step NaN/normalisation checks read values back (a device sync): on CUDA they are off
  // unless asked for, and the run's guard checks the logged values every logEvery steps instead.
  if (config.device !== "cpu" && !("checkValues" in options)) out.checkValues = false;
  if (config.target !== null) out.target = config.target;
  return out;
}

/**
 * How a run's λ was chosen, in words, for its `config.json` and report: the width rule with the resolved
 * value, the user's value, or null when the form has no λ that belongs to a width.
 *
 * @param config A config.
 * @returns The rule and the resolved λ, or null.
 * @throws {TypeError} On an unknown method or option.
 *
 * @example Usage
 * ```ts
 * import { DEFAULT_CONFIG, lambdaRule } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * assert.equal(lambdaRule({ ...DEFAULT_CONFIG, projDim: 128 }), "λ = 100·d/2048 = 6.25 (d = 128; λ_2048 = 100 for unigrad/unified)");
 * ```
 */
export function lambdaRule(config: TrainConfig): string | null {
  const { name, options } = methodAndOptions(config);
  const method = createMethod(name, options);
  const scaled = widthScaledLambda(method, config.projDim);
  if ("lambda" in options) return `λ = ${options.lambda} (set by the user)`;
  if (scaled === null) return null;
  const { lambda, lambda2048 } = scaled;
  const form = `${method.name}/${method.form}`;
  return `λ = ${lambda2048}·d/2048 = ${lambda} (d = ${config.projDim}; λ_2048 = ${lambda2048} for ${form})`;
}

/**
 * The method a config names: a registry method (`"unigrad"`), or a preset of the paper's Table 1 that is
 * not also a method name (`"byol-directpred"`, `"barlow-twins-l2"`, …), built with `resolvedMethodOptions`.
 *
 * @param config A config.
 * @param comm The communicator of a data-parallel run (gathers features, averages F). @default localComm
 * @returns The method.
 * @throws {TypeError} On an unknown method or option.
 *
 * @example Usage
 * ```ts
 * import { buildMethod, DEFAULT_CONFIG } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const m = buildMethod({ ...DEFAULT_CONFIG, method: "byol-directpred" });
 * assert.deepEqual([m.name, m.form], ["byol", "directpred"]);
 * ```
 */
export function buildMethod(config: TrainConfig, comm?: Communicator): Method {
  const options = resolvedMethodOptions(config);
  return createMethod(methodAndOptions(config).name, comm ? { ...options, comm } : options);
}

/**
 * Keys a run's `config.json` holds besides the config (ignored when it is read back with
 * `readConfigFile`); older runs wrote the config's method options as `methodOpts` and the built ones
 * as `methodOptions`.
 */
const OUTPUT_ONLY = ["derived", "resolvedMethodOptions", "lambdaRule", "resolved", "budget"];

/** The largest config file read (a config is about 1 kB). */
const MAX_CONFIG_BYTES = 1 << 20;

/**
 * Reads a JSON config file: an object with any subset of the config's fields (a run's `config.json`
 * works too), from a regular file of at most 1 MiB. Checking the values is left to `validateConfig`.
 *
 * @param path The JSON file.
 * @returns The fields it sets.
 * @throws {Error} Naming the file when it cannot be read or is not a JSON object.
 *
 * @example Usage
 * ```ts
 * import { readConfigFile } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const file = await Deno.makeTempFile({ suffix: ".json" });
 * await Deno.writeTextFile(file, JSON.stringify({ method: "simclr", epochs: 3 }));
 * assert.deepEqual(readConfigFile(file), { method: "simclr", epochs: 3 });
 * await Deno.remove(file);
 * ```
 */
export function readConfigFile(path: string): Partial<TrainConfig> {
  let text: string;
  try {
    text = new TextDecoder().decode(readFileBoundedSync(path, MAX_CONFIG_BYTES));
  } catch (e) {
    throw new Error(`Cannot read config file "${path}": ${(e as Error).message.replace(`Cannot read ${path}: `, "")}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(`Cannot read config file "${path}": not valid JSON (${(e as Error).message})`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error(`Cannot read config file "${path}": expected a JSON object, got ${JSON.stringify(value)}`);
  }
  const fields = { ...value } as Record<string, unknown>;
  for (const k of OUTPUT_ONLY) delete fields[k];
  if ("methodOpts" in fields) { // an older file: methodOpts was the config's, methodOptions the built ones
    fields.methodOptions = fields.methodOpts;
    delete fields.methodOpts;
  }
  return fields as Partial<TrainConfig>;
}

/**
 * The config a resumed run was saved with, read cheaply (only `state.json` of the newest checkpoint
 * whose record parses), for the command line to start from; null when none is found. `train()` still
 * verifies the checkpoint it resumes from in full.
 *
 * @param resume A run folder, its checkpoints folder or one `ckpt-*` folder.
 * @returns The saved config's fields, or null.
 *
 * @example Usage
 * ```ts
 * import { resumeConfig } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * assert.equal(await resumeConfig(dir), null); // no checkpoint: nothing to resume
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function resumeConfig(resume: string): Promise<Partial<TrainConfig> | null> {
  const candidates = [resume];
  for (const dir of [join(resume, "checkpoints"), resume]) {
    candidates.push(...(await listCheckpoints(dir)).reverse().map((c) => c.path));
  }
  for (const path of candidates) {
    try {
      const record = JSON.parse(new TextDecoder().decode(await readFileBounded(join(path, "state.json"), 16 << 20)));
      const config = record?.state?.config;
      if (typeof config === "object" && config !== null && !Array.isArray(config)) {
        return config as Partial<TrainConfig>;
      }
    } catch {
      // not a checkpoint, or a corrupt one: the next
    }
  }
  return null;
}
