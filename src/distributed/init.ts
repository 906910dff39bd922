/**
 * `initDistributed`: joins the job the launcher started this process in (torchrun-style variables or
 * Slurm's), choosing NCCL on CUDA and Gloo on CPU.
 *
 * @module
 */
import { type C10dBackend, c10dBackends, cuda } from "../torch/mod.ts";
import { type LaunchEnv, readLaunchEnv } from "./env.ts";
import { ProcessGroup } from "./process_group.ts";

/** Options of `initDistributed`. */
export interface InitDistributedOptions {
  /** The environment to read. @default Deno.env.toObject() */
  env?: Record<string, string | undefined>;
  /** The backend. @default "nccl" when CUDA is available and the shim has NCCL, else "gloo" */
  backend?: C10dBackend;
  /** Rendezvous and collective timeout in milliseconds. @default 60000 */
  timeoutMs?: number;
}

/** A joined job: the group and where this process sits in it. */
export interface Distributed {
  /** The process group. */
  group: ProcessGroup;
  /** What the launcher said. */
  launch: LaunchEnv;
  /** The device of this rank's tensors: "cuda:<localRank>" with NCCL, else "cpu". */
  device: "cpu" | `cuda:${number}`;
}

/**
 * NCCL when CUDA is available and compiled in, else Gloo.
 *
 * @example Usage
 * ```ts
 * import { defaultBackend } from "@unigrad/unigrad/distributed";
 * import assert from "node:assert/strict";
 *
 * assert.ok(["gloo", "nccl"].includes(defaultBackend())); // "gloo" on a CPU-only machine
 * ```
 */
export function defaultBackend(): C10dBackend {
  return cuda.isAvailable() && c10dBackends().includes("nccl") ? "nccl" : "gloo";
}

/**
 * Joins the distributed job described by the launcher's variables, or returns null when there are
 * none (a plain single process).
 *
 * @returns The group and this process's place, or null.
 * @throws {TypeError} When a launcher variable is missing or the shim has no such backend.
 * @throws {DistributedError} When the rendezvous fails within the timeout.
 *
 * @example Usage
 * ```ts
 * import { initDistributed } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * assert.equal(initDistributed({ env: {} }), null); // no launcher: one process
 * ```
 */
export function initDistributed(options: InitDistributedOptions = {}): Distributed | null {
  const launch = readLaunchEnv(options.env ?? Deno.env.toObject());
  if (launch === null) return null;
  const backend = options.backend ?? defaultBackend();
  if (!c10dBackends().includes(backend)) {
    throw new TypeError(
      `Cannot join the distributed job with ${backend}: this shim has ${c10dBackends().join(", ") || "no c10d"} ` +
        "(rebuild with `deno task build` after installing libgloo-dev, or on a CUDA PyTorch wheel for NCCL)",
    );
  }
  const device = backend === "nccl" ? `cuda:${launch.localRank}` as const : "cpu" as const;
  // Each rank's own GPU before anything touches CUDA: else every rank opens a context (and NCCL its
  // communicator) on GPU 0, and device-less calls such as a synchronize wait on GPU 0.
  if (backend === "nccl") cuda.setDevice(launch.localRank);
  const group = ProcessGroup.join({
    address: launch.address,
    port: launch.port,
    rank: launch.rank,
    worldSize: launch.worldSize,
    backend,
    device: backend === "nccl" ? launch.localRank : -1,
    timeoutMs: options.timeoutMs,
  });
  return { group, launch, device };
}
