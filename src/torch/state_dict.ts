/**
 * The one check of a state dict about to be loaded (by `Module`, `Optimizer` and a method's state):
 * the same names, and each tensor of the same shape and dtype, before anything is copied.
 *
 * @module
 */
import type { Tensor } from "./tensor.ts";
import { isFloating } from "./dtype.ts";

/** Options of `checkStateDict`. */
export interface CheckStateDictOptions {
  /** Refuse missing and unexpected names. @default true */
  strict?: boolean;
  /**
   * Accept a floating tensor for a floating tensor of another precision (float32 weights into a
   * float64 model); integer and bool dtypes must always match exactly. @default true
   */
  castFloating?: boolean;
}

/** Shape and dtype of one entry, as a tensor or as a file header describes it. */
export interface TensorSpec {
  /** The sizes. */
  readonly shape: readonly number[];
  /** The element type. */
  readonly dtype: Tensor["dtype"];
}

/**
 * Checks that `given` fits `own` before a load copies anything: every name present on both sides
 * (unless not strict), and every shared name with the same shape and a compatible dtype. All
 * differences are listed in one error.
 *
 * @param own The destination's entries (the tensors a load would write into).
 * @param given The entries to load (tensors, or `{shape, dtype}` read from a header).
 * @param what What is being loaded, for the message, e.g. "state dict" or "optimizer state".
 * @param options Strictness and whether floating dtypes may differ in precision.
 * @throws {TypeError} `Cannot load <what>: missing keys [...], unexpected keys [...], "conv1.weight" has dtype int32 but expected float32`.
 *
 * @example Usage
 * ```ts
 * import { tensor, zeros } from "@unigrad/unigrad";
 * import { checkStateDict } from "./state_dict.ts";
 * import assert from "node:assert/strict";
 *
 * using w = zeros([2]);
 * using i = tensor(new Int32Array([1, 2]));
 * checkStateDict(new Map([["w", w]]), new Map([["w", w]]), "state dict");
 * assert.throws(() => checkStateDict(new Map([["w", w]]), new Map([["w", i]]), "state dict"), /dtype int32/);
 * ```
 */
export function checkStateDict(
  own: ReadonlyMap<string, TensorSpec>,
  given: ReadonlyMap<string, TensorSpec>,
  what: string,
  options: CheckStateDictOptions = {},
): void {
  const { strict = true, castFloating = true } = options;
  const problems: string[] = [];
  if (strict) {
    const missing = [...own.keys()].filter((k) => !given.has(k));
    const unexpected = [...given.keys()].filter((k) => !own.has(k));
    if (missing.length) problems.push(`missing keys [${missing.join(", ")}]`);
    if (unexpected.length) problems.push(`unexpected keys [${unexpected.join(", ")}]`);
  }
  for (const [k, src] of given) {
    const dst = own.get(k);
    if (dst === undefined) continue;
    if (dst.shape.join() !== src.shape.join()) {
      problems.push(`"${k}" has shape [${src.shape.join(", ")}] but expected [${dst.shape.join(", ")}]`);
    }
    const compatible = src.dtype === dst.dtype || (castFloating && isFloating(src.dtype) && isFloating(dst.dtype));
    if (!compatible) problems.push(`"${k}" has dtype ${src.dtype} but expected ${dst.dtype}`);
  }
  if (problems.length) throw new TypeError(`Cannot load ${what}: ${problems.join(", ")}`);
}
