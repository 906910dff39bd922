/**
 * Checking a run's configuration as a whole, and reading one from a JSON file. Each field's type,
 * default, range and flag are declared once in `SETTINGS` (settings.ts); this file adds what spans
 * fields: the dataset needs a folder, the epochs or a time budget, the method can train the views.
 *
 * @module
 */
import { multiViewSupport } from "../ssl/mod.ts";
import { parseMultiCrop } from "../data/mod.ts";
import { readFileBoundedSync } from "../torch/files.ts";
import { checkSetting, DEFAULT_CONFIG, settingEntries, type TrainConfig } from "./settings.ts";
import { buildMethod } from "./method_options.ts";
import { TRAIN_RECIPES } from "./recipes.ts";
import { openResume } from "./resume.ts";

/** Configs `validateConfig` returned (frozen): checked once, not again by `train()`. */
const VALIDATED = new WeakSet<TrainConfig>();

/**
 * Checks every field of a config (types, ranges, names, and the method options against the method's
 * factory) and returns it, frozen, with the method and dataset names in their one spelling
 * (`barlow_twins` → `barlow-twins`, `fashion_mnist` → `fashion-mnist`). A config it returned passes
 * again without a second check.
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
 * assert.throws(() => validateConfig({ ...DEFAULT_CONFIG, epochs: -1 }), /Invalid epochs -1: expected an integer from 0/);
 * ```
 */
export function validateConfig(config: TrainConfig): Readonly<TrainConfig> {
  if (VALIDATED.has(config)) return config;
  const unknown = Object.keys(config).filter((k) => !(k in DEFAULT_CONFIG));
  if (unknown.length) {
    throw new TypeError(
      `Unknown config field(s) ${unknown.join(", ")}: expected ${Object.keys(DEFAULT_CONFIG).join(", ")}`,
    );
  }
  const missing = Object.keys(DEFAULT_CONFIG).filter((k) => !(k in config));
  if (missing.length) throw new TypeError(`Config field(s) ${missing.join(", ")} missing`);
  const checked = Object.fromEntries(
    settingEntries().map(([k]) => [k, checkSetting(k, config[k])]),
  ) as unknown as TrainConfig;
  checked.methodOptions = Object.freeze({ ...checked.methodOptions });
  checkAcrossFields(checked);
  Object.freeze(checked);
  VALIDATED.add(checked);
  return checked;
}

/** What one field's check cannot see: the dataset's folders, the epochs, the recipe, the method and its views. */
function checkAcrossFields(config: TrainConfig): void {
  if (config.epochs === 0 && !(config.trainMinutes > 0)) {
    throw new RangeError("Invalid epochs 0 with trainMinutes 0: epochs 0 fills trainMinutes; give one of them");
  }
  if (config.recipe !== null && !Object.hasOwn(TRAIN_RECIPES, config.recipe)) {
    throw new RangeError(
      `Invalid recipe "${config.recipe}": expected one of ${Object.keys(TRAIN_RECIPES).join(", ")}`,
    );
  }
  if (config.dataset === "image-folder" && config.dataDir === null) {
    throw new RangeError(
      "Cannot train on image-folder without --data-dir: DIR/train/<class>/* (and DIR/val/<class>/*), or a flat folder of images",
    );
  }
  if (config.dataset !== "image-folder" && config.evalDataDir !== null) {
    throw new RangeError(`Invalid evalDataDir "${config.evalDataDir}": only image-folder datasets take one`);
  }
  const built = buildMethod(config); // checks the option names and values
  const extra = extraViews(config);
  const unsupported = extra.length > 0 ? multiViewSupport(built, { cutmix: config.cutmix > 0 }) : null;
  if (unsupported !== null) {
    throw new RangeError(
      `Cannot train ${config.method} (${built.form}, target ${built.target}) with ${
        extra.join(" and ")
      }: ${unsupported}`,
    );
  }
}

/**
 * What a config adds to the two global views: ["6 local views", "a CutMix view"], or [].
 *
 * @example Usage
 * ```ts
 * import { DEFAULT_CONFIG } from "@unigrad/unigrad";
 * import { extraViews } from "@unigrad/unigrad/run";
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

/**
 * Keys a run's `config.json` holds besides the config (ignored when it is read back with
 * `readConfigFile`); older runs wrote the config's method options as `methodOpts` and the built ones
 * as `methodOptions`.
 */
const OUTPUT_ONLY = ["derived", "resolvedMethodOptions", "runMethodOptions", "lambdaRule", "resolved", "budget"];

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
 * The config a resumed run was saved with, or null when `resume` holds no intact checkpoint.
 *
 * @deprecated `train.ts` now opens the checkpoint once (`openResume`) and passes it to `train()`; this
 * function goes in the next release.
 */
export async function resumeConfig(resume: string): Promise<Partial<TrainConfig> | null> {
  try {
    const { checkpoint } = await openResume(resume);
    checkpoint.tensors.forEach((t) => t.dispose());
    const config = (checkpoint.state as { config?: unknown }).config;
    return typeof config === "object" && config !== null && !Array.isArray(config) ? config : null;
  } catch {
    return null;
  }
}
