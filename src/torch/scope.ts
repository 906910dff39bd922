/**
 * Memory scopes: every tensor made inside `scope(fn)` is freed when `fn` returns, except what it
 * returns (which moves to the enclosing scope) and what was passed to `keep()`.
 *
 * Tensors made outside any scope are owned by the caller: free them with `dispose()` or `using`.
 *
 * @module
 */

/** Anything a scope can free. */
export interface Freeable {
  /** Frees the native resource; a second call does nothing. */
  dispose(): void;
}

const stack: (Freeable[] | null)[] = [];
let current: Freeable[] | null = null;
const kept = new WeakSet<Freeable>();

/** Registers a new tensor with the innermost scope (internal; called by the Tensor constructor). */
export function track(t: Freeable): void {
  if (current !== null) current.push(t);
}

/**
 * Marks a tensor as owned by the caller: no scope will free it; free it with `dispose()`.
 *
 * @param t The tensor (or any freeable) to keep.
 * @returns The same object.
 *
 * @example Usage
 * ```ts
 * import { keep } from "@unigrad/unigrad/torch";
 * import { ones, scope } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * let kept;
 * scope(() => {
 *   kept = keep(ones([2]));
 * });
 * assert.deepEqual(kept!.toArray(), [1, 1]);
 * kept!.dispose();
 * ```
 */
export function keep<T extends Freeable>(t: T): T {
  kept.add(t);
  return t;
}

/** Collects the class instances reachable from a result through arrays, plain objects and Maps. */
function isContainer(value: unknown): boolean {
  return Array.isArray(value) || value instanceof Map ||
    (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype);
}

function collect(value: unknown, into: Set<unknown>, depth = 0): void {
  if (value === null || typeof value !== "object" || depth > 8) return;
  if (Array.isArray(value)) {
    for (const v of value) collect(v, into, depth + 1);
  } else if (value instanceof Map) {
    for (const v of value.values()) collect(v, into, depth + 1);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collect(v, into, depth + 1);
  } else {
    into.add(value);
  }
}

const ASYNC_MESSAGE = "Cannot use an async function in scope(): tensors it makes after an await escape the scope";

/**
 * Runs `fn` and frees every tensor it made, except those it returns (directly or inside arrays,
 * plain objects or Maps) and those passed to `keep()`. Returned tensors belong to the enclosing
 * scope. If `fn` throws, everything it made is freed and the error propagates.
 *
 * @param fn A synchronous function (an async one would make tensors after the scope has closed).
 * @returns What `fn` returns.
 * @throws {TypeError} When `fn` is an async function (it is then not run) or returns a Promise.
 *
 * @example Usage
 * ```ts
 * import { liveTensors, ones, scope } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const before = liveTensors();
 * const y = scope(() => ones([3]).mul(2).add(1)); // the intermediates are freed
 * assert.equal(liveTensors(), before + 1);
 * assert.deepEqual(y.toArray(), [3, 3, 3]);
 * y.dispose();
 * ```
 */
export function scope<T>(fn: () => T): T {
  // Refuse an `async` function before running it: whatever it makes after an await would escape.
  if (fn.constructor?.name === "AsyncFunction") throw new TypeError(ASYNC_MESSAGE);
  const mine: Freeable[] = [];
  stack.push(current);
  current = mine;
  let result: T;
  try {
    result = fn();
  } catch (e) {
    current = stack.pop() ?? null;
    for (const t of mine) if (!kept.has(t)) t.dispose();
    throw e;
  }
  current = stack.pop() ?? null;
  if (result instanceof Promise) {
    for (const t of mine) if (!kept.has(t)) t.dispose();
    // The TypeError below reports the misuse; a later rejection must not kill the process.
    result.catch(() => {});
    throw new TypeError(ASYNC_MESSAGE);
  }
  // Fast path: a single returned object (a tensor) needs no set of escaping values.
  let escaping: Set<unknown> | null = null;
  if (isContainer(result)) collect(result, escaping = new Set());
  for (const t of mine) {
    if (kept.has(t)) continue;
    if (escaping === null ? t === (result as unknown) : escaping.has(t)) track(t);
    else t.dispose();
  }
  return result;
}
