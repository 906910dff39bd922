/**
 * The global random generators: seeding and saving/restoring the CPU generator's state.
 *
 * @module
 */
import { check, checkHandle, HANDLE, sym } from "./_handle.ts";
import { Tensor } from "./tensor.ts";

/**
 * Seeds the CPU generator and every CUDA generator (as `torch.manual_seed`).
 *
 * @example Usage
 * ```ts
 * import { manualSeed, randn } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * manualSeed(0);
 * using a = randn([3]);
 * manualSeed(0);
 * using b = randn([3]);
 * assert.deepEqual(a.toArray(), b.toArray());
 * ```
 */
export function manualSeed(seed: number | bigint): void {
  if (typeof seed === "number" && (!Number.isInteger(seed) || seed < 0)) {
    throw new RangeError(`Seed must be a non-negative integer, got ${seed}`);
  }
  check(sym.ts_manual_seed(BigInt(seed)), "manualSeed");
}

/**
 * The CPU generator's state as a uint8 tensor (for checkpoints).
 *
 * @example Usage
 * ```ts
 * import { getRngState, setRngState } from "@unigrad/unigrad/torch";
 * import { rand, scope } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const state = getRngState();
 * const a = scope(() => rand([3]).toArray());
 * setRngState(state);
 * assert.deepEqual(scope(() => rand([3]).toArray()), a); // the same draws again
 * state.dispose();
 * ```
 */
export function getRngState(): Tensor {
  return new Tensor(checkHandle(sym.ts_get_rng_state(), "getRngState"));
}

/**
 * Restores the CPU generator from a state made by `getRngState`.
 *
 * @example Usage
 * ```ts
 * import { getRngState, setRngState } from "@unigrad/unigrad/torch";
 * import { randn, scope } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const state = getRngState();
 * const a = scope(() => randn([2]).toArray());
 * setRngState(state);
 * assert.deepEqual(scope(() => randn([2]).toArray()), a);
 * state.dispose();
 * ```
 */
export function setRngState(state: Tensor): void {
  check(sym.ts_set_rng_state(state[HANDLE]), "setRngState");
}
