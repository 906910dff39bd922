/**
 * Every setting of a training run, declared once: its value type, default, one line of help, its
 * check, whether it changes the run's trajectory (and so may not change on `--resume`), and its
 * command-line spelling. Everything else is derived from this table: `TrainConfig` and
 * `DEFAULT_CONFIG`, the flag parser and `--help` of `train.ts`, the per-field checks of
 * `validateConfig`, the comparison a resume makes (`configChanges`), and the README's flag list
 * (`scripts/readme_flags.ts` writes it; a test compares).
 *
 * To add a setting: add a row here and read it where it is used.
 *
 * The defaults are the CPU default run: UniGrad on Fashion-MNIST with the small ResNet-20-style
 * network, chosen so that a 2-core machine trains it within a few minutes and its kNN accuracy clearly
 * rises above the same network's at initialisation.
 *
 * @module
 */
import { canonicalName, parseMultiCrop } from "../data/mod.ts";
import { type Arch, ARCHS, METHODS, TABLE1, TARGET_KINDS, type TargetKind } from "../ssl/mod.ts";

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
/** Augmentations `--augment` accepts: the named augmentations of src/data, or none (crops only). */
export const AUGMENTS = ["mocov2", "byol", "fashion-mnist", "none"] as const;
/** The augmentation each dataset trains with unless `--augment` names one. */
export const DATASET_AUGMENT: Readonly<Record<DatasetName, typeof AUGMENTS[number]>> = {
  "fashion-mnist": "fashion-mnist",
  mnist: "fashion-mnist",
  cifar10: "mocov2",
  cifar100: "mocov2",
  stl10: "mocov2",
  "image-folder": "mocov2",
};
/** Optimizers `--optimizer` accepts. */
export const OPTIMIZERS = ["sgd", "lars"] as const;
/** Image-folder storages `--image-storage` accepts (see `imageFolder`). */
export const IMAGE_STORAGES = ["stream", "cache"] as const;

/** Method options as a config holds them (`--method-option key=value`). */
export type MethodOptions = Record<string, string | number | boolean>;

/**
 * Everything a run needs: the value type of each setting. What each field means, its default, check
 * and flag are its row of `SETTINGS` (`--help` and the README's flag list print them).
 */
export interface TrainConfig {
  /** See `SETTINGS.method`. */
  method: string;
  /** See `SETTINGS.methodOptions`. */
  methodOptions: MethodOptions;
  /** See `SETTINGS.arch`. */
  arch: Arch;
  /** See `SETTINGS.width`. */
  width: number;
  /** See `SETTINGS.projHidden`. */
  projHidden: number;
  /** See `SETTINGS.projDim`. */
  projDim: number;
  /** See `SETTINGS.projDepth`. */
  projDepth: number;
  /** See `SETTINGS.zeroInitResidual`. */
  zeroInitResidual: boolean;
  /** See `SETTINGS.convInit`. */
  convInit: typeof CONV_INITS[number];
  /** See `SETTINGS.dataset`. */
  dataset: DatasetName;
  /** See `SETTINGS.dataDir`. */
  dataDir: string | null;
  /** See `SETTINGS.evalDataDir`. */
  evalDataDir: string | null;
  /** See `SETTINGS.imageSize`. */
  imageSize: number;
  /** See `SETTINGS.imageCanvas`. */
  imageCanvas: number;
  /** See `SETTINGS.imageStorage`. */
  imageStorage: typeof IMAGE_STORAGES[number];
  /** See `SETTINGS.decodeWorkers`. */
  decodeWorkers: number;
  /** See `SETTINGS.augment`. */
  augment: typeof AUGMENTS[number] | null;
  /** See `SETTINGS.multiCrop`. */
  multiCrop: string | null;
  /** See `SETTINGS.cutmix`. */
  cutmix: number;
  /** See `SETTINGS.epochs`. */
  epochs: number;
  /** See `SETTINGS.trainMinutes`. */
  trainMinutes: number;
  /** See `SETTINGS.batchSize`. */
  batchSize: number;
  /** See `SETTINGS.lr`. */
  lr: number;
  /** See `SETTINGS.wd`. */
  wd: number;
  /** See `SETTINGS.wdExcludeNormBias`. */
  wdExcludeNormBias: boolean;
  /** See `SETTINGS.optimizer`. */
  optimizer: typeof OPTIMIZERS[number];
  /** See `SETTINGS.momentum`. */
  momentum: number;
  /** See `SETTINGS.larsTrust`. */
  larsTrust: number;
  /** See `SETTINGS.lrMin`. */
  lrMin: number;
  /** See `SETTINGS.warmupEpochs`. */
  warmupEpochs: number;
  /** See `SETTINGS.target`. */
  target: TargetKind | null;
  /** See `SETTINGS.device`. */
  device: string;
  /** See `SETTINGS.precision`. */
  precision: typeof PRECISIONS[number];
  /** See `SETTINGS.seed`. */
  seed: number;
  /** See `SETTINGS.out`. */
  out: string | null;
  /** See `SETTINGS.resume`. */
  resume: string | null;
  /** See `SETTINGS.overwrite`. */
  overwrite: boolean;
  /** See `SETTINGS.evalEvery`. */
  evalEvery: number;
  /** See `SETTINGS.limitTrain`. */
  limitTrain: number;
  /** See `SETTINGS.limitTest`. */
  limitTest: number;
  /** See `SETTINGS.logEvery`. */
  logEvery: number;
  /** See `SETTINGS.checkpointEvery`. */
  checkpointEvery: number;
  /** See `SETTINGS.keepCheckpoints`. */
  keepCheckpoints: number;
  /** See `SETTINGS.probeEpochs`. */
  probeEpochs: number;
  /** See `SETTINGS.threads`. */
  threads: number;
  /** See `SETTINGS.syncBn`. */
  syncBn: boolean;
  /** See `SETTINGS.distTimeout`. */
  distTimeout: number;
  /** See `SETTINGS.watch`. */
  watch: number;
  /** See `SETTINGS.watchHost`. */
  watchHost: string;
  /** See `SETTINGS.recipe`. */
  recipe: string | null;
}

/** How a setting's value is read from the command line and checked. */
export type SettingKind =
  /** One of `choices`; `canonical`: underscores read as hyphens first (`barlow_twins`). */
  | { type: "choice"; choices: readonly string[]; canonical?: boolean; nullable?: boolean }
  /** A safe integer in [min, max]. */
  | { type: "integer"; min: number; max: number }
  /** A finite number in [min, max] (`above`: > min; `below`: < max). */
  | { type: "number"; min: number; max: number; above?: boolean; below?: boolean }
  /** true or false (`switch`: set by the bare flag, `--overwrite`). */
  | { type: "boolean"; switch?: boolean }
  /** A string (`nullable`: or null; never blank), with an optional check of its form. */
  | { type: "string"; nullable: boolean; check?: (value: string) => void }
  /** Method options: `key=value`, repeatable. */
  | { type: "options" };

/** One setting: everything about it that is not the code that uses it. */
export interface Setting<T> {
  /** The command-line flag without `--`; "": the field's name in kebab-case (see `flagOf`). */
  flag: string;
  /** One line: what it means and what its special values do (`--help`, the README). */
  help: string;
  /** The value a run gets unless a recipe, a config file or a flag sets it. */
  default: T;
  /** How the value is read and checked. */
  kind: SettingKind;
  /** A different value makes a different run: a resumed run must keep the checkpoint's. */
  trajectory: boolean;
}

type Common = { help: string; trajectory: boolean; flag?: string };

function choice<const C extends readonly string[]>(
  choices: C,
  o: Common & { default: C[number]; canonical?: boolean },
): Setting<C[number]> {
  return row(o, { type: "choice", choices, canonical: o.canonical });
}
function nullableChoice<const C extends readonly string[]>(
  choices: C,
  o: Common & { canonical?: boolean },
): Setting<C[number] | null> {
  return row({ ...o, default: null }, { type: "choice", choices, canonical: o.canonical, nullable: true });
}
function integer(o: Common & { default: number; min: number; max?: number }): Setting<number> {
  return row(o, { type: "integer", min: o.min, max: o.max ?? Number.MAX_SAFE_INTEGER });
}
function number(
  o: Common & { default: number; min: number; max?: number; above?: boolean; below?: boolean },
): Setting<number> {
  return row(o, { type: "number", min: o.min, max: o.max ?? Number.MAX_VALUE, above: o.above, below: o.below });
}
function boolean(o: Common & { default: boolean; switch?: boolean }): Setting<boolean> {
  return row(o, { type: "boolean", switch: o.switch });
}
function text(o: Common & { default: string; check?: (value: string) => void }): Setting<string> {
  return row(o, { type: "string", nullable: false, check: o.check });
}
function nullableText(o: Common & { check?: (value: string) => void }): Setting<string | null> {
  return row({ ...o, default: null }, { type: "string", nullable: true, check: o.check });
}
function row<T>(o: Common & { default: T }, kind: SettingKind): Setting<T> {
  return { flag: o.flag ?? "", help: o.help, default: o.default, kind, trajectory: o.trajectory };
}

/** Method names and the Table 1 presets that are not also method names. */
const METHOD_NAMES: string[] = [...Object.keys(METHODS), ...Object.keys(TABLE1).filter((k) => !(k in METHODS))];

/** The largest network sizes accepted: far above any published setting, far below what would exhaust memory. */
const MAX_WIDTH = 1024, MAX_FEATURES = 65536, MAX_DEPTH = 16, MAX_SIDE = 4096;

/**
 * Every setting of a run, in the order of `config.json` and `--help`. A flag is the field's name in
 * kebab-case (`projHidden` → `--proj-hidden`) unless the row names another (see `flagOf`).
 */
export const SETTINGS: { readonly [K in keyof TrainConfig]: Setting<TrainConfig[K]> } = {
  method: choice(METHOD_NAMES, {
    default: "unigrad",
    canonical: true,
    trajectory: true,
    help: "the method, or a Table 1 preset (both listed below)",
  }),
  methodOptions: row<MethodOptions>({
    flag: "method-option",
    default: {},
    trajectory: true,
    help: "a method option key=value, repeatable (e.g. lambda=6.25, form=unified, queueSize=4096)",
  }, { type: "options" }),
  arch: choice(ARCHS, { default: "resnet20", trajectory: true, help: "backbone network" }),
  width: integer({
    default: 0,
    min: 0,
    max: MAX_WIDTH,
    trajectory: true,
    help: "channels of the backbone's first stage, doubled per stage (0: the arch's own, 16 for resnet20, 64 others)",
  }),
  projHidden: integer({ default: 512, min: 1, max: MAX_FEATURES, trajectory: true, help: "projector hidden width" }),
  projDim: integer({ default: 128, min: 1, max: MAX_FEATURES, trajectory: true, help: "projector output width d" }),
  projDepth: integer({
    default: 2,
    min: 1,
    max: MAX_DEPTH,
    trajectory: true,
    help: "projector Linear layers (BN + ReLU after all but the last)",
  }),
  zeroInitResidual: boolean({
    default: false,
    trajectory: true,
    help: "start the last BN γ of every residual block at 0 (the paper's ResNet-50)",
  }),
  convInit: choice(CONV_INITS, {
    default: "torch",
    trajectory: true,
    help: "backbone conv weights (torch: nn.Conv2d's default; kaiming_normal: torchvision's, ~2.4× larger)",
  }),
  dataset: choice(DATASETS, {
    default: "fashion-mnist",
    canonical: true,
    trajectory: true,
    help: "the images to train on",
  }),
  dataDir: nullableText({
    trajectory: false,
    help: "folder of the dataset files (null: the dataset's usual folder; image-folder: DIR/train, DIR/val)",
  }),
  evalDataDir: nullableText({
    trajectory: false,
    help: "image-folder: labelled train/ + val/ to evaluate a flat unlabelled --data-dir on",
  }),
  imageSize: integer({
    default: 224,
    min: 1,
    max: MAX_SIDE,
    trajectory: true,
    help: "image-folder: side of the global views and of the evaluation centre crop",
  }),
  imageCanvas: integer({
    default: 0,
    min: 0,
    max: MAX_SIDE,
    trajectory: true,
    help: "image-folder: side each whole image is letterboxed into (0: image-size·8/7, 256 for 224)",
  }),
  imageStorage: choice(IMAGE_STORAGES, {
    default: "stream",
    trajectory: true,
    help: "image-folder: decode the files every epoch, or a JPEG cache bounded to the canvas, built once",
  }),
  decodeWorkers: integer({
    default: 0,
    min: 0,
    max: 1024,
    trajectory: false,
    help: "image-folder: decoding threads (0: one per core)",
  }),
  augment: nullableChoice(AUGMENTS, {
    canonical: true,
    trajectory: true,
    help: "view augmentation (null: the dataset's, fashion-mnist for Fashion-MNIST and MNIST, mocov2 otherwise)",
  }),
  multiCrop: nullableText({
    trajectory: true,
    check: (spec) => void parseMultiCrop(spec),
    help: "global and local views, COUNTxSIZE[:LO-HI], e.g. 2x224,6x96 (null: two views)",
  }),
  cutmix: number({
    default: 0,
    min: 0,
    max: 1e6,
    trajectory: true,
    help: "α of an extra view that is a CutMix of the batch (Beta(α, α) boxes; 0: none)",
  }),
  epochs: integer({
    default: 0,
    min: 0,
    max: 1e6,
    trajectory: true,
    help: "training epochs (0: as many as fit --train-minutes, measured on this machine first)",
  }),
  trainMinutes: number({
    default: 10,
    min: 0,
    max: 1e7,
    trajectory: false,
    help: "with --epochs 0: minutes of training to fill (evaluation not counted)",
  }),
  batchSize: integer({ default: 128, min: 2, max: 1 << 20, trajectory: true, help: "image pairs per step" }),
  lr: number({
    default: 0.1,
    min: 0,
    max: 1e6,
    trajectory: true,
    help: "base learning rate for batch 256 (scaled linearly with the batch)",
  }),
  wd: number({ default: 5e-4, min: 0, max: 1e6, trajectory: true, help: "weight decay" }),
  wdExcludeNormBias: boolean({
    default: true,
    trajectory: true,
    help: "no weight decay (nor LARS adaptation) on BN parameters and biases",
  }),
  optimizer: choice(OPTIMIZERS, { default: "sgd", trajectory: true, help: "optimizer of the online network" }),
  momentum: number({ default: 0.9, min: 0, max: 1, below: true, trajectory: true, help: "momentum of SGD and LARS" }),
  larsTrust: number({
    default: 0.001,
    min: 0,
    max: 1e6,
    above: true,
    trajectory: true,
    help: "LARS trust coefficient η",
  }),
  lrMin: number({
    default: 0,
    min: 0,
    max: 1e6,
    trajectory: true,
    help: "floor of the cosine decay, for batch 256 like --lr (the official code: 1e-3·lr)",
  }),
  warmupEpochs: number({
    default: 0.2,
    min: 0,
    max: 1e6,
    trajectory: true,
    help: "linear warm-up epochs before the cosine decay",
  }),
  target: nullableChoice(TARGET_KINDS, {
    trajectory: true,
    help: "target branch, the paper's Table 2 (null: the one the method is built for)",
  }),
  device: text({
    default: "cpu",
    trajectory: false,
    check: (device) => {
      if (!/^(cpu|cuda(:\d+)?)$/.test(device)) {
        throw new RangeError(`Invalid device "${device}": expected cpu, cuda or cuda:<index>`);
      }
    },
    help: "cpu, cuda or cuda:<index>",
  }),
  precision: choice(PRECISIONS, {
    default: "auto",
    trajectory: true,
    help: "encoder forwards in bf16 autocast or float32 (auto: bf16 where the device computes it natively)",
  }),
  seed: integer({
    default: 0,
    min: 0,
    trajectory: true,
    help: "seed of the weights, the data order and the augmentation",
  }),
  out: nullableText({
    trajectory: false,
    help: "run folder (null: runs/<method>-<dataset>, or the resumed run's folder)",
  }),
  resume: nullableText({
    trajectory: false,
    help: "resume from a run folder, its checkpoints folder or a ckpt-* folder (its settings by default)",
  }),
  overwrite: boolean({
    default: false,
    switch: true,
    trajectory: false,
    help: "start a new run in a folder that holds another run's checkpoints, deleting them",
  }),
  evalEvery: integer({
    default: 1,
    min: 0,
    trajectory: false,
    help: "kNN every N epochs, and always at the start and the end (0: only there)",
  }),
  limitTrain: integer({ default: 0, min: 0, trajectory: true, help: "use only the first N training images (0: all)" }),
  limitTest: integer({ default: 0, min: 0, trajectory: false, help: "use only the first N test images (0: all)" }),
  logEvery: integer({
    default: 20,
    min: 1,
    trajectory: false,
    help: "a metrics line every N steps (each one reads values back: a device sync)",
  }),
  checkpointEvery: integer({
    default: 200,
    min: 1,
    trajectory: false,
    help: "a checkpoint every N steps (and at each epoch end)",
  }),
  keepCheckpoints: integer({
    default: 3,
    min: 1,
    trajectory: false,
    help: "checkpoints kept in the run folder, the newest (older ones are deleted after each save)",
  }),
  probeEpochs: integer({
    default: 20,
    min: 0,
    max: 1e6,
    trajectory: false,
    help: "epochs of the final linear probe (0: skip it)",
  }),
  threads: integer({ default: 0, min: 0, max: 4096, trajectory: false, help: "CPU threads (0: all cores)" }),
  syncBn: boolean({
    default: true,
    trajectory: true,
    help: "with several processes: batch norm over the global batch in both encoders (false: per rank)",
  }),
  distTimeout: number({
    default: 60,
    min: 0.001,
    max: 1e7,
    trajectory: false,
    help: "with several processes: seconds any rendezvous or collective waits for the other ranks",
  }),
  watch: integer({
    default: 0,
    min: 0,
    max: 65535,
    trajectory: false,
    help: "serve the live page of this run on this port while it trains (0: no page; deno task watch DIR for others)",
  }),
  watchHost: text({
    default: "127.0.0.1",
    trajectory: false,
    help: "the address --watch binds (127.0.0.1: this machine only; 0.0.0.0: every interface)",
  }),
  recipe: nullableText({
    trajectory: false,
    help: "a named recipe setting many options at once (listed below); a config file and flags override it",
  }),
};

/** A setting's field name. */
export type SettingName = keyof TrainConfig;

/** kebab-case of a field name: `projHidden` → `proj-hidden`. */
function kebab(field: string): string {
  return field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/**
 * The command-line flag of a setting, without `--`: the row's, or the field's name in kebab-case.
 *
 * @example Usage
 * ```ts
 * import { flagOf } from "@unigrad/unigrad/run";
 * import assert from "node:assert/strict";
 *
 * assert.equal(flagOf("projHidden"), "proj-hidden");
 * assert.equal(flagOf("methodOptions"), "method-option");
 * ```
 */
export function flagOf(field: SettingName): string {
  return SETTINGS[field].flag || kebab(field);
}

/** The defaults: the CPU default run. */
export const DEFAULT_CONFIG: Readonly<TrainConfig> = Object.freeze(
  Object.fromEntries(Object.entries(SETTINGS).map(([k, s]) => [k, s.default])) as unknown as TrainConfig,
);

/** The settings as [field, row] pairs, in table order. */
export function settingEntries(): [SettingName, Setting<unknown>][] {
  return Object.entries(SETTINGS) as [SettingName, Setting<unknown>][];
}

/** The JSON type a row's value has, in words, for a type error. */
function expected(kind: SettingKind): string {
  switch (kind.type) {
    case "choice":
      return kind.nullable ? "a string or null" : "a string";
    case "integer":
    case "number":
      return "a number";
    case "boolean":
      return "a boolean";
    case "string":
      return kind.nullable ? "a string or null" : "a string";
    case "options":
      return "an object";
  }
}

function hasType(kind: SettingKind, value: unknown): boolean {
  if (value === null) return (kind.type === "choice" || kind.type === "string") && kind.nullable === true;
  switch (kind.type) {
    case "choice":
    case "string":
      return typeof value === "string";
    case "integer":
    case "number":
      return typeof value === "number";
    case "boolean":
      return typeof value === "boolean";
    case "options":
      return typeof value === "object" && !Array.isArray(value);
  }
}

function inRange(field: string, kind: SettingKind & { type: "integer" | "number" }, v: number): void {
  const integer = kind.type === "integer";
  const above = kind.type === "number" && kind.above, below = kind.type === "number" && kind.below;
  const low = above ? v > kind.min : v >= kind.min;
  const high = below ? v < kind.max : v <= kind.max;
  if (Number.isFinite(v) && low && high && (!integer || Number.isSafeInteger(v))) return;
  const top = kind.max >= Number.MAX_SAFE_INTEGER ? "2^53 − 1" : String(kind.max);
  const what = integer
    ? `an integer from ${kind.min} to ${top}`
    : `a number ${above ? ">" : "≥"} ${kind.min}${
      kind.max < Number.MAX_VALUE ? ` and ${below ? "<" : "≤"} ${top}` : ""
    }`;
  throw new RangeError(`Invalid ${field} ${v}: expected ${what}`);
}

/**
 * Checks one setting's value against its row and returns it in its one spelling (names with
 * underscores read as hyphens).
 *
 * @param field The setting.
 * @param value Its value.
 * @returns The value, canonical.
 * @throws {TypeError} On a value of the wrong type, or a method option that is not a string, number or boolean.
 * @throws {RangeError} On a value out of range or not among the choices (listing them).
 *
 * @example Usage
 * ```ts
 * import { checkSetting } from "@unigrad/unigrad/run";
 * import assert from "node:assert/strict";
 *
 * assert.equal(checkSetting("dataset", "fashion_mnist"), "fashion-mnist");
 * assert.throws(() => checkSetting("projDepth", 1e12), /Invalid projDepth 1000000000000: expected an integer from 1 to 16/);
 * ```
 */
export function checkSetting<K extends SettingName>(field: K, value: unknown): TrainConfig[K] {
  const kind = SETTINGS[field].kind;
  if (!hasType(kind, value)) {
    throw new TypeError(`Invalid ${field} ${JSON.stringify(value)}: expected ${expected(kind)}`);
  }
  if (value === null) return value as TrainConfig[K];
  switch (kind.type) {
    case "choice": {
      const name = kind.canonical ? canonicalName(value as string) : value as string;
      if (!kind.choices.includes(name)) {
        throw new RangeError(`Invalid ${field} "${value}": expected one of ${kind.choices.join(", ")}`);
      }
      return name as TrainConfig[K];
    }
    case "integer":
    case "number":
      inRange(field, kind, value as number);
      break;
    case "string":
      if ((value as string).trim() === "") {
        throw new RangeError(`Invalid ${field} ${JSON.stringify(value)}: expected a non-blank string, or null`);
      }
      kind.check?.(value as string);
      break;
    case "options":
      for (const [k, v] of Object.entries(value as object)) {
        if (!["string", "number", "boolean"].includes(typeof v)) {
          throw new TypeError(`Invalid method option ${k} ${JSON.stringify(v)}: expected a string, number or boolean`);
        }
      }
      break;
  }
  return value as TrainConfig[K];
}

/**
 * The trajectory-changing settings in which two configs differ, as `name (before → after)`: what a
 * resume refuses. An older checkpoint's `methodOpts` is read as its `methodOptions`.
 *
 * @param saved The checkpoint's config (any JSON value).
 * @param now The config the run would continue with.
 * @returns The differences, in table order; empty when the run continues the same trajectory.
 *
 * @example Usage
 * ```ts
 * import { configChanges } from "@unigrad/unigrad/run";
 * import { DEFAULT_CONFIG } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(configChanges(DEFAULT_CONFIG, { ...DEFAULT_CONFIG, optimizer: "lars", threads: 1 }), [
 *   'optimizer ("sgd" → "lars")', // threads do not change the trajectory
 * ]);
 * ```
 */
export function configChanges(saved: unknown, now: TrainConfig): string[] {
  const old = { ...(typeof saved === "object" && saved !== null ? saved : {}) } as Record<string, unknown>;
  if ("methodOpts" in old) old.methodOptions = old.methodOpts; // a checkpoint of an older version
  return settingEntries()
    .filter(([k, s]) => s.trajectory && JSON.stringify(old[k]) !== JSON.stringify(now[k]))
    .map(([k]) => `${k} (${JSON.stringify(old[k])} → ${JSON.stringify(now[k])})`);
}
