/**
 * The method a run trains and its options: a registry method or a Table 1 preset, the options of the
 * config over the preset's, λ scaled to the projector's width when the user did not set it, and the
 * rule in words for `config.json` and the report.
 *
 * @module
 */
import { type Communicator, createMethod, findPreset, type Method, METHODS, widthScaledLambda } from "../ssl/mod.ts";
import { canonicalName } from "../data/mod.ts";
import type { MethodOptions as Options, TrainConfig } from "./settings.ts";

/** The registry method and the options a config names: a method, or a Table 1 preset's with the config's on top. */
function methodAndOptions(config: TrainConfig): { name: string; options: Options } {
  const preset = Object.hasOwn(METHODS, canonicalName(config.method)) ? undefined : findPreset(config.method);
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
 * import { DEFAULT_CONFIG } from "@unigrad/unigrad";
 * import { lambdaRule } from "@unigrad/unigrad/run";
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

/** @deprecated Renamed `resolvedMethodOptions`; this alias goes in the next release. */
export const runMethodOptions: typeof resolvedMethodOptions = resolvedMethodOptions;
