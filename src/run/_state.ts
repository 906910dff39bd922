/**
 * What a training run saves and restores (internal to train.ts). A checkpoint holds, as tensors, the
 * online network (`online.*`), the momentum encoder (`target.*`, momentum kinds), the optimizer
 * (`optim.*`: step and momentum buffers) and the method state (`method.F`, `method.queue`,
 * `method.predictor.*`); and, in its JSON state, the step, the loader position, the method's numbers,
 * the kNN accuracy at initialisation, the training seconds so far and the config. The augmentation's
 * randomness is seeded per step from (seed, step) (see `stepSeed`), so no generator state is needed:
 * resuming reproduces the uninterrupted run on the CPU and on CUDA alike.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import {
  addPrefix,
  latestCheckpoint,
  loadCheckpoint,
  readMetricsLog,
  saveCheckpoint,
  selectPrefix,
} from "../io/mod.ts";
// TODO(arch): use the shared public atomic-write helper once it lands in src/io (issue 8, item 5).
import { writeFileAtomic } from "../io/_atomic.ts";
import type { LoaderState } from "../data/mod.ts";
import type { TrainConfig } from "./config.ts";
import type { RunParts } from "./_parts.ts";

/** The run's counters that a checkpoint carries besides the tensors. */
export interface RunCounters {
  /** Optimizer steps taken. */
  step: number;
  /** kNN top-1 at initialisation, or null when it was not measured. */
  knnInit: number | null;
  /** Seconds spent training so far (evaluation and checkpoints excluded), across resumes. */
  trainSeconds: number;
}

/** The seed of step k's randomness (augmentation): a splitmix64 hash of (seed, step). */
export function stepSeed(seed: number, step: number): bigint {
  const M = (1n << 64n) - 1n;
  let z = (BigInt(seed) * 0x9e3779b97f4a7c15n + BigInt(step) + 1n) & M;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M;
  return (z ^ (z >> 31n)) >> 1n; // 63 bits: a valid non-negative seed
}

/**
 * The checkpoint `resume` names: the newest in `<resume>/checkpoints/` (a run folder), the newest in
 * `resume` (a checkpoints folder), or `resume` itself (one `ckpt-*` folder).
 *
 * @throws {Error} Naming the path when it holds no checkpoint.
 */
export async function findCheckpoint(resume: string): Promise<string> {
  const found = (await latestCheckpoint(join(resume, "checkpoints"))) ?? (await latestCheckpoint(resume));
  if (found) return found;
  if (await Deno.stat(join(resume, "state.json")).then(() => true, () => false)) return resume;
  const exists = await Deno.stat(resume).then(() => true, () => false);
  throw new Error(
    `Cannot resume from "${resume}": ${exists ? "it holds no checkpoint" : "no such file or directory"} ` +
      "(expected a run folder, its checkpoints folder or one ckpt-* folder)",
  );
}

/** The run folder a checkpoint belongs to (`<run>/checkpoints/ckpt-*`), or null. */
export function runFolderOf(checkpoint: string): string | null {
  const parent = dirname(checkpoint);
  return basename(parent) === "checkpoints" ? dirname(parent) : null;
}

/** Saves the run at its current step into `<out>/checkpoints/ckpt-<step>/`. */
export async function saveRun(parts: RunParts, out: string, counters: RunCounters, config: TrainConfig): Promise<void> {
  const { method, state, online, target, optimizer, loader, derived } = parts;
  const saved = method.stateDict(state);
  const tensors = new Map([
    ...addPrefix(online.stateDict(), "online."),
    ...(target.kind === "stop-grad" ? [] : addPrefix(target.module.stateDict(), "target.")),
    ...addPrefix(optimizer.stateDict(), "optim."),
    ...addPrefix(saved.tensors, "method."),
  ]);
  const runState = {
    ...counters,
    epoch: counters.step / derived.stepsPerEpoch,
    loader: loader.state,
    method: saved.numbers,
    config: { ...config },
  };
  await saveCheckpoint(join(out, "checkpoints"), { tensors, state: runState }, { step: counters.step });
}

function field(path: string, state: Record<string, unknown>, key: string, type: string): never | void {
  const v = state[key];
  const ok = type === "number|null" ? v === null || typeof v === "number" : typeof v === type && v !== null;
  if (!ok) {
    throw new Error(`Cannot resume from checkpoint "${path}": its state has no valid "${key}" (expected ${type})`);
  }
}

/**
 * Restores every part from the checkpoint at `path` and returns the counters and the config it was
 * saved with.
 *
 * @throws {Error} Naming the checkpoint when it is missing, truncated, corrupt, not a training
 * checkpoint, or made for other networks.
 */
export async function restoreRun(
  parts: RunParts,
  path: string,
): Promise<{ counters: RunCounters; config: unknown }> {
  const ckpt = await loadCheckpoint(path);
  try {
    const s = ckpt.state;
    for (const [k, t] of [["step", "number"], ["loader", "object"], ["method", "object"], ["trainSeconds", "number"]]) {
      field(path, s, k, t);
    }
    field(path, s, "knnInit", "number|null");
    const { online, target, optimizer, method, state, loader } = parts;
    online.loadStateDict(selectPrefix(ckpt.tensors, "online."));
    if (target.kind !== "stop-grad") target.module.loadStateDict(selectPrefix(ckpt.tensors, "target."));
    optimizer.loadStateDict(selectPrefix(ckpt.tensors, "optim."));
    const numbers = s.method as Record<string, number>;
    method.loadState(state, { tensors: selectPrefix(ckpt.tensors, "method."), numbers });
    loader.setState(s.loader as LoaderState);
    const counters = {
      step: s.step as number,
      knnInit: s.knnInit as number | null,
      trainSeconds: s.trainSeconds as number,
    };
    return { counters, config: s.config };
  } catch (e) {
    const message = (e as Error).message;
    if (message.startsWith("Cannot resume")) throw e;
    throw new Error(`Cannot resume from checkpoint "${path}": ${message}`, { cause: e });
  } finally {
    for (const t of ckpt.tensors.values()) t.dispose();
  }
}

/** Config fields that change the trajectory, as `name (saved → now)`, for a resume warning. */
export function configChanges(saved: unknown, now: TrainConfig): string[] {
  const keys = [
    "method",
    "methodOptions",
    "arch",
    "width",
    "projHidden",
    "projDim",
    "projDepth",
    "dataset",
    "epochs",
    "batchSize",
    "lr",
    "wd",
    "warmupEpochs",
    "target",
    "seed",
    "limitTrain",
    "precision",
  ] as const;
  const old = { ...(typeof saved === "object" && saved !== null ? saved : {}) } as Record<string, unknown>;
  if ("methodOpts" in old) old.methodOptions = old.methodOpts; // a checkpoint of an older version
  return keys.filter((k) => JSON.stringify(old[k]) !== JSON.stringify(now[k])).map((k) =>
    `${k} (${JSON.stringify(old[k])} → ${JSON.stringify(now[k])})`
  );
}

/**
 * The metrics log a resumed run continues: the lines of `from` (the interrupted run's log) up to and
 * including `step`, written to `to`. Lines the interrupted run wrote after its checkpoint are dropped:
 * the resumed run writes them again.
 */
export async function resumeMetrics(from: string | null, to: string, step: number): Promise<void> {
  const source = from ?? to;
  const exists = await Deno.stat(source).then(() => true, () => false);
  const records = exists ? readMetricsLog(source).filter((r) => r.step <= step) : [];
  const keepNonFinite = (_k: string, v: unknown) => typeof v === "number" && !Number.isFinite(v) ? String(v) : v;
  await writeFileAtomic(to, records.map((r) => JSON.stringify(r, keepNonFinite) + "\n").join(""));
}
