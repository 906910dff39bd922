/**
 * `TorchError`: a libtorch failure, carrying the op name and libtorch's own message.
 *
 * @module
 */

/**
 * An error raised by libtorch (through the shim) or by using a disposed tensor.
 *
 * @example Usage
 * ```ts
 * import { ones, TorchError } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const a = ones([2, 3]);
 * const b = ones([4, 5]);
 * assert.throws(() => a.mm(b), TorchError);
 * a.dispose();
 * b.dispose();
 * ```
 */
export class TorchError extends Error {
  /** The operation that failed, e.g. "mm". */
  readonly op: string;

  /**
   * A libtorch failure in `op`.
   *
   * @param op The operation that failed.
   * @param message What libtorch (or the binding) said.
   */
  constructor(op: string, message: string) {
    super(`${op}: ${message}`);
    this.name = "TorchError";
    this.op = op;
  }
}
