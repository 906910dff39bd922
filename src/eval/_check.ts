/**
 * Internal argument checks shared by the evaluation helpers.
 *
 * @module
 */
import type { LabelledFeatures } from "./labelled.ts";

/** Checks one labelled set for `op`; returns [rows, width]. */
export function checkLabelled(set: LabelledFeatures, name: string, op: string): [number, number] {
  const f = set.features.shape;
  const l = set.labels.shape;
  if (f.length !== 2) throw new TypeError(`Cannot compute ${op}: ${name} features must be [N, D], got [${f}]`);
  if (l.length !== 1 || l[0] !== f[0]) {
    throw new TypeError(`Cannot compute ${op}: ${name} labels must have shape [${f[0]}], got [${l}]`);
  }
  if (set.labels.dtype !== "int64") {
    throw new TypeError(`Cannot compute ${op}: ${name} labels must be int64, got ${set.labels.dtype}`);
  }
  if (f[0] === 0) throw new RangeError(`Cannot compute ${op}: the ${name} set is empty`);
  return [f[0], f[1]];
}

/** Checks that train and test features have the same width. */
export function checkSameWidth(train: LabelledFeatures, test: LabelledFeatures, op: string): [number, number] {
  const [n, d] = checkLabelled(train, "train", op);
  const [m, dTest] = checkLabelled(test, "test", op);
  if (d !== dTest) {
    throw new TypeError(`Cannot compute ${op}: train features have width ${d} but test features ${dTest}`);
  }
  return [n, m];
}

/** Returns `value` when it is a positive integer, else throws a RangeError naming `what`. */
export function positiveInt(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${what} must be a positive integer, got ${value}`);
  return value;
}
