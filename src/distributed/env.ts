/**
 * Where a distributed process learns its place in the job: torchrun-style variables (`RANK`,
 * `WORLD_SIZE`, `LOCAL_RANK`, `MASTER_ADDR`, `MASTER_PORT`), or Slurm's (`SLURM_PROCID`,
 * `SLURM_NTASKS`, `SLURM_LOCALID`, the first host of `SLURM_NODELIST`).
 *
 * @module
 */
import { expandNodeList } from "./slurm.ts";

/** A process's place in a distributed job. */
export interface LaunchEnv {
  /** Global rank, 0 ≤ rank < worldSize. */
  rank: number;
  /** Number of processes in the job. */
  worldSize: number;
  /** Rank on this node (selects the GPU). */
  localRank: number;
  /** Host of rank 0's rendezvous store. */
  address: string;
  /** Port of the rendezvous store. */
  port: number;
  /** Which variables it came from. */
  source: "torchrun" | "slurm";
}

/** Default rendezvous port (torchrun's). */
export const DEFAULT_PORT = 29500;

function integer(env: Record<string, string | undefined>, name: string, fallback?: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") {
    if (fallback !== undefined) return fallback;
    throw new TypeError(`Cannot join the distributed job: ${name} is not set`);
  }
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 0) {
    throw new RangeError(`Cannot join the distributed job: ${name} must be a non-negative integer, got "${raw}"`);
  }
  return v;
}

function checked(e: LaunchEnv): LaunchEnv {
  if (e.worldSize < 1 || e.rank >= e.worldSize) {
    throw new RangeError(`Cannot join the distributed job: rank ${e.rank} is outside a world of ${e.worldSize}`);
  }
  if (e.port < 1 || e.port > 65535) {
    throw new RangeError(`Cannot join the distributed job: port ${e.port} is outside 1..65535`);
  }
  return e;
}

/**
 * Reads the launcher's variables: torchrun's when `WORLD_SIZE` is set, else Slurm's when
 * `SLURM_PROCID` is set (the port from `MASTER_PORT`, else derived from `SLURM_JOB_ID` so that jobs
 * sharing a node do not collide), else null (a single process).
 *
 * @param env The environment to read. @default Deno.env.toObject()
 * @returns The process's place, or null outside a distributed launch.
 * @throws {TypeError} When a variable the launcher must set is missing.
 * @throws {RangeError} On a malformed or inconsistent value.
 *
 * @example Usage
 * ```ts
 * import { readLaunchEnv } from "@unigrad/unigrad/distributed";
 * import assert from "node:assert/strict";
 *
 * const slurm = { SLURM_PROCID: "5", SLURM_NTASKS: "8", SLURM_LOCALID: "1", SLURM_NODELIST: "gpu[07-10]" };
 * const e = readLaunchEnv(slurm)!;
 * assert.deepEqual([e.rank, e.worldSize, e.localRank, e.address], [5, 8, 1, "gpu07"]);
 * assert.equal(readLaunchEnv({}), null);
 * ```
 */
export function readLaunchEnv(env: Record<string, string | undefined> = Deno.env.toObject()): LaunchEnv | null {
  if (env.WORLD_SIZE !== undefined) {
    return checked({
      rank: integer(env, "RANK"),
      worldSize: integer(env, "WORLD_SIZE"),
      localRank: integer(env, "LOCAL_RANK", 0),
      address: env.MASTER_ADDR || "127.0.0.1",
      port: integer(env, "MASTER_PORT", DEFAULT_PORT),
      source: "torchrun",
    });
  }
  if (env.SLURM_PROCID !== undefined) {
    const nodes = env.SLURM_JOB_NODELIST ?? env.SLURM_NODELIST;
    if (!env.MASTER_ADDR && !nodes) throw new TypeError("Cannot join the distributed job: SLURM_NODELIST is not set");
    const jobPort = 20000 + (integer(env, "SLURM_JOB_ID", 0) % 20000);
    return checked({
      rank: integer(env, "SLURM_PROCID"),
      worldSize: integer(env, "SLURM_NTASKS"),
      localRank: integer(env, "SLURM_LOCALID", 0),
      address: env.MASTER_ADDR || expandNodeList(nodes!)[0],
      port: integer(env, "MASTER_PORT", jobPort),
      source: "slurm",
    });
  }
  return null;
}
