/**
 * Internal helpers that turn shim results into tensors or errors. Raw pointers never leave src/torch.
 *
 * @module
 */
import { lastError, sym } from "./_lib.ts";
import { TorchError } from "./errors.ts";

/** The property under which a Tensor keeps its native handle (internal to src/torch). */
export const HANDLE: unique symbol = Symbol("unigrad.handle");

/** Anything that owns a native tensor handle. */
export interface HasHandle {
  /** The live handle (throws after dispose). */
  readonly [HANDLE]: Deno.PointerObject;
}

/** Throws a TorchError for `op` unless the status is 0. */
export function check(status: number, op: string): void {
  if (status !== 0) throw new TorchError(op, lastError());
}

/** Returns the handle, or throws a TorchError carrying libtorch's message when it is null. */
export function checkHandle(p: Deno.PointerValue, op: string): Deno.PointerObject {
  if (p === null) throw new TorchError(op, lastError());
  return p;
}

/**
 * Dim list, padding or view shape (which may hold -1) as the int64 buffer the shim takes: safe
 * integers only, so no value wraps around in the conversion to int64.
 */
export function dims(values: readonly number[]): BigInt64Array {
  const out = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isSafeInteger(v)) {
      throw new TypeError(`Expected an integer size or dim, got ${v} in [${values.join(", ")}]`);
    }
    out[i] = BigInt(v);
  }
  return out;
}

const INT64_MAX = 2n ** 63n - 1n;

/**
 * A new tensor's shape as the int64 buffer the shim takes: non-negative safe integers whose
 * product (the element count) fits in int64, so `zeros([2 ** 64])` throws instead of wrapping to [0].
 *
 * @throws {TypeError} For a size that is not an integer.
 * @throws {RangeError} For a negative or unsafe size, or too many elements, naming the shape.
 */
export function shapeDims(shape: readonly number[]): BigInt64Array {
  let count = 1n;
  for (const v of shape) {
    if (!Number.isInteger(v)) throw new TypeError(`Expected an integer size or dim, got ${v} in [${shape.join(", ")}]`);
    if (!Number.isSafeInteger(v) || v < 0) {
      throw new RangeError(`Invalid shape [${shape.join(", ")}]: ${v} is not a non-negative integer below 2^53`);
    }
    count *= BigInt(v);
  }
  if (count > INT64_MAX) {
    throw new RangeError(`Invalid shape [${shape.join(", ")}]: ${count} elements do not fit in int64`);
  }
  return dims(shape);
}

/** Handles of several tensors as the pointer array the shim takes (null entries stay NULL). */
export function handles(ts: readonly (HasHandle | null | undefined)[]): BigUint64Array {
  const out = new BigUint64Array(ts.length);
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i];
    out[i] = t ? BigInt(Deno.UnsafePointer.value(t[HANDLE])) : 0n;
  }
  return out;
}

/** Handle or null, for optional tensor arguments. */
export function optHandle(t: HasHandle | null | undefined): Deno.PointerObject | null {
  return t ? t[HANDLE] : null;
}

/** Pointer read back from an out-parameter slot. */
export function outPointer(buf: BigUint64Array, i: number): Deno.PointerValue {
  return Deno.UnsafePointer.create(buf[i]);
}

export { sym };
