/**
 * A run's place in a data-parallel job (internal to train.ts): joining the group the launcher's
 * variables describe, the device of this rank, stopping together (a signal reaches one rank or all of
 * them: every rank stops after the same step), and failures that name the ranks that died.
 *
 * @module
 */
import {
  agreeToStop,
  DistributedError,
  initDistributed,
  type ProcessGroup,
  readLaunchEnv,
} from "../distributed/mod.ts";
import type { TrainConfig } from "./settings.ts";
import type { StopRequest } from "./signals.ts";
import type { ResumePoint } from "./resume.ts";
import { scope, tensor } from "../torch/mod.ts";

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

/**
 * Every rank must resume from the same checkpoint: each picked "the newest intact one" by itself, and a
 * shared file system that lags on one node, or a checkpoint written while another node looked, would
 * let ranks restore different steps. The ranks all-gather (step, the first 48 bits of the tensors'
 * SHA-256) and every rank refuses to go on unless all agree, naming what each found.
 */
export function agreeOnResume(dist: RunDist, from: ResumePoint | null): void {
  const group = dist.group;
  const sha = (from?.checkpoint.state.tensors as { sha256?: string } | undefined)?.sha256 ?? "";
  const mine = from === null ? [-1, 0] : [from.checkpoint.step, Number.parseInt(sha.slice(0, 12) || "0", 16)];
  const all = scope(() => {
    const t = tensor(mine, { dtype: "float64", device: group.device }).view([1, 2]);
    return group.allGather(t).toArray() as number[][];
  });
  if (all.every(([step, hash]) => step === all[0][0] && hash === all[0][1])) return;
  const seen = all.map(([step, hash], r) =>
    `rank ${r}: ${step < 0 ? "no checkpoint" : `step ${step} (sha256 ${hash.toString(16).padStart(12, "0")}…)`}`
  );
  throw new Error(
    `Cannot resume: the ranks found different checkpoints (${seen.join("; ")}); every rank must read the same ` +
      `run folder (${from?.checkpoint.path ?? "none"} here)`,
  );
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
