/**
 * `train(config)`: a whole run, read top to bottom — the parts (data on the device, networks, method,
 * target branch, optimizer); kNN at initialisation, or the state of a checkpoint; the loop around
 * `Trainer.step`, with metrics lines, epoch-end kNN and checkpoints; then the final kNN, the linear
 * probe, the plot and the report. `train.ts` is its command line.
 *
 * Reproducibility: the weights come from `seed`; step k's augmentation from a seed derived from
 * (seed, k); the data order from the loader's (seed, epoch) permutation. A checkpoint holds everything
 * else that changes (weights, EMA target, optimizer momentum, method state, loader position), so a run
 * resumed from it takes the same steps as the uninterrupted one.
 *
 * Data parallelism: started by a launcher (`train.ts --nproc N`, torchrun, Slurm), every process runs
 * `train` on its share of each global batch (see `joinRun`); all of them evaluate (the weights are the
 * same), rank 0 alone writes the run folder, and on SIGTERM/SIGINT they agree to stop after the same
 * step, rank 0 writing the one checkpoint.
 *
 * @module
 */
import { join } from "node:path";
import { cuda, getNumThreads, manualSeed, scope, setNumThreads, torchVersion } from "../torch/mod.ts";
import type { Batch } from "../data/mod.ts";
import {
  MetricsLog,
  plotPanels,
  Progress,
  type ProgressValues,
  readMetricsLog,
  trainingPanels,
  type TrainingRecord,
  writeReport,
} from "../io/mod.ts";
import { readStats, type StepResult } from "../ssl/mod.ts";
import { DistributedError } from "../dist/mod.ts";
import { type TrainConfig, validateConfig } from "./config.ts";
import { explainFailure, joinRun, type RunDist, stopAgreed } from "./_dist.ts";
import { RunStopped } from "./run_stopped.ts";
import { buildParts, checkDevice, evaluate, type RunParts } from "./_parts.ts";
import {
  configChanges,
  findCheckpoint,
  restoreRun,
  resumeMetrics,
  type RunCounters,
  runFolderOf,
  saveRun,
  stepSeed,
} from "./_state.ts";

/** What a finished run measured. */
export interface RunResult {
  /** The run folder. */
  out: string;
  /** kNN top-1 at initialisation (null when a resumed checkpoint did not record it). */
  knnInit: number | null;
  /** kNN top-1 after training. */
  knnFinal: number;
  /** Linear-probe test accuracy (null when skipped). */
  linearProbe: number | null;
  /** Mean training throughput over the whole run, image pairs per second. */
  pairsPerSecond: number;
  /** Training wall time in seconds, across resumes (evaluation and checkpoints excluded). */
  trainSeconds: number;
  /** Steps taken (in total, across resumes). */
  steps: number;
}

/** A run in progress. */
interface Run extends RunCounters {
  c: TrainConfig;
  parts: RunParts;
  out: string;
  log: (line: string) => void;
  /** The metrics log (rank 0 only). */
  metrics: MetricsLog | null;
  progress: Progress;
  /** The progress display is a bar redrawn in place (messages then start on a new line). */
  tty: boolean;
  /** The latest kNN accuracy measured in this process. */
  knnFinal: number | null;
  /** Linear-probe accuracy of the final evaluation (null when skipped; undefined until it ran). */
  probe?: number | null;
  /** The latest loss and lr, for the progress display. */
  shown: ProgressValues;
  /** This rank's part of a data-parallel run, or null for a single process. */
  dist: RunDist | null;
  /** Whether this process writes the run folder (rank 0, or the only process). */
  lead: boolean;
}

/**
 * Trains an encoder as `config` says and writes the run folder: `config.json`, `metrics.jsonl`,
 * `checkpoints/`, `plot.svg` and `report.md`. With `config.resume`, every part is restored from the
 * checkpoint first and the run continues where it stopped (into the checkpoint's run folder unless
 * `config.out` is set).
 *
 * @param config A complete config (see `DEFAULT_CONFIG`); it is validated first.
 * @param log Where messages go (default `console.log`); with another function, progress lines go there too.
 * @returns The measured figures.
 * @throws {RangeError} On a bad config value, an unusable device or a diverged run (naming the step).
 * @throws {Error} On missing data files or a checkpoint that cannot be resumed (naming the file).
 * @throws {DistributedError} In a data-parallel run, when a rank died or stopped answering (naming it).
 * @throws {RunStopped} In a data-parallel run stopped by SIGTERM/SIGINT (after the checkpoint).
 */
export async function train(config: TrainConfig, log: (line: string) => void = console.log): Promise<RunResult> {
  using stack = new DisposableStack();
  const joined = joinRun(validateConfig(config));
  const { config: c, dist } = joined;
  if (dist) stack.defer(() => dist.dispose());
  const lead = dist === null || dist.group.rank === 0;
  if (!lead) log = () => {}; // rank 0 speaks for the job
  checkDevice(c.device);
  setNumThreads(c.threads > 0 ? c.threads : navigator.hardwareConcurrency);
  const from = c.resume === null ? null : await findCheckpoint(c.resume);
  const out = c.out ?? (from === null ? null : runFolderOf(from)) ?? `runs/${c.method}-${c.dataset}`;
  await Deno.mkdir(out, { recursive: true });

  // ---- the parts; the weights are drawn from the seed (a resume overwrites them; ranks get rank 0's)
  manualSeed(c.seed);
  const parts = stack.adopt(await buildParts(c, dist?.group ?? null), (p) => p.dispose());
  describe(c, parts, log);
  if (lead) {
    await Deno.writeTextFile(
      join(out, "config.json"),
      JSON.stringify({ ...c, derived: parts.derived, runMethodOptions: parts.methodOptions }, null, 2) + "\n",
    );
  }

  // ---- a fresh start (kNN at initialisation) or a resume (every part restored)
  const counters = from === null ? await start(parts, out, log, lead) : await resume(c, parts, from, out, log, lead);
  const metrics = lead ? stack.use(new MetricsLog(join(out, "metrics.jsonl"))) : null;
  const tty = log === console.log && Deno.stdout.isTerminal();
  const progress = new Progress({
    total: parts.derived.totalSteps,
    initial: counters.step,
    label: c.method,
    pairsPerStep: c.batchSize,
    ...(log === console.log ? { tty } : { tty: false, write: (text: string) => log(text.trimEnd()) }),
  });
  const run: Run = { ...counters, c, parts, out, log, metrics, progress, tty, knnFinal: null, shown: {}, dist, lead };

  await trainLoop(run);
  progress.done();
  return await finish(run);
}

/** Prints what runs, the numbers derived from the config, and the config. */
function describe(c: TrainConfig, parts: RunParts, log: (line: string) => void): void {
  const { method, derived } = parts;
  log(`unigrad ${c.method} (${method.form}, target ${method.target}) on ${c.dataset}, ${c.arch}, device ${c.device}`);
  log(
    `  pairs/step ${c.batchSize}, steps/epoch ${derived.stepsPerEpoch}, total steps ${derived.totalSteps}, ` +
      `effective lr ${derived.effectiveLr}, warm-up steps ${derived.warmupSteps}, threads ${getNumThreads()}, ` +
      `libtorch ${torchVersion()}, method options ${JSON.stringify(parts.methodOptions)}`,
  );
  if (parts.worldSize > 1) {
    log(`  data parallel: ${parts.worldSize} processes × ${c.batchSize / parts.worldSize} pairs, SyncBN ${c.syncBn}`);
  }
  log(`  config ${JSON.stringify(c)}`);
  if (c.device === "cpu" && c.precision !== "fp32") log(`  note: precision ${c.precision} applies on CUDA only`);
}

/** A fresh run: kNN of the untrained network, and a new metrics log that starts with it. */
async function start(parts: RunParts, out: string, log: (line: string) => void, lead: boolean): Promise<RunCounters> {
  const knnInit = evaluate(parts).knn;
  log(`  kNN at initialisation: ${percent(knnInit)}`);
  if (lead) {
    await Deno.writeTextFile(join(out, "metrics.jsonl"), JSON.stringify({ step: 0, epoch: 0, knn: knnInit }) + "\n");
  }
  return { step: 0, knnInit, trainSeconds: 0 };
}

/** A resumed run: the parts restored, and the interrupted run's metrics log up to the checkpoint. */
async function resume(
  c: TrainConfig,
  parts: RunParts,
  from: string,
  out: string,
  log: (line: string) => void,
  lead: boolean,
): Promise<RunCounters> {
  const { counters, config } = await restoreRun(parts, from);
  const changes = configChanges(config, c);
  if (changes.length > 0) {
    log(`  warning: the config differs from the checkpoint's in ${changes.join(", ")}: not the interrupted run`);
  }
  const folder = runFolderOf(from);
  if (lead) {
    await resumeMetrics(
      folder === null ? null : join(folder, "metrics.jsonl"),
      join(out, "metrics.jsonl"),
      counters.step,
    );
  }
  log(`  resumed from ${from} at step ${counters.step}`);
  return counters;
}

/** Steps and seconds over a stretch of the loop (a log interval, an epoch). */
class Meter {
  steps = 0;
  seconds = 0;
  /** Counts one step of `seconds`. */
  add(seconds: number): void {
    this.steps += 1;
    this.seconds += seconds;
  }
  /** Pairs per second over the stretch. */
  rate(pairsPerStep: number): number {
    return this.seconds > 0 ? (this.steps * pairsPerStep) / this.seconds : 0;
  }
}

/**
 * The loop: one `Trainer.step` per batch until the last step; a metrics line every `logEvery` steps;
 * kNN (every `evalEvery` epochs and at the end), a metrics line and a checkpoint at each epoch end; a
 * checkpoint every `checkpointEvery` steps in between. Evaluation and checkpoints are not training time.
 */
async function trainLoop(run: Run): Promise<void> {
  const { stepsPerEpoch, totalSteps } = run.parts.derived;
  let [sinceLog, sinceEpoch] = [new Meter(), new Meter()];
  let mark = performance.now(); // training time runs from here: the batch, its views and the step
  while (run.step < totalSteps) {
    for await (const batch of run.parts.loader) { // the rest of the loader's current epoch
      const logNow = (run.step + 1) % run.c.logEvery === 0;
      const result = trainStep(run, batch, logNow);
      run.step++;
      const seconds = (performance.now() - mark) / 1000;
      run.trainSeconds += seconds;
      sinceLog.add(seconds);
      sinceEpoch.add(seconds);
      try {
        if (logNow) logStep(run, result, sinceLog.rate(run.c.batchSize)); // reads values back: a device sync
      } finally {
        result.dispose();
      }
      if (logNow) sinceLog = new Meter();
      run.progress.update(run.step, run.shown);
      if (run.dist) {
        // A macrotask turn lets a pending SIGTERM/SIGINT listener run (the loader yields microtasks only).
        await new Promise((resolve) => setTimeout(resolve, 0));
        if (stopAgreed(run.dist)) await stop(run); // one tiny all-reduce per step
      }
      if (run.step % stepsPerEpoch === 0) {
        await endEpoch(run, sinceEpoch.rate(run.c.batchSize));
        sinceEpoch = new Meter();
      } else if (run.step % run.c.checkpointEvery === 0) await save(run);
      mark = performance.now(); // evaluation and checkpoints are not training time
    }
  }
}

/** One optimisation step on `batch` (freed here), its augmentation seeded from (seed, step). */
function trainStep(run: Run, batch: Batch, withLoss: boolean): StepResult {
  const { parts, c, step } = run;
  // CPU and CUDA generators: the same views after a resume; every rank its own views.
  manualSeed(stepSeed(c.seed, step, run.dist?.group.rank ?? 0));
  try {
    return scope(() => parts.trainer.step(parts.views.apply(batch.images), step, parts.lrAt(step), { withLoss }));
  } catch (e) {
    // The methods check their features at every step: NaN/Inf, or rows that overflowed to zero.
    const failure = explainFailure(run.dist, e as Error);
    if (failure instanceof DistributedError) throw failure; // a rank died or stopped answering
    const message = (e as Error).message;
    if (/NaN|Inf|l2-normalised|converge/.test(message)) throw diverged(run, step + 1, message);
    throw new Error(`Training failed at step ${step + 1}: ${message}`, { cause: e });
  } finally {
    batch.dispose();
  }
}

function diverged(run: Run, step: number, what: string): RangeError {
  const epoch = (step / run.parts.derived.stepsPerEpoch).toFixed(2);
  return new RangeError(`Training diverged at step ${step} (epoch ${epoch}, lr ${run.parts.lrAt(step - 1)}): ${what}`);
}

/** A metrics line: the loss (when the method has one) and the gradient decomposition. */
function logStep(run: Run, result: StepResult, pairsPerSecond: number): void {
  const s = readStats(result.stats);
  const loss = result.loss?.item();
  if (![s.positive, s.negative, s.similarity, loss ?? 0].every(Number.isFinite)) {
    throw diverged(run, run.step, `loss ${loss}, positive ${s.positive}, negative ${s.negative}`);
  }
  run.metrics?.write({
    step: run.step,
    epoch: run.step / run.parts.derived.stepsPerEpoch,
    ...(loss === undefined ? {} : { loss }),
    lr: result.lr,
    positive: s.positive,
    negative: s.negative,
    balance: s.negative / s.positive,
    lambda: s.lambda,
    similarity: s.similarity,
    momentum: result.momentum,
    pairsPerSecond,
  });
  run.shown = { loss, lr: result.lr };
}

/** Epoch end: kNN when due, the epoch's metrics line, a checkpoint. */
async function endEpoch(run: Run, pairsPerSecond: number): Promise<void> {
  const { c, parts } = run;
  const epoch = run.step / parts.derived.stepsPerEpoch;
  const record: TrainingRecord = { step: run.step, epoch, trainSeconds: run.trainSeconds, pairsPerSecond };
  if (run.step >= parts.derived.totalSteps || (c.evalEvery > 0 && epoch % c.evalEvery === 0)) {
    if (c.device !== "cpu") cuda.synchronize(); // the steps' time is training time
    // The last evaluation also trains the linear probe on the same extracted features.
    const last = run.step >= parts.derived.totalSteps;
    const { knn, probe } = evaluate(parts, last ? c.probeEpochs : 0);
    record.knn = run.knnFinal = knn;
    if (last) run.probe = probe;
    say(run, `epoch ${epoch}/${c.epochs}: kNN ${percent(run.knnFinal)}`);
  }
  run.metrics?.write(record);
  await save(run);
}

async function save(run: Run): Promise<void> {
  if (!run.lead) return;
  await saveRun(run.parts, run.out, { step: run.step, knnInit: run.knnInit, trainSeconds: run.trainSeconds }, run.c);
}

/**
 * Every rank agreed to stop after this step (a SIGTERM or SIGINT reached at least one of them): rank 0
 * writes the checkpoint, and every rank ends with RunStopped.
 */
async function stop(run: Run): Promise<never> {
  await save(run);
  const { rank, worldSize } = run.dist!.group;
  const signal = run.dist!.signal;
  run.progress.done();
  const how = signal ? `on ${signal}` : "because another rank was asked to stop";
  const resume = `resume with: deno run -A train.ts --resume ${run.out} (the same flags otherwise)`;
  const message = run.lead
    ? `stopped ${how} after step ${run.step}; checkpoint written to ${join(run.out, "checkpoints")}; ${resume}`
    : `rank ${rank} of ${worldSize} stopped ${how} after step ${run.step}`;
  throw new RunStopped(message, signal === "SIGINT" ? 130 : 143);
}

/** A message between progress redraws. */
function say(run: Run, line: string): void {
  run.log(`${run.tty ? "\n" : ""}  ${line}`);
}

function percent(x: number): string {
  return `${(x * 100).toFixed(2)} %`;
}

/** The final kNN (when this process has not measured it), the linear probe, the plot and the report. */
async function finish(run: Run): Promise<RunResult> {
  const { c, parts, out } = run;
  if (run.knnFinal === null || run.probe === undefined) {
    ({ knn: run.knnFinal, probe: run.probe } = evaluate(parts, c.probeEpochs));
  }
  const knnFinal = run.knnFinal;
  const probe = run.probe;
  const pairsPerSecond = run.trainSeconds > 0 ? (run.step * c.batchSize) / run.trainSeconds : 0;
  const { knnInit, trainSeconds, step: steps } = run;
  const result = { out, knnInit, knnFinal, linearProbe: probe, pairsPerSecond, trainSeconds, steps };
  if (!run.lead) return result; // rank 0 writes the log, the plot and the report
  if (probe !== null) {
    run.metrics?.write({ step: run.step, epoch: run.step / parts.derived.stepsPerEpoch, linearProbe: probe });
    run.log(`  linear probe: ${percent(probe)}`);
  }
  const records = readMetricsLog(join(out, "metrics.jsonl"));
  await Deno.writeTextFile(
    join(out, "plot.svg"),
    plotPanels(trainingPanels(records), { title: `${c.method} on ${c.dataset}` }),
  );
  await writeReport(join(out, "report.md"), {
    title: `unigrad: ${c.method} on ${c.dataset}`,
    rows: [{
      method: `${c.method} (${parts.method.form}, ${parts.method.target})`,
      epochs: c.epochs,
      knnInit: run.knnInit ?? undefined,
      knnFinal,
      linearProbe: probe ?? undefined,
      pairsPerSecond,
      wallSeconds: run.trainSeconds,
    }],
    config: { ...c, methodOptions: parts.methodOptions },
    plot: "plot.svg",
    notes: [
      `device ${c.device}, libtorch ${torchVersion()}, ${getNumThreads()} CPU threads, ${run.step} steps` +
      (parts.worldSize > 1 ? `, data parallel over ${parts.worldSize} processes (SyncBN ${c.syncBn})` : ""),
    ],
  });
  run.log(`  report: ${join(out, "report.md")}`);
  return result;
}
