/**
 * The unified gradient framework (src/ssl): seven methods, each giving, for the normalised online
 * features u1, u2 and target features v1, v2, the gradient g = −positive + λ·negative with respect to
 * u1, u2; the target branch; the communicator; and the typed registry of methods and of the paper's
 * Table 1 rows.
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
import type { Method } from "./method.ts";

export * from "./method.ts";
export * from "./state.ts";
export * from "./comm.ts";
export * from "./target.ts";
export { unigrad, type UnigradOptions } from "./unigrad.ts";
export { moco, type MocoOptions } from "./moco.ts";
export { simclr, type SimclrOptions } from "./simclr.ts";
export { type AsymmetricOptions, byol, directPredPredictor } from "./byol.ts";
export { simsiam } from "./simsiam.ts";
export { barlowTwins, type BarlowTwinsOptions } from "./barlow_twins.ts";
export { vicreg, type VicregOptions } from "./vicreg.ts";
export type { CommonOptions } from "./_define.ts";
export * from "./multiview.ts";

/** Every method's factory, by registry name. */
export const METHODS = {
  unigrad,
  moco,
  simclr,
  byol,
  simsiam,
  barlow_twins: barlowTwins,
  vicreg,
} as const;

/** A method's registry name. */
export type MethodName = keyof typeof METHODS;

/** The options of the method called `N`. */
export type MethodOptions<N extends MethodName> = NonNullable<Parameters<(typeof METHODS)[N]>[0]>;

const COMMON = ["target", "comm", "checkValues"] as const;
const ASYMMETRIC = ["form", "hiddenDim", "lambda", "rho", "eps", ...COMMON] as const;

/** The option names each method's factory reads (`CommonOptions` included), for `createMethod`'s check. */
export const METHOD_OPTIONS = {
  unigrad: ["lambda", "rho", ...COMMON],
  moco: ["tau", "queueSize", ...COMMON],
  simclr: ["tau", "form", ...COMMON],
  byol: ASYMMETRIC,
  simsiam: ASYMMETRIC,
  barlow_twins: ["form", "lambda", "eps", ...COMMON],
  vicreg: ["form", "sim", "std", "cov", "lambda", ...COMMON],
} as const satisfies { readonly [N in MethodName]: readonly (keyof MethodOptions<N>)[] };

// Compile-time check that METHOD_OPTIONS lists every field of every options interface.
type Unlisted = { [N in MethodName]: Exclude<keyof MethodOptions<N>, (typeof METHOD_OPTIONS)[N][number]> }[MethodName];
const _everyOptionListed: [Unlisted] extends [never] ? true : Unlisted = true;

/**
 * Builds a method by registry name.
 *
 * @param name One of `Object.keys(METHODS)`.
 * @param options The method's options.
 * @throws {TypeError} On an unknown name or option name, listing the known ones.
 *
 * @example Usage
 * ```ts
 * import { createMethod } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const m = createMethod("barlow_twins", { form: "l2" });
 * assert.equal(m.form, "l2");
 * assert.throws(() => createMethod("simclrr"), /Unknown method "simclrr": expected one of unigrad, moco/);
 * const fromCommandLine: Record<string, unknown> = { lamda: 1 };
 * assert.throws(() => createMethod("unigrad", fromCommandLine), /Unknown unigrad option "lamda": expected one of lambda/);
 * ```
 */
export function createMethod<N extends MethodName>(name: N | string, options: MethodOptions<N> = {}): Method {
  if (!Object.hasOwn(METHODS, name)) {
    throw new TypeError(`Unknown method "${name}": expected one of ${Object.keys(METHODS).join(", ")}`);
  }
  const known: readonly string[] = METHOD_OPTIONS[name as N];
  const unknown = Object.keys(options).filter((k) => !known.includes(k));
  if (unknown.length > 0) {
    throw new TypeError(
      `Unknown ${name} option${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => `"${k}"`).join(", ")}: ` +
        `expected one of ${known.join(", ")}`,
    );
  }
  return (METHODS[name as N] as (o: MethodOptions<N>) => Method)(options);
}

/** One row of the paper's Table 1: a method and the options of its gradient form. */
export interface Table1Row {
  /** The row's letter in the paper. */
  row: string;
  /** Registry name. */
  method: MethodName;
  /** Options selecting the form. */
  options: Record<string, unknown>;
  /** What the row compares. */
  description: string;
}

/**
 * The option sets the paper's Table 1 compares, by preset name (rows (a)–(j)): within each family, the
 * original loss and its simplified gradient forms. Each row keeps its method's default target branch
 * (momentum encoder for MoCo, SimCLR's gradient form and BYOL; stop-gradient for Barlow Twins and VICReg,
 * as published); pass `{ target }` to `createPreset` for the other column.
 */
export const TABLE1: Readonly<Record<string, Table1Row>> = Object.freeze({
  "moco": {
    row: "a",
    method: "moco",
    options: { queueSize: 65536 },
    description: "MoCo: InfoNCE with a queue of 65536 target features",
  },
  "simclr": {
    row: "b",
    method: "simclr",
    options: { form: "gradient", target: "momentum" },
    description: "SimCLR's gradient form: negatives are both views' target features",
  },
  "byol": { row: "c", method: "byol", options: { form: "original" }, description: "BYOL with a learnable predictor" },
  "byol-directpred": {
    row: "d",
    method: "byol",
    options: { form: "directpred" },
    description: "BYOL with DirectPred's analytic predictor",
  },
  "byol-unified": { row: "e", method: "byol", options: { form: "unified" }, description: "−v2 + λ·F·u1" },
  "barlow_twins": {
    row: "f",
    method: "barlow_twins",
    options: { form: "original" },
    description: "Barlow Twins, batch-standardised",
  },
  "barlow_twins-a_identity": {
    row: "g",
    method: "barlow_twins",
    options: { form: "a_identity" },
    description: "Barlow Twins with A → I",
  },
  "barlow_twins-l2": {
    row: "h",
    method: "barlow_twins",
    options: { form: "l2" },
    description: "Barlow Twins with BN → l2-normalisation",
  },
  "vicreg": { row: "i", method: "vicreg", options: { form: "original" }, description: "VICReg, raw features" },
  "vicreg-l2": {
    row: "j",
    method: "vicreg",
    options: { form: "l2" },
    description: "VICReg, l2-normalised, no variance term",
  },
});

/**
 * Builds the method of a Table 1 preset (by name, e.g. "byol-directpred", or by row letter, e.g. "d").
 *
 * @param name A key of `TABLE1` or a row letter a–j.
 * @param overrides Options that replace the preset's (e.g. `{ target: "stop-grad" }`).
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
  const entry = Object.hasOwn(TABLE1, name) ? TABLE1[name] : Object.values(TABLE1).find((r) => r.row === name);
  if (!entry) {
    throw new TypeError(`Unknown Table 1 preset "${name}": expected one of ${Object.keys(TABLE1).join(", ")} (or a–j)`);
  }
  return createMethod(entry.method, { ...entry.options, ...overrides });
}
