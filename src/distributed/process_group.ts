/**
 * `ProcessGroup`: the processes of one distributed job joined over c10d, with the collectives data
 * parallelism needs. A collective that fails (a peer died, or stopped answering within the timeout)
 * throws a `DistributedError` that names the ranks that no longer answer.
 *
 * @module
 */
import { type C10dBackend, C10dGroup, type Device, type Tensor, TensorList, TorchError } from "../torch/mod.ts";

/**
 * The environment NCCL needs for a dead or stuck rank to become an error this process can report: with
 * blocking wait, `work->wait(timeout)` blocks the host and throws at the timeout (without it, it only
 * makes the compute stream wait, the timeout never reaches us, and NCCL's watchdog later aborts the
 * process with SIGABRT); async error handling lets the watchdog tear the communicator down instead of
 * leaving the next `.item()` hanging. PyTorch ≥ 2.2 reads the `TORCH_NCCL_` names, earlier versions the
 * `NCCL_` ones: both are set, each only where the environment does not set it already.
 *
 * @param env The current environment.
 * @returns The variables to set.
 *
 * @example Usage
 * ```ts
 * import { ncclErrorEnvironment } from "@unigrad/unigrad/distributed";
 * import assert from "node:assert/strict";
 *
 * assert.equal(ncclErrorEnvironment({}).TORCH_NCCL_BLOCKING_WAIT, "1");
 * assert.equal(ncclErrorEnvironment({ NCCL_BLOCKING_WAIT: "0" }).NCCL_BLOCKING_WAIT, undefined); // the user's
 * ```
 */
export function ncclErrorEnvironment(env: Record<string, string | undefined>): Record<string, string> {
  const wanted = {
    TORCH_NCCL_BLOCKING_WAIT: "1",
    NCCL_BLOCKING_WAIT: "1",
    TORCH_NCCL_ASYNC_ERROR_HANDLING: "1",
    NCCL_ASYNC_ERROR_HANDLING: "1",
  };
  return Object.fromEntries(Object.entries(wanted).filter(([k]) => env[k] === undefined));
}

/** How to join a process group. */
export interface ProcessGroupOptions {
  /** Host of rank 0's rendezvous store. */
  address: string;
  /** Port of the rendezvous store. */
  port: number;
  /** This process's rank. */
  rank: number;
  /** Number of processes. */
  worldSize: number;
  /** Gloo for CPU tensors, NCCL for CUDA tensors. @default "gloo" */
  backend?: C10dBackend;
  /** CUDA device index of this rank's tensors (NCCL), -1 for the CPU. @default -1 */
  device?: number;
  /** Rendezvous and every collective give up after this many milliseconds. @default 60000 */
  timeoutMs?: number;
}

/** Gradient hooks of `ProcessGroup.hookGradients`. */
export interface GradientHooks {
  /** After backward: waits for every bucket's all-reduce and sets each gradient to scale · Σ over ranks. */
  finish(scale: number): void;
  /** Removes the hooks. */
  dispose(): void;
}

/**
 * A collective failed: a peer died or did not answer within the timeout.
 *
 * @example Usage
 * ```ts
 * import { DistributedError } from "@unigrad/unigrad/distributed";
 * import assert from "node:assert/strict";
 *
 * try {
 *   throw new DistributedError(0, [1], "all-reduce timed out: rank 1 did not answer");
 * } catch (e) {
 *   assert.ok(e instanceof DistributedError); // what a training loop catches to stop cleanly
 *   assert.deepEqual(e.deadRanks, [1]);
 * }
 * ```
 */
export class DistributedError extends Error {
  /** This process's rank. */
  readonly rank: number;
  /** Ranks that did not answer after the failure (empty when all did). */
  readonly deadRanks: number[];

  /**
   * A failure seen by `rank`.
   *
   * @param rank This process's rank.
   * @param deadRanks Ranks found not answering.
   * @param message What failed.
   */
  constructor(rank: number, deadRanks: number[], message: string) {
    super(message);
    this.name = "DistributedError";
    this.rank = rank;
    this.deadRanks = deadRanks;
  }
}

/**
 * The processes of a distributed job. Every rank must call the same collectives in the same order.
 *
 * @example Usage
 * ```ts
 * import { ProcessGroup, tensor } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const port = (listener.addr as Deno.NetAddr).port;
 * listener.close();
 * using group = ProcessGroup.join({ address: "127.0.0.1", port, rank: 0, worldSize: 1 });
 * using x = tensor([1, 2]);
 * group.allReduceSum_(x); // the sum over one rank
 * assert.deepEqual(x.toArray(), [1, 2]);
 * ```
 */
export class ProcessGroup {
  readonly #c10d: C10dGroup;
  /** This process's rank. */
  readonly rank: number;
  /** Number of processes. */
  readonly worldSize: number;
  /** The c10d backend. */
  readonly backend: C10dBackend;
  /** The timeout of every collective, in milliseconds. */
  readonly timeoutMs: number;
  /**
   * Where this group's tensors live: "cpu" for Gloo, "cuda:k" (the rank's GPU) for NCCL, which refuses
   * CPU tensors. Tensors made for a collective (flags, counts) are made here.
   */
  readonly device: Device;

  private constructor(c10d: C10dGroup, backend: C10dBackend, timeoutMs: number, device: Device) {
    this.#c10d = c10d;
    this.rank = c10d.rank;
    this.worldSize = c10d.worldSize;
    this.backend = backend;
    this.timeoutMs = timeoutMs;
    this.device = device;
  }

  /**
   * Joins the group: blocks until every rank has reached rank 0's store (or the timeout passes).
   *
   * @throws {RangeError} On a rank outside the world, a bad port or a non-positive timeout.
   * @throws {DistributedError} When the rendezvous or the backend fails.
   */
  static join(options: ProcessGroupOptions): ProcessGroup {
    const { rank, worldSize, port, backend = "gloo", timeoutMs = 60_000 } = options;
    if (!Number.isInteger(worldSize) || worldSize < 1 || !Number.isInteger(rank) || rank < 0 || rank >= worldSize) {
      throw new RangeError(`Cannot join a process group as rank ${rank} of ${worldSize}`);
    }
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new RangeError(`Cannot join a process group on port ${port}: expected 1..65535`);
    }
    if (!(timeoutMs > 0)) throw new RangeError(`Process group timeout must be positive, got ${timeoutMs} ms`);
    if (backend === "nccl") {
      // Read by ProcessGroupNCCL's constructor: set them before it runs (the user's own values win).
      for (const [k, v] of Object.entries(ncclErrorEnvironment(Deno.env.toObject()))) Deno.env.set(k, v);
    }
    try {
      const device: Device = backend === "nccl" ? `cuda:${Math.max(options.device ?? 0, 0)}` : "cpu";
      return new ProcessGroup(C10dGroup.join({ ...options, backend, timeoutMs }), backend, timeoutMs, device);
    } catch (e) {
      throw new DistributedError(
        rank,
        [],
        `Rank ${rank} of ${worldSize} could not join the group at ${options.address}:${port} within ` +
          `${timeoutMs} ms: ${(e as Error).message}`,
      );
    }
  }

  /** Runs a collective; on failure asks the store which ranks still answer and throws a DistributedError. */
  #run<T>(op: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      // Only a failure of the communication itself ("… on rank r of w failed: …") asks who is alive.
      if (!(e instanceof TorchError) || !/ on rank \d+ of \d+ failed: /.test(e.message)) throw e;
      throw this.explain(op, e);
    }
  }

  /**
   * Turns a failed collective into a DistributedError naming the ranks that no longer answer (asked
   * through the rendezvous store, waiting up to 3 s). Collectives of this class do it themselves; call it
   * for a failure inside `backward()` (the backward of `allGatherWithGrad` or `allReduceSumWithGrad`).
   */
  explain(op: string, cause: Error): DistributedError {
    const me = `Rank ${this.rank} of ${this.worldSize}`;
    let dead: number[];
    try {
      // A peer that is alive reaches the same failure soon and marks itself in the store.
      const alive = this.#c10d.probePeers(Math.min(this.timeoutMs, 3000));
      dead = alive.flatMap((ok, r) => ok ? [] : [r]);
    } catch {
      return new DistributedError(
        this.rank,
        [0],
        `${me}: ${op} failed and rank 0 (which serves the rendezvous store) is unreachable, so rank 0 died or ` +
          `stopped: ${cause.message}`,
      );
    }
    const who = dead.length === 0
      ? "every rank still answers (a rank may be stuck or slower than the timeout)"
      : `rank${dead.length > 1 ? "s" : ""} ${dead.join(", ")} died or stopped answering`;
    return new DistributedError(this.rank, dead, `${me}: ${op} failed: ${who}: ${cause.message}`);
  }

  /** x = Σ over ranks, in place. */
  allReduceSum_(x: Tensor): void {
    this.#run("allReduce", () => this.#c10d.allReduce_(x));
  }

  /** x = mean over ranks, in place (Gloo has no AVG: a sum, then a division). */
  allReduceMean_(x: Tensor): void {
    this.#run("allReduce", () => this.#c10d.allReduce_(x));
    x.div_(this.worldSize);
  }

  /** Every tensor = scale · Σ over ranks, in place, through one flat buffer per dtype (one collective). */
  allReduceCoalesced_(tensors: readonly Tensor[], scale = 1): void {
    if (tensors.length === 0) return;
    using list = TensorList.of(tensors);
    this.#run("allReduce", () => this.#c10d.allReduceList_(list, scale));
  }

  /** Every tensor = rank `root`'s, in place, through one flat buffer per dtype. */
  broadcast_(tensors: readonly Tensor[], root = 0): void {
    if (tensors.length === 0) return;
    using list = TensorList.of(tensors);
    this.#run("broadcast", () => this.#c10d.broadcastList_(list, root));
  }

  /**
   * Hooks the gradients of `params` (in bucket order: `bucketSizes[k]` consecutive entries per bucket,
   * the same on every rank): each bucket is all-reduced asynchronously as soon as backward has produced
   * its gradients. After backward, `finish(scale)` sets every gradient to scale · Σ over ranks.
   */
  hookGradients(params: readonly Tensor[], bucketSizes: readonly number[]): GradientHooks {
    using list = TensorList.of(params);
    const sync = this.#c10d.gradSync(list, bucketSizes);
    return {
      finish: (scale: number) => this.#run("allReduce", () => sync.finish(scale)),
      dispose: () => sync.dispose(),
    };
  }

  /** Blocks until every rank has reached it. */
  barrier(): void {
    this.#run("barrier", () => this.#c10d.barrier());
  }

  /** Every rank's x [N, ...] in rank order → new [worldSize·N, ...], no gradient (equal N on every rank). */
  allGather(x: Tensor): Tensor {
    return this.#run("allGather", () => this.#c10d.allGather(x));
  }

  /**
   * As `allGather`, with a backward that all-reduces the gradient and keeps this rank's slice: the
   * exact gradient of a loss summed over ranks (each rank computing the same global loss gets
   * worldSize × the gradient; average gradients across ranks afterwards).
   */
  allGatherWithGrad(x: Tensor): Tensor {
    return this.#run("allGather", () => this.#c10d.allGatherWithGrad(x));
  }

  /** Σ over ranks of x → new tensor whose backward all-reduces the incoming gradient. */
  allReduceSumWithGrad(x: Tensor): Tensor {
    return this.#run("allReduce", () => this.#c10d.allReduceWithGrad(x));
  }

  /** Leaves the group. */
  dispose(): void {
    this.#c10d.dispose();
  }

  /** Leaves the group at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}
