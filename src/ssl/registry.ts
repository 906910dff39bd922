/**
 * The typed registry of the unified gradient framework: every method by name (its factory and the names
 * of its options), the paper's Table 1 rows as presets, and its Table 2 target kinds.
 *
 * Adding a method: one method file in src/ssl/ (formula header, exported options, factory), one line in
 * `METHODS` below, and one test in tests/ssl/ (tests/ssl/registry_test.ts checks all three exist).
 *
 * Names are spelt with hyphens (`barlow-twins`, `barlow-twins-a-identity`); the same names with
 * underscores (`barlow_twins`) are accepted everywhere a name is read.
 *
 * @module
 */
import { barlowTwins } from "./barlow_twins.ts";
import { byol } from "./byol.ts";
import { moco } from "./moco.ts";
import { simclr } from "./simclr.ts";
import { simsiam } from "./simsiam.ts";
import { unigrad } from "./unigrad.ts";
import { vicreg } from "./vicreg.ts";
import type { CommonOptions, Method, TargetKind } from "./method.ts";
import { canonicalName } from "../data/mod.ts";
import { UNIT_NORM_LAMBDA } from "./lambdas.ts";

export { UNIT_NORM_LAMBDA };

/** One registry entry: the factory and the names of the options it reads besides `CommonOptions`. */
export interface MethodEntry<O extends CommonOptions> {
  /** Builds the method. */
  create: (options?: O) => Method;
  /** The option names `create` reads, besides `target`, `comm` and `checkValues`. */
  options: readonly Exclude<keyof O, keyof CommonOptions>[];
}

/** Every method, by name: its factory and the names of its own options. One line per method. */
export const METHODS = {
  unigrad: { create: unigrad, options: ["lambda", "rho"] },
  moco: { create: moco, options: ["tau", "queueSize"] },
  simclr: { create: simclr, options: ["tau", "form"] },
  byol: { create: byol, options: ["form", "hiddenDim", "lambda", "rho", "eps"] },
  simsiam: { create: simsiam, options: ["form", "hiddenDim", "lambda", "rho", "eps"] },
  "barlow-twins": { create: barlowTwins, options: ["form", "lambda", "eps"] },
  vicreg: { create: vicreg, options: ["form", "sim", "std", "cov", "lambda"] },
} as const satisfies Record<string, MethodEntry<never>>;

/** A method's registry name. */
export type MethodName = keyof typeof METHODS;

/** The options of the method called `N` (its factory's argument). */
export type MethodOptions<N extends MethodName> = NonNullable<Parameters<(typeof METHODS)[N]["create"]>[0]>;

// Compile-time check that each entry lists every field of its options interface.
type Unlisted = {
  [N in MethodName]: Exclude<keyof MethodOptions<N>, keyof CommonOptions | (typeof METHODS)[N]["options"][number]>;
}[MethodName];
const _everyOptionListed: [Unlisted] extends [never] ? true : Unlisted = true;

const COMMON_OPTIONS = ["target", "comm", "checkValues"] as const;

/**
 * The registry name `name` stands for, accepting underscores for hyphens (`barlow_twins`).
 *
 * @param name A method name as a user typed it.
 * @returns The registry name.
 * @throws {TypeError} On an unknown name, listing the known ones.
 *
 * @example Usage
 * ```ts
 * import { methodName } from "@unigrad/unigrad/ssl";
 * import assert from "node:assert/strict";
 *
 * assert.equal(methodName("barlow_twins"), "barlow-twins");
 * assert.throws(() => methodName("simclrr"), /Unknown method "simclrr"/);
 * ```
 */
export function methodName(name: string): MethodName {
  const key = canonicalName(name);
  if (!Object.hasOwn(METHODS, key)) {
    throw new TypeError(`Unknown method "${name}": expected one of ${Object.keys(METHODS).join(", ")}`);
  }
  return key as MethodName;
}

/**
 * Builds a method by registry name.
 *
 * @param name One of `Object.keys(METHODS)` (underscores accepted for hyphens).
 * @param options The method's options.
 * @returns The method.
 * @throws {TypeError} On an unknown name or option name, listing the known ones.
 *
 * @example Usage
 * ```ts
 * import { createMethod } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const m = createMethod("barlow-twins", { form: "l2" });
 * assert.equal(m.form, "l2");
 * assert.throws(() => createMethod("simclrr"), /Unknown method "simclrr": expected one of unigrad, moco/);
 * const fromCommandLine: Record<string, unknown> = { lamda: 1 };
 * assert.throws(() => createMethod("unigrad", fromCommandLine), /Unknown unigrad option "lamda": expected one of lambda/);
 * ```
 */
export function createMethod<N extends MethodName>(name: N | string, options: MethodOptions<N> = {}): Method {
  const key = methodName(name) as N;
  const known: readonly string[] = [...METHODS[key].options, ...COMMON_OPTIONS];
  const unknown = Object.keys(options).filter((k) => !known.includes(k));
  if (unknown.length > 0) {
    throw new TypeError(
      `Unknown ${key} option${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => `"${k}"`).join(", ")}: ` +
        `expected one of ${known.join(", ")}`,
    );
  }
  return (METHODS[key].create as (o: MethodOptions<N>) => Method)(options);
}

/** One row of the paper's Table 1: a method and the options of its gradient form. */
export interface Table1Row {
  /** The row's letter in the paper. */
  row: string;
  /** Registry name. */
  method: MethodName;
  /** Options selecting the form. */
  options: Record<string, unknown>;
  /** The method family whose forms the row compares. */
  family: Table1Family;
  /** A short label for tables and plots. */
  label: string;
  /** What the row compares. */
  description: string;
}

/** The method families whose gradient forms Table 1 compares. */
export const TABLE1_FAMILIES = ["contrastive", "asymmetric", "barlow-twins", "vicreg"] as const;
/** A Table 1 family. */
export type Table1Family = typeof TABLE1_FAMILIES[number];

/**
 * The option sets the paper's Table 1 compares, by preset name (rows (a)–(j)): within each family, the
 * original loss and its simplified gradient forms. Each row keeps its method's default target branch
 * (momentum encoder for MoCo, SimCLR's gradient form and BYOL; stop-gradient for Barlow Twins and VICReg,
 * as published); pass `{ target }` to `createPreset` for the other column.
 */
export const TABLE1: Readonly<Record<string, Table1Row>> = Object.freeze({
  "moco": {
    row: "a",
    family: "contrastive",
    label: "MoCo (queue)",
    method: "moco",
    options: { queueSize: 65536 },
    description: "MoCo: InfoNCE with a queue of 65536 target features",
  },
  "simclr": {
    row: "b",
    family: "contrastive",
    label: "SimCLR gradient, in-batch negatives",
    method: "simclr",
    options: { form: "gradient", target: "momentum" },
    description: "SimCLR's gradient form: negatives are both views' target features",
  },
  "byol": {
    row: "c",
    family: "asymmetric",
    label: "BYOL, learnable predictor",
    method: "byol",
    options: { form: "original" },
    description: "BYOL with a learnable predictor",
  },
  "byol-directpred": {
    row: "d",
    family: "asymmetric",
    label: "BYOL DirectPred (official scale)",
    method: "byol",
    options: { form: "directpred" },
    description: "BYOL with DirectPred's analytic predictor",
  },
  "byol-unified": {
    row: "e",
    family: "asymmetric",
    label: "unified −v2 + λFu1 (UniGrad)",
    method: "byol",
    options: { form: "unified" },
    description: "−v2 + λ·F·u1",
  },
  "barlow-twins": {
    row: "f",
    family: "barlow-twins",
    label: "Barlow Twins (BN)",
    method: "barlow-twins",
    options: { form: "original" },
    description: "Barlow Twins, batch-standardised",
  },
  "barlow-twins-a-identity": {
    row: "g",
    family: "barlow-twins",
    label: "Barlow Twins, A → I",
    method: "barlow-twins",
    options: { form: "a-identity" },
    description: "Barlow Twins with A → I",
  },
  "barlow-twins-l2": {
    row: "h",
    family: "barlow-twins",
    label: "Barlow Twins, BN → l2",
    method: "barlow-twins",
    options: { form: "l2" },
    description: "Barlow Twins with BN → l2-normalisation",
  },
  "vicreg": {
    row: "i",
    family: "vicreg",
    label: "VICReg",
    method: "vicreg",
    options: { form: "original" },
    description: "VICReg, raw features",
  },
  "vicreg-l2": {
    row: "j",
    family: "vicreg",
    label: "VICReg l2, no variance term",
    method: "vicreg",
    options: { form: "l2" },
    description: "VICReg, l2-normalised, no variance term",
  },
});

/**
 * The Table 1 row a preset name or row letter names (underscores accepted for hyphens), or undefined.
 *
 * @param name A key of `TABLE1` (e.g. "byol-directpred") or a row letter a–j.
 * @returns The row, or undefined when there is none.
 *
 * @example Usage
 * ```ts
 * import { findPreset } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * assert.equal(findPreset("barlow_twins-l2")?.row, "h");
 * assert.equal(findPreset("d")?.options.form, "directpred");
 * assert.equal(findPreset("nope"), undefined);
 * ```
 */
export function findPreset(name: string): Table1Row | undefined {
  const key = canonicalName(name);
  return Object.hasOwn(TABLE1, key) ? TABLE1[key] : Object.values(TABLE1).find((r) => r.row === name);
}

/**
 * Builds the method of a Table 1 preset (by name, e.g. "byol-directpred", or by row letter, e.g. "d").
 *
 * @param name A key of `TABLE1` or a row letter a–j.
 * @param overrides Options that replace the preset's (e.g. `{ target: "stop-grad" }`).
 * @returns The method.
 * @throws {TypeError} On an unknown preset, listing the known ones.
 *
 * @example Usage
 * ```ts
 * import { createPreset } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const m = createPreset("d");
 * assert.equal(m.name, "byol");
 * assert.equal(m.form, "directpred");
 * ```
 */
export function createPreset(name: string, overrides: Record<string, unknown> = {}): Method {
  const entry = findPreset(name);
  if (!entry) {
    throw new TypeError(`Unknown Table 1 preset "${name}": expected one of ${Object.keys(TABLE1).join(", ")} (or a–j)`);
  }
  return createMethod(entry.method, { ...entry.options, ...overrides });
}

/** The target-branch kinds the paper's Table 2 compares (`TARGET_KINDS`), with what each one is. */
export const TABLE2: Readonly<Record<TargetKind, string>> = Object.freeze({
  "stop-grad": "the target is the online network under no-grad (its features detached)",
  "momentum": "the target is a momentum encoder (EMA of the online weights)",
  "momentum-positive": "a momentum encoder feeds the positive gradient only; the negative uses the online features",
});

/**
 * The λ a unit-norm form gets at projector width `dim` when the user does not set it:
 * λ_d = λ_2048 · d / 2048 (λ_2048 from `UNIT_NORM_LAMBDA`), or null for a form without such a λ.
 *
 * @param method A method (its `name` and `form` are read).
 * @param dim The projector output width d.
 * @returns `{ lambda, lambda2048 }`, or null.
 *
 * @example Usage
 * ```ts
 * import { createMethod, widthScaledLambda } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(widthScaledLambda(createMethod("barlow-twins", { form: "l2" }), 128), { lambda: 3.125, lambda2048: 50 });
 * assert.equal(widthScaledLambda(createMethod("simclr"), 128), null);
 * ```
 */
export function widthScaledLambda(
  method: Pick<Method, "name" | "form">,
  dim: number,
): { lambda: number; lambda2048: number } | null {
  const key = `${method.name}/${method.form}`;
  if (!Object.hasOwn(UNIT_NORM_LAMBDA, key)) return null;
  const lambda2048 = UNIT_NORM_LAMBDA[key];
  return { lambda: (lambda2048 * dim) / 2048, lambda2048 };
}
