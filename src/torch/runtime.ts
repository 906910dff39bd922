/**
 * Runtime: locating the shim, thread count, libtorch version and live-handle counters (the leak
 * check used by tests).
 *
 * @module
 */
import { openShim, sym } from "./_lib.ts";
import { check } from "./_handle.ts";

/** Options of `init`. */
export interface InitOptions {
  /** Path of a built `libunigrad.so` (see `deno task build`). @default $UNIGRAD_SHIM or the checkout's build */
  shimPath?: string;
  /** Intra-op CPU threads. @default $UNIGRAD_NUM_THREADS or the number of cores */
  numThreads?: number;
}

/**
 * Opens the shim explicitly: needed when unigrad is imported from a registry (no checkout to find
 * the build in) and `UNIGRAD_SHIM` is not set.
 *
 * @throws {Error} When the library cannot be opened, with the command that builds it.
 *
 * @example Usage
 * ```ts
 * import { init, torchVersion } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * init(); // opens the shim found as without init; `init({ shimPath })` opens another build
 * assert.match(torchVersion(), /^[12]\./);
 * ```
 */
export function init(options: InitOptions = {}): void {
  openShim(options.shimPath);
  if (options.numThreads !== undefined) setNumThreads(options.numThreads);
}

/**
 * Number of live native tensor handles. Every tensor is one handle, so a loop that returns to the
 * same count leaks nothing.
 *
 * @example Usage
 * ```ts
 * import { liveTensors, zeros } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const before = liveTensors();
 * const t = zeros([4]);
 * assert.equal(liveTensors(), before + 1);
 * t.dispose();
 * assert.equal(liveTensors(), before);
 * ```
 */
export function liveTensors(): number {
  return Number(sym.ts_live_count());
}

/**
 * Number of live native tensor lists.
 *
 * @example Usage
 * ```ts
 * import { liveLists, TensorList } from "@unigrad/unigrad/torch";
 * import { zeros } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const before = liveLists();
 * const t = zeros([2]);
 * const list = TensorList.of([t]);
 * assert.equal(liveLists(), before + 1);
 * list.dispose();
 * t.dispose();
 * assert.equal(liveLists(), before);
 * ```
 */
export function liveLists(): number {
  return Number(sym.ts_list_live_count());
}

/**
 * Sets libtorch's intra-op thread count.
 *
 * @example Usage
 * ```ts
 * import { getNumThreads, setNumThreads } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const n = getNumThreads();
 * setNumThreads(1);
 * assert.equal(getNumThreads(), 1);
 * setNumThreads(n);
 * ```
 */
export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`Thread count must be a positive integer, got ${n}`);
  check(sym.ts_set_num_threads(n), "setNumThreads");
}

/**
 * libtorch's intra-op thread count.
 *
 * @example Usage
 * ```ts
 * import { getNumThreads } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * assert.ok(getNumThreads() >= 1);
 * ```
 */
export function getNumThreads(): number {
  return sym.ts_get_num_threads();
}

/**
 * Version of the libtorch the shim was built against, e.g. "1.13.1".
 *
 * @example Usage
 * ```ts
 * import { torchVersion } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * assert.match(torchVersion(), /^\d+\.\d+/); // e.g. "1.13.0" or "2.5.1"
 * ```
 */
export function torchVersion(): string {
  const buf = new Uint8Array(32);
  check(sym.ts_version(buf, buf.length), "torchVersion");
  return new TextDecoder().decode(buf.subarray(0, buf.indexOf(0)));
}
