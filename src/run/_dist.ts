/**
 * A run's place in a data-parallel job (internal to train.ts): joining the group the launcher's
 * variables describe, the device of this rank, stopping together (a signal reaches one rank or all of
 * them: every rank stops after the same step), and failures that name the ranks that died.
 *
 * @module
 */
import { agreeToStop, DistributedError, initDistributed, type ProcessGroup, readLaunchEnv } from "../dist/mod.ts";
import type { TrainConfig } from "./config.ts";
import type { StopRequest } from "./stop.ts";

/** This process's part of a data-parallel run. */
export interface RunDist {
  group: ProcessGroup;
  /** Leaves the group. */
  dispose(): void;
}

/**
 * Joins the data-parallel job of the launcher's variables (torchrun's or Slurm's), or returns null for a
 * single process. Returns the config this rank runs: on CUDA, `cuda` becomes `cuda:<LOCAL_RANK>`.
 *
 * @throws {RangeError} When the global batch does not split evenly over the ranks.
 * @throws {DistributedError} When the other ranks do not join within `distTimeout`.
 */
export function joinRun(c: TrainConfig): { dist: RunDist | null; config: TrainConfig } {
  const launch = readLaunchEnv();
  if (launch === null) return { dist: null, config: c };
  if (c.batchSize % launch.worldSize !== 0) {
    throw new RangeError(
      `Cannot split --batch-size ${c.batchSize} (the global batch) over ${launch.worldSize} processes: ` +
        "use a multiple of the process count",
    );
  }
  const device = c.device === "cuda" ? `cuda:${launch.localRank}` : c.device;
  const { group } = initDistributed({ timeoutMs: c.distTimeout * 1000, backend: device === "cpu" ? "gloo" : "nccl" })!;
  return { dist: { group, dispose: () => group.dispose() }, config: { ...c, device } };
}

/** Whether any rank was asked to stop: one all-reduce of a flag, at the same point of every step. */
export function stopAgreed(dist: RunDist, local: StopRequest): boolean {
  return agreeToStop(dist.group, local.requested);
}

/** A step's failure, with the ranks that no longer answer named when the failure was a collective's. */
export function explainFailure(dist: RunDist | null, e: Error): Error {
  if (dist === null || e instanceof DistributedError || !/ on rank \d+ of \d+ failed: /.test(e.message)) return e;
  return dist.group.explain("a collective in the training step", e);
}
