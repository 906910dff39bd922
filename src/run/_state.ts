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
import { join } from "node:path";
import { addPrefix, type LoadedCheckpoint, readMetricsLog, saveCheckpoint, selectPrefix } from "../io/mod.ts";
import { writeFileAtomic } from "../torch/files.ts";
import { checkStateDict } from "../torch/state_dict.ts";
import type { LoaderState } from "../data/mod.ts";
import type { TrainConfig } from "./settings.ts";
import type { RunParts } from "./_parts.ts";
import type { Tensor } from "../torch/mod.ts";

/** The run's counters that a checkpoint carries besides the tensors. */
export interface RunCounters {
  /** Optimizer steps taken. */
  step: number;
  /** kNN top-1 at initialisation, or null when it was not measured. */
  knnInit: number | null;
  /** Seconds spent training so far (evaluation and checkpoints excluded), across resumes. */
  trainSeconds: number;
}

/**
 * The seed of step k's randomness (augmentation) on a rank: a splitmix64 hash of (seed, step, rank).
 * Rank 0 (and a single process) draws what a single process always drew; every other rank differs.
 */
export function stepSeed(seed: number, step: number, rank = 0): bigint {
  const M = (1n << 64n) - 1n;
  let z = (BigInt(seed) * 0x9e3779b97f4a7c15n + BigInt(step) + 1n + BigInt(rank) * 0xd1b54a32d192ed03n) & M;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M;
  return (z ^ (z >> 31n)) >> 1n; // 63 bits: a valid non-negative seed
}

/** Saves the run at its current step into `<out>/checkpoints/ckpt-<step>/`. */
export async function saveRun(
  parts: RunParts,
  out: string,
  counters: RunCounters,
  config: TrainConfig,
): Promise<string> {
  const { method, state, loader, derived } = parts;
  const runState = {
    ...counters,
    epoch: counters.step / derived.stepsPerEpoch,
    loader: loader.state,
    worldSize: parts.worldSize, // the loader's position counts this rank's share of the epoch
    method: method.stateDict(state).numbers,
    config: { ...config },
  };
  return await saveCheckpoint(join(out, "checkpoints"), { tensors: runTensors(parts), state: runState }, {
    step: counters.step,
    keep: config.keepCheckpoints,
  });
}

/** The run state of a checkpoint, validated where it is parsed. */
interface RunState {
  counters: RunCounters;
  loader: LoaderState;
  numbers: Record<string, number>;
  config: Record<string, unknown>;
  /** Processes of the run that wrote it (1 for checkpoints from before data parallelism). */
  worldSize: number;
}

/** What a checkpoint's run state is checked against: the run that resumes it. */
export interface ResumingRun {
  /** Steps per epoch and of the whole run. */
  derived: { stepsPerEpoch: number; totalSteps: number };
  /** The global batch and the seed (the loader's). */
  batchSize: number;
  seed: number;
}

/**
 * Checks the JSON run state of `ckpt` against the run: an integer step equal to the checkpoint's and
 * within the run, finite counters, and a loader position that is exactly where `step` steps of this
 * run's batches lead (seed, epoch and position), so an edited position cannot silently train another path.
 */
export function parseRunState(ckpt: LoadedCheckpoint, run: ResumingRun): RunState {
  const { totalSteps } = run.derived;
  const s = ckpt.state;
  const fail = (what: string): never => {
    throw new Error(`Cannot resume from checkpoint "${ckpt.path}": its state ${what}`);
  };
  const isObject = (v: unknown) => typeof v === "object" && v !== null && !Array.isArray(v);
  if (!Number.isSafeInteger(s.step) || s.step !== ckpt.step) {
    fail(`has step ${JSON.stringify(s.step)}, not the checkpoint's step ${ckpt.step}`);
  }
  if ((s.step as number) > totalSteps) fail(`has step ${s.step}, beyond the run's ${totalSteps} steps`);
  const seconds = s.trainSeconds;
  if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 0) {
    fail(`has trainSeconds ${JSON.stringify(seconds)}, not a finite number ≥ 0`);
  }
  const knn = s.knnInit;
  if (knn !== null && !(typeof knn === "number" && knn >= 0 && knn <= 1)) {
    fail(`has knnInit ${JSON.stringify(knn)}, not an accuracy in [0, 1] or null`);
  }
  for (const key of ["loader", "method", "config"]) {
    if (!isObject(s[key])) fail(`has no valid "${key}" (expected an object)`);
  }
  const numbers = s.method as Record<string, unknown>;
  for (const [k, v] of Object.entries(numbers)) {
    if (!Number.isSafeInteger(v) || (v as number) < 0) fail(`has method.${k} ${JSON.stringify(v)}, not a count`);
  }
  const worldSize = s.worldSize ?? 1;
  if (!Number.isSafeInteger(worldSize) || (worldSize as number) < 1) {
    fail(`has worldSize ${JSON.stringify(s.worldSize)}, not a process count`);
  }
  checkLoader(s.loader as Record<string, unknown>, s.step as number, worldSize as number, run, fail);
  return {
    worldSize: worldSize as number,
    counters: { step: s.step as number, knnInit: knn as number | null, trainSeconds: seconds as number },
    loader: s.loader as LoaderState,
    numbers: numbers as Record<string, number>,
    config: s.config as Record<string, unknown>,
  };
}

/** Refuses a loader state that `step` steps of the run's batches (over `world` processes) do not lead to. */
function checkLoader(
  loader: Record<string, unknown>,
  step: number,
  world: number,
  run: ResumingRun,
  fail: (what: string) => never,
): void {
  const { seed, epoch, position } = loader;
  if (seed !== run.seed) fail(`has loader seed ${JSON.stringify(seed)}, not the run's seed ${run.seed}`);
  for (const [name, value] of [["epoch", epoch], ["position", position]] as const) {
    if (!Number.isSafeInteger(value) || (value as number) < 0) {
      fail(`has loader ${name} ${JSON.stringify(value)}, not a count`);
    }
  }
  // position counts this rank's samples into the epoch: world × position global samples.
  const steps = (epoch as number) * run.derived.stepsPerEpoch + ((position as number) * world) / run.batchSize;
  if (steps !== step) {
    fail(
      `has loader epoch ${epoch}, position ${position} (over ${world} process(es)), which is not where step ${step} ` +
        `of ${run.derived.stepsPerEpoch} steps per epoch at batch ${run.batchSize} leads`,
    );
  }
}

/** The tensors a checkpoint of these parts holds, by name: what a save writes and a restore reads. */
function runTensors(parts: RunParts): Map<string, Tensor> {
  const { method, state, online, target, optimizer } = parts;
  return new Map([
    ...addPrefix(online.stateDict(), "online."),
    ...(target.kind === "stop-grad" ? [] : addPrefix(target.module.stateDict(), "target.")),
    ...addPrefix(optimizer.stateDict(), "optim."),
    ...addPrefix(method.stateDict(state).tensors, "method."),
  ]);
}

/**
 * The loader position of a checkpoint written by `savedWorld` processes, for `world` processes: the
 * same number of global samples into the epoch (the global batch is the same).
 */
function loaderStateFor(path: string, state: LoaderState, savedWorld: number, world: number): LoaderState {
  const samples = state.position * savedWorld; // global samples of the epoch already trained on
  if (samples % world !== 0) {
    throw new Error(
      `Cannot resume from checkpoint "${path}" on ${world} processes: its position (${samples} samples into the ` +
        `epoch, written by ${savedWorld}) does not split evenly`,
    );
  }
  return { ...state, position: samples / world };
}

/**
 * Restores every part from a loaded checkpoint (whose run state `parseRunState` checked): the names,
 * shapes and dtypes of all its tensors are compared with the parts' before anything is copied.
 *
 * @throws {Error} Naming the checkpoint when its tensors do not fit the parts (another network or method).
 */
export function restoreRun(parts: RunParts, ckpt: LoadedCheckpoint, saved: RunState): void {
  try {
    checkStateDict(runTensors(parts), ckpt.tensors, "its tensors", { castFloating: false });
    const { online, target, optimizer, method, state, loader } = parts;
    online.loadStateDict(selectPrefix(ckpt.tensors, "online."));
    if (target.kind !== "stop-grad") target.module.loadStateDict(selectPrefix(ckpt.tensors, "target."));
    optimizer.loadStateDict(selectPrefix(ckpt.tensors, "optim."));
    method.loadState(state, { tensors: selectPrefix(ckpt.tensors, "method."), numbers: saved.numbers });
    loader.setState(loaderStateFor(ckpt.path, saved.loader, saved.worldSize, parts.worldSize));
  } catch (e) {
    throw new Error(`Cannot resume from checkpoint "${ckpt.path}": ${(e as Error).message}`, { cause: e });
  }
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
