/**
 * c10d, the collective engine PyTorch's own DDP runs on, bound through the shim (`ffi/dist.cpp`): a
 * process group over a TCPStore rendezvous with Gloo (CPU) or NCCL (CUDA), and its collectives. These
 * are the raw operations; `src/dist` builds data-parallel training on them.
 *
 * The symbols are optional: a shim built without the c10d headers has none, and every call then throws
 * a `TorchError` that says so.
 *
 * @module
 */
import { check, checkHandle, HANDLE, sym } from "./_handle.ts";
import { TorchError } from "./errors.ts";
import type { TensorList } from "./list.ts";
import { Tensor } from "./tensor.ts";

/** A c10d backend: Gloo on CPU tensors, NCCL on CUDA tensors. */
export type C10dBackend = "gloo" | "nccl";

const BACKEND_CODE: Record<C10dBackend, number> = { gloo: 0, nccl: 1 };

/** How to join a process group. */
export interface C10dGroupOptions {
  /** Address of rank 0's rendezvous store (a host name or IP). */
  address: string;
  /** Port of the rendezvous store (rank 0 listens on it). */
  port: number;
  /** This process's rank, 0 ≤ rank < worldSize. */
  rank: number;
  /** Number of processes in the group. */
  worldSize: number;
  /** The backend. @default "gloo" */
  backend?: C10dBackend;
  /** CUDA device index of this rank's tensors (NCCL), or -1 for the CPU. @default -1 */
  device?: number;
  /** Every rendezvous and collective gives up after this many milliseconds. @default 60000 */
  timeoutMs?: number;
}

/**
 * The backends this shim was compiled with (empty without the c10d headers).
 *
 * @example Usage
 * ```ts
 * import { c10dBackends } from "@unigrad/unigrad/torch";
 * import assert from "node:assert/strict";
 *
 * const backends = c10dBackends(); // e.g. ["gloo"] with Debian's libtorch and libgloo-dev
 * assert.ok(backends.every((b) => b === "gloo" || b === "nccl"));
 * ```
 */
export function c10dBackends(): C10dBackend[] {
  if (sym.ts_dist_backends === null) return [];
  const mask = sym.ts_dist_backends();
  return (["gloo", "nccl"] as const).filter((_, i) => (mask >> i) & 1);
}

function unavailable(op: string): TorchError {
  return new TorchError(op, "this shim was built without c10d (libtorch's distributed headers were not found)");
}

/** Gradient hooks made by `C10dGroup.gradSync`; free them with `dispose()` (which removes the hooks). */
export class C10dGradSync {
  #h: Deno.PointerObject | null;

  /** Wraps a new handle (internal: use `C10dGroup.gradSync`). */
  constructor(handle: Deno.PointerObject) {
    this.#h = handle;
  }

  /** After backward: starts the buckets not yet started, waits for all, sets every gradient to scale · Σ. */
  finish(scale: number): void {
    if (this.#h === null) throw new TorchError("c10d.gradSync", "Cannot use gradient hooks after dispose()");
    check(sym.ts_dist_grad_sync_finish!(this.#h, scale), "c10d.gradSync.finish");
  }

  /** Removes the hooks. */
  dispose(): void {
    if (this.#h !== null) {
      sym.ts_dist_grad_sync_free!(this.#h);
      this.#h = null;
    }
  }

  /** Removes the hooks at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}

/**
 * A joined c10d process group. Collectives block until every rank has called them (or the timeout
 * passes, which throws a `TorchError`); every rank must call the same collectives in the same order.
 * Free it with `dispose()` or `using`.
 */
export class C10dGroup {
  #h: Deno.PointerObject | null;
  /** This process's rank. */
  readonly rank: number;
  /** Number of processes. */
  readonly worldSize: number;

  private constructor(handle: Deno.PointerObject, rank: number, worldSize: number) {
    this.#h = handle;
    this.rank = rank;
    this.worldSize = worldSize;
  }

  /**
   * Joins a group: blocks until all `worldSize` ranks have reached the store at `address:port`.
   *
   * @throws {TorchError} When c10d or the backend is missing, or the rendezvous times out.
   */
  static join(options: C10dGroupOptions): C10dGroup {
    const { address, port, rank, worldSize, backend = "gloo", device = -1, timeoutMs = 60_000 } = options;
    if (sym.ts_dist_new_group === null) throw unavailable("c10d.join");
    const addr = new TextEncoder().encode(address + "\0");
    const p = sym.ts_dist_new_group(addr, port, rank, worldSize, BACKEND_CODE[backend], device, timeoutMs);
    return new C10dGroup(checkHandle(p, "c10d.join"), rank, worldSize);
  }

  get #handle(): Deno.PointerObject {
    if (this.#h === null) throw new TorchError("c10d", "Cannot use a process group after dispose()");
    return this.#h;
  }

  /** x = Σ over ranks of x, in place. */
  allReduce_(x: Tensor): void {
    check(sym.ts_dist_all_reduce_!(this.#handle, x[HANDLE]), "c10d.allReduce");
  }

  /** Every tensor of the list = scale · Σ over ranks, through one flat buffer per dtype. */
  allReduceList_(list: TensorList, scale = 1): void {
    check(sym.ts_dist_all_reduce_list_!(this.#handle, list[HANDLE], scale), "c10d.allReduceList");
  }

  /** Every tensor of the list = rank `root`'s, through one flat buffer per dtype. */
  broadcastList_(list: TensorList, root = 0): void {
    check(sym.ts_dist_broadcast_list_!(this.#handle, list[HANDLE], root), "c10d.broadcastList");
  }

  /** Blocks until every rank has reached the barrier. */
  barrier(): void {
    check(sym.ts_dist_barrier!(this.#handle), "c10d.barrier");
  }

  /** x [N, ...] of every rank concatenated in rank order → new [worldSize·N, ...] without gradient. */
  allGather(x: Tensor): Tensor {
    return new Tensor(checkHandle(sym.ts_dist_all_gather!(this.#handle, x[HANDLE]), "c10d.allGather"));
  }

  /** Σ over ranks of x → new tensor whose backward all-reduces the incoming gradient. */
  allReduceWithGrad(x: Tensor): Tensor {
    return new Tensor(checkHandle(sym.ts_dist_all_reduce_grad!(this.#handle, x[HANDLE]), "c10d.allReduceWithGrad"));
  }

  /**
   * Every rank's x [N, ...] → new [worldSize·N, ...] whose backward all-reduces the gradient and keeps this
   * rank's slice: the exact gradient of a loss summed over ranks.
   */
  allGatherWithGrad(x: Tensor): Tensor {
    return new Tensor(checkHandle(sym.ts_dist_all_gather_grad!(this.#handle, x[HANDLE]), "c10d.allGatherWithGrad"));
  }

  /**
   * Hooks the gradients of `params` so that each bucket (`bucketSizes[k]` consecutive entries of
   * `params`, the same on every rank) is all-reduced asynchronously as soon as backward has produced all
   * of its gradients, overlapping communication with the rest of backward. Call `finish` after backward.
   */
  gradSync(params: TensorList, bucketSizes: readonly number[]): C10dGradSync {
    const sizes = Int32Array.from(bucketSizes);
    const p = sym.ts_dist_grad_sync_new!(this.#handle, params[HANDLE], sizes, sizes.length);
    return new C10dGradSync(checkHandle(p, "c10d.gradSync"));
  }

  /**
   * After a failure: which ranks still answer through the rendezvous store within `waitMs`.
   *
   * @throws {TorchError} When the store (served by rank 0) is unreachable.
   */
  probePeers(waitMs: number): boolean[] {
    const out = new Int32Array(this.worldSize);
    check(sym.ts_dist_probe_peers!(this.#handle, waitMs, out), "c10d.probePeers");
    return Array.from(out, (v) => v === 1);
  }

  /** Leaves the group. */
  dispose(): void {
    if (this.#h !== null) {
      sym.ts_dist_free_group!(this.#h);
      this.#h = null;
    }
  }

  /** Leaves the group at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}
