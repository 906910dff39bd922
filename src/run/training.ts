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
 * @module
 */
import { join } from "node:path";
import { cuda, getNumThreads, manualSeed, setNumThreads, torchVersion } from "../torch/mod.ts";
import { deviceCode } from "../torch/device.ts";
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
import { DistributedError } from "../distributed/mod.ts";
import { writeFileAtomic } from "../torch/files.ts";
import { validateConfig } from "./config.ts";
import type { TrainConfig } from "./settings.ts";
import { lambdaRule } from "./method_options.ts";
import { checkFitsMemory } from "./memory.ts";
import { buildParts, checkDevice, evaluate, type Evaluation, pixelBaselines, type RunParts, stepOn } from "./_parts.ts";
import { agreeOnResume, explainFailure, joinRun, type RunDist, stopAgreed } from "./_ranks.ts";
import { configChanges } from "./settings.ts";
import { parseRunState, restoreRun, resumeMetrics, type ResumingRun, type RunCounters, saveRun } from "./_state.ts";
import { openResume, type ResumePoint, runFolderOf } from "./resume.ts";
import { claimFolder } from "./_folder.ts";
import { watchRuns } from "./watch.ts";
import { type EpochBudget, resolveEpochs } from "./budget.ts";
import { interruptionOf, stopOnSignals, type StopRequest, StopRequested } from "./signals.ts";

/** Non-finite steps in a row after which a guarded run (no per-step checks) stops. */
const MAX_NON_FINITE_IN_A_ROW = 5;

/** Options of `train` besides the config. */
export interface TrainOptions {
  /**
   * Polled once per step: once it is set, the run finishes the step, writes a checkpoint, says how to
   * resume and returns with `stopped` set. @default the first SIGINT or SIGTERM (`stopOnSignals`)
   */
  stop?: StopRequest;
  /**
   * The checkpoint `config.resume` names, already opened with `openResume` (the command line opens it
   * once to read its config); `train` frees its tensors. @default opened from `config.resume`
   */
  resumeFrom?: ResumePoint;
}

/** How a run that was asked to stop ended. */
export interface StoppedRun {
  /** Why ("SIGTERM", "SIGINT", or the request's reason). */
  reason: string;
  /** The exit code the command line ends with: 130 (SIGINT), 143 (SIGTERM), 1 otherwise. */
  exitCode: number;
  /** The checkpoint written at the stop. */
  checkpoint: string;
}

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
  /** Steps skipped on the device because they were not finite (runs without per-step checks). */
  skippedSteps: number;
  /** Set when a stop request (a signal) ended the run early; the final evaluation then did not run. */
  stopped: StoppedRun | null;
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
  /** Polled once per step, through `stopNow` (all ranks agree on it in a data-parallel run). */
  stop: StopRequest;
  /** Set once the loop agreed to stop after the current step. */
  stopping: boolean;
  /** The signals' stop request, which also abandons evaluations; null in a data-parallel run or under a caller's stop. */
  interrupt: StopRequest | null;
  /** This rank's part of a data-parallel run, or null for a single process. */
  dist: RunDist | null;
  /** Whether this process writes the run folder (rank 0, or the only process). */
  lead: boolean;
  /** The step and path of the newest checkpoint this process wrote. */
  saved: { step: number; path: string } | null;
  /** Non-finite steps skipped so far (read at logging steps). */
  skipped: number;
  /** When the plot and report were last written (performance.now()). */
  filesWritten: number;
}

/**
 * Trains an encoder as `config` says and writes the run folder: `config.json`, `metrics.jsonl`,
 * `checkpoints/`, `plot.svg` and `report.md`. With `config.resume`, every part is restored from the
 * newest intact checkpoint first (its config must match this one) and the run continues where it
 * stopped (into the checkpoint's run folder unless `config.out` is set).
 *
 * The run folder is locked while the run lasts (`run.lock`); a folder holding another run's
 * checkpoints is refused unless resumed or `config.overwrite` is set. A stop request (by default the
 * first SIGINT or SIGTERM) ends the run after the current step with a checkpoint.
 *
 * @param config A complete config (see `DEFAULT_CONFIG`); it is validated first.
 * @param log Where messages go (default `console.log`); with another function, progress lines go there too.
 * @param options The stop request to poll (default: signals).
 * @returns The measured figures, or (with `stopped` set) those of a run stopped early.
 * @throws {RangeError} On a bad config value, an unusable device or a diverged run (naming the step).
 * @throws {Error} On missing data files, a folder another run holds, or a checkpoint that cannot be
 * resumed (naming the file).
 * @throws {DistributedError} In a data-parallel run, when a rank died or stopped answering (naming it).
 *
 * @example Usage
 * ```ts
 * import { DEFAULT_CONFIG, train } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const out = await Deno.makeTempDir();
 * const result = await train({
 *   ...DEFAULT_CONFIG,
 *   epochs: 1,
 *   width: 4,
 *   projHidden: 16,
 *   projDim: 8,
 *   batchSize: 16,
 *   limitTrain: 64,
 *   limitTest: 32,
 *   probeEpochs: 1,
 *   threads: 1,
 *   out,
 * }, () => {}); // 4 steps of UniGrad on Fashion-MNIST, messages silenced
 * assert.equal(result.steps, 4);
 * assert.ok(result.knnFinal > 0 && result.knnFinal <= 1);
 * await Deno.remove(out, { recursive: true });
 * ```
 */
export async function train(
  config: TrainConfig,
  log: (line: string) => void = console.log,
  options: TrainOptions = {},
): Promise<RunResult> {
  using stack = new DisposableStack();
  const joined = joinRun(validateConfig(config));
  const dist = joined.dist;
  let c = joined.config;
  if (dist) stack.defer(() => dist.dispose());
  const lead = dist === null || dist.group.rank === 0;
  if (!lead) log = () => {}; // rank 0 speaks for the job
  checkDevice(c.device);
  checkFitsMemory(c); // before anything is built, the budget's calibration included
  setNumThreads(c.threads > 0 ? c.threads : navigator.hardwareConcurrency);
  const from = options.resumeFrom ?? (c.resume === null ? null : await openResume(c.resume));
  if (from !== null) stack.defer(() => from.checkpoint.tensors.forEach((t) => t.dispose()));
  if (dist && c.resume !== null) agreeOnResume(dist, from);
  const source = from === null ? null : runFolderOf(from.checkpoint.path);
  // A resumed run keeps the epoch count its start resolved (config.json and the checkpoint hold it).
  if (from !== null && c.epochs === 0) c = { ...c, epochs: savedEpochs(from.checkpoint.state.config) };
  if (from !== null) checkSameRun(c, from);
  const out = c.out ?? source ?? `runs/${c.method}-${c.dataset}`;
  // Rank 0 owns the run folder; the other ranks write nothing.
  const folder = lead ? await claimFolder(out, { resumedFrom: source, overwrite: c.overwrite }) : null;
  if (folder) stack.defer(() => folder.release());
  const stop = options.stop ?? stack.use(stopOnSignals((signal) => log(`\n  ${signal}: ${STOPPING}`)));
  if (c.watch > 0 && folder) {
    const page = stack.use(watchRuns([out], { port: c.watch, hostname: c.watchHost }));
    log(`  watch: ${page.url}`);
  }

  let parts: RunParts;
  let counters: RunCounters;
  let budget: EpochBudget | null = null;
  // Signals also interrupt the set-up and the evaluations (a single process only: ranks must set up and
  // evaluate together; a caller's own stop request is polled at step boundaries only).
  const interrupt = dist || options.stop ? null : stop;
  // A stop during set-up ends the run with nothing saved.
  const setUp = interrupt && interruptionOf(interrupt, "during set-up (nothing trained, nothing saved)");
  try {
    // ---- epochs 0: as many as fit the training budget, measured on this machine (then fixed)
    if (c.epochs === 0) {
      ({ config: c, budget } = await resolveEpochs(c, dist?.group ?? null));
    }
    setUp?.throwIfAborted();
    // ---- the parts; the weights are drawn from the seed (a resume overwrites them; ranks get rank 0's)
    manualSeed(c.seed);
    parts = stack.adopt(await buildParts(c, dist?.group ?? null), (p) => p.dispose());
    setUp?.throwIfAborted();
    describe(c, parts, budget, log);
    const resolved = { augment: parts.augment, views: parts.views.length + (c.cutmix > 0 ? 1 : 0) };
    if (lead) {
      await writeFileAtomic(
        join(out, "config.json"),
        JSON.stringify(
          {
            ...c,
            derived: parts.derived,
            resolvedMethodOptions: parts.resolvedMethodOptions,
            lambdaRule: lambdaRule(c),
            resolved,
            ...(budget ? { budget } : {}),
          },
          null,
          2,
        ) +
          "\n",
      );
    }
    // ---- a fresh start (kNN at initialisation) or a resume (every part restored)
    counters = from === null
      ? await start(parts, out, log, lead, setUp ?? undefined)
      : await resume(parts, { derived: parts.derived, batchSize: c.batchSize, seed: c.seed }, from, out, log, lead);
    setUp?.throwIfAborted();
  } catch (e) {
    await folder?.abandon(); // a failed or stopped start leaves no folder it created
    throw e;
  }
  folder?.started();
  const metrics = lead ? stack.use(new MetricsLog(join(out, "metrics.jsonl"))) : null;
  const tty = log === console.log && Deno.stdout.isTerminal();
  const progress = new Progress({
    total: parts.derived.totalSteps,
    initial: counters.step,
    label: c.method,
    pairsPerStep: c.batchSize,
    ...(log === console.log ? { tty } : { tty: false, write: (text: string) => log(text.trimEnd()) }),
  });
  const run: Run = {
    ...counters,
    c,
    parts,
    out,
    log,
    metrics,
    progress,
    tty,
    knnFinal: null,
    shown: {},
    stop,
    stopping: false,
    interrupt,
    saved: null,
    skipped: 0,
    filesWritten: performance.now(),
    dist,
    lead,
  };

  await trainLoop(run);
  progress.done();
  if (run.stopping) return await stopped(run);
  const result = await finish(run);
  // A signal during the final evaluation or the report: the run is complete and saved, but it was
  // asked to stop, so it ends as stopped runs do (exit 130/143), never 0.
  if (result.stopped === null && run.interrupt?.requested) return await stopped(run);
  return result;
}

/** The epoch count a checkpoint's config holds (0, refused later as a difference, when it has none). */
function savedEpochs(saved: unknown): number {
  const epochs = (saved as { epochs?: unknown } | null)?.epochs;
  return typeof epochs === "number" ? epochs : 0;
}

const STOPPING = "stopping after this step with a checkpoint (a second signal ends the run at once)";

/** Refuses a resume whose config would not continue the checkpoint's run, listing the differences. */
function checkSameRun(c: TrainConfig, from: ResumePoint): void {
  const changes = configChanges(from.checkpoint.state.config, c);
  if (changes.length > 0) {
    throw new Error(
      `Cannot resume from checkpoint "${from.checkpoint.path}": the config differs from the checkpoint's in ` +
        `${changes.join(", ")} (resume with the interrupted run's settings, or start a new run with another --out)`,
    );
  }
}

/** A run stopped by a request: its checkpoint (written at the stop) and one line saying how to resume. */
async function stopped(run: Run): Promise<RunResult> {
  const checkpoint = (run.saved?.step === run.step ? run.saved.path : await save(run)) ??
    join(run.out, "checkpoints"); // another rank's process: rank 0 wrote it
  // No rank leaves before rank 0's checkpoint is on disk: a launcher (srun --kill-on-bad-exit, --nproc)
  // kills the remaining ranks when one exits non-zero, which would cut rank 0's save short.
  if (run.dist) run.dist.group.barrier();
  const reason = run.stop.reason ?? (run.dist ? "another rank's stop request" : "a stop request");
  run.log(`  stopped by ${reason} at step ${run.step}: checkpoint ${checkpoint}; resume with --resume ${run.out}`);
  const { knnInit, trainSeconds, step: steps, out, skipped: skippedSteps } = run;
  const pairsPerSecond = trainSeconds > 0 ? (steps * run.c.batchSize) / trainSeconds : 0;
  return {
    out,
    knnInit,
    knnFinal: run.knnFinal ?? Number.NaN,
    linearProbe: null,
    pairsPerSecond,
    trainSeconds,
    steps,
    skippedSteps,
    stopped: { reason, exitCode: run.stop.exitCode || (run.dist ? 143 : 1), checkpoint },
  };
}

/** Prints what runs, the numbers derived from the config, and the config. */
function describe(c: TrainConfig, parts: RunParts, budget: EpochBudget | null, log: (line: string) => void): void {
  const { method, derived } = parts;
  log(`unigrad ${c.method} (${method.form}, target ${method.target}) on ${c.dataset}, ${c.arch}, device ${c.device}`);
  if (budget) {
    log(
      `  epochs ${budget.epochs}: what fits ${budget.trainMinutes} min of training here (${budget.pairsPerSecond} ` +
        `pairs/s over ${budget.timedSteps} measured steps; planned ${budget.plannedMinutes} min; --epochs N fixes it)`,
    );
  }
  log(
    `  pairs/step ${c.batchSize}, steps/epoch ${derived.stepsPerEpoch}, total steps ${derived.totalSteps}, ` +
      `effective lr ${derived.effectiveLr}, warm-up steps ${derived.warmupSteps}, threads ${getNumThreads()}, ` +
      `libtorch ${torchVersion()}, method options ${JSON.stringify(parts.resolvedMethodOptions)}`,
  );
  if (parts.worldSize > 1) {
    log(`  data parallel: ${parts.worldSize} processes × ${c.batchSize / parts.worldSize} pairs, SyncBN ${c.syncBn}`);
  }
  const sizes = parts.views.views.map((v) => (typeof v.size === "number" ? v.size : v.size.join("×")));
  const cut = c.cutmix > 0 ? ` + CutMix (α ${c.cutmix})` : "";
  const trust = c.optimizer === "lars" ? `, trust ${c.larsTrust}` : "";
  const decay = `wd ${c.wd}${c.wdExcludeNormBias ? " without BN and biases" : " on every parameter"}`;
  log(
    `  ${c.recipe === null ? "" : `recipe ${c.recipe}, `}views ${sizes.join(", ")}${cut} (${parts.augment}), ` +
      `optimizer ${c.optimizer} (momentum ${c.momentum}${trust}, ${decay}), lr floor ${(c.lrMin * c.batchSize) / 256}`,
  );
  log(`  config ${JSON.stringify(c)}`);
  log(`  numerics: ${parts.numerics.reason}`);
}

/** A fresh run: kNN of the untrained network, and a new metrics log that starts with it. */
async function start(
  parts: RunParts,
  out: string,
  log: (line: string) => void,
  lead: boolean,
  signal?: { throwIfAborted(): void },
): Promise<RunCounters> {
  const { knn: knnInit, knnTop5 } = await evaluate(parts, 0, signal);
  log(`  kNN at initialisation: ${percent(knnInit)} (top-5 ${percent(knnTop5)})`);
  if (lead) {
    await Deno.writeTextFile(
      join(out, "metrics.jsonl"),
      JSON.stringify({ step: 0, epoch: 0, knn: knnInit, knnTop5 }) + "\n",
    );
  }
  return { step: 0, knnInit, trainSeconds: 0 };
}

/** A resumed run: the parts restored, and the interrupted run's metrics log up to the checkpoint. */
async function resume(
  parts: RunParts,
  run: ResumingRun,
  from: ResumePoint,
  out: string,
  log: (line: string) => void,
  lead: boolean,
): Promise<RunCounters> {
  const { checkpoint, refused } = from;
  for (const r of refused) log(`  passed over ${r.path}: ${r.reason}`);
  const saved = parseRunState(checkpoint, run);
  restoreRun(parts, checkpoint, saved);
  checkpoint.tensors.forEach((t) => t.dispose()); // restored: free the CPU copies now
  const folder = runFolderOf(checkpoint.path);
  if (lead) {
    await resumeMetrics(
      folder === null ? null : join(folder, "metrics.jsonl"),
      join(out, "metrics.jsonl"),
      saved.counters.step,
    );
  }
  log(`  resumed from ${checkpoint.path} at step ${saved.counters.step}`);
  return saved.counters;
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
 * One event-loop turn, as a function to await once per step: a MessageChannel message costs ~0.04 ms
 * where `setTimeout(0)` costs ~2 ms (measured here), which would be 8 % of a 28 ms GPU step.
 */
function macrotaskTurn(): (() => Promise<void>) & Disposable {
  const channel = new MessageChannel();
  const turn = () =>
    new Promise<void>((resolve) => {
      channel.port1.onmessage = () => resolve();
      channel.port2.postMessage(null);
    });
  return Object.assign(turn, { [Symbol.dispose]: () => channel.port1.close() });
}

/**
 * The loop: one `Trainer.step` per batch until the last step; a metrics line every `logEvery` steps;
 * kNN (every `evalEvery` epochs and at the end), a metrics line and a checkpoint at each epoch end; a
 * checkpoint every `checkpointEvery` steps in between. Evaluation and checkpoints are not training time.
 */
async function trainLoop(run: Run): Promise<void> {
  using turn = macrotaskTurn();
  const { stepsPerEpoch, totalSteps } = run.parts.derived;
  let [sinceLog, sinceEpoch] = [new Meter(), new Meter()];
  let mark = performance.now(); // training time runs from here: the batch, its views and the step
  while (run.step < totalSteps && !run.stopping) {
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
      if (logNow && run.dist) await heartbeat(run); // each rank's last step, for the watch page
      // Between evaluations, the plot and report follow the metrics every few minutes.
      if (logNow && performance.now() - run.filesWritten > RUN_FILES_EVERY_MS) await writeRunFiles(run);
      run.progress.update(run.step, run.shown);
      // A macrotask turn lets timers and I/O callbacks run (the loader's batches resolve as microtasks).
      await turn();
      // Polled once per step; in a data-parallel run one tiny all-reduce makes every rank agree.
      run.stopping = run.dist ? stopAgreed(run.dist, run.stop) : run.stop.requested;
      if (run.stopping) return; // the caller checkpoints and ends the run
      if (run.step % stepsPerEpoch === 0) {
        await endEpoch(run, sinceEpoch.rate(run.c.batchSize));
        if (run.stopping) return; // its evaluation was abandoned for a stop request
        sinceEpoch = new Meter();
      } else if (run.step % run.c.checkpointEvery === 0) await save(run);
      mark = performance.now(); // evaluation and checkpoints are not training time
    }
  }
}

/** One optimisation step on `batch` (freed here), its augmentation seeded from (seed, step). */
function trainStep(run: Run, batch: Batch, withLoss: boolean): StepResult {
  const { parts, c, step } = run;
  try {
    return stepOn(parts, batch, step, c.seed, run.dist?.group.rank ?? 0, withLoss);
  } catch (e) {
    const failure = explainFailure(run.dist, e as Error);
    if (failure instanceof DistributedError) throw failure; // a rank died or stopped answering
    // The methods check their features at every step: NaN/Inf, or rows that overflowed to zero.
    const message = (e as Error).message;
    if (/NaN|Inf|l2-normalised|converge/.test(message)) throw diverged(run, step + 1, message);
    throw new Error(`Training failed at step ${step + 1}: ${message}`, { cause: e });
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
  const { skipped, consecutive } = run.parts.trainer.nonFinite(); // zeros unless the trainer guards
  if (skipped > run.skipped) say(run, `skipped ${skipped - run.skipped} non-finite step(s) (${skipped} in all)`);
  run.skipped = skipped;
  if (consecutive >= MAX_NON_FINITE_IN_A_ROW) {
    throw diverged(run, run.step, `the last ${consecutive} steps were not finite and were skipped`);
  }
  const finite = [s.positive, s.negative, s.similarity, loss ?? 0].every(Number.isFinite);
  if (!finite && consecutive > 0) return; // this step was skipped: its values never entered the state
  if (!finite) throw diverged(run, run.step, `loss ${loss}, positive ${s.positive}, negative ${s.negative}`);
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
    ...(run.skipped > 0 ? { skippedSteps: run.skipped } : {}),
  });
  run.shown = { loss, lr: result.lr };
}

/** Epoch end: kNN when due, the epoch's metrics line, a checkpoint. */
async function endEpoch(run: Run, pairsPerSecond: number): Promise<void> {
  const { c, parts } = run;
  const epoch = run.step / parts.derived.stepsPerEpoch;
  const record: TrainingRecord = { step: run.step, epoch, trainSeconds: run.trainSeconds, pairsPerSecond };
  const last = run.step >= parts.derived.totalSteps;
  if (last) await save(run); // before the final evaluation: a signal during it loses no step
  if (last || (c.evalEvery > 0 && epoch % c.evalEvery === 0)) {
    if (c.device !== "cpu") cuda.synchronize(deviceCode(c.device)); // the steps' time is training time
    // The last evaluation also trains the linear probe on the same extracted features.
    const measured = await evaluateOrStop(run, last ? c.probeEpochs : 0);
    if (measured === null) return; // abandoned for a stop request: the caller checkpoints and ends the run
    const { knn, knnTop5, probe } = measured;
    record.knn = run.knnFinal = knn;
    record.knnTop5 = knnTop5;
    if (last) run.probe = probe;
    say(run, `epoch ${epoch}/${c.epochs}: kNN ${percent(run.knnFinal)} (top-5 ${percent(knnTop5)})`);
  }
  run.metrics?.write(record);
  if (run.dist) await heartbeat(run);
  if (record.knn !== undefined && !last) await writeRunFiles(run); // the picture of the run so far
  if (!last) await save(run);
}

/**
 * An evaluation that a stop request abandons (in a single process: the ranks of a data-parallel run
 * stop together at a step boundary instead); null when it was abandoned, with `run.stopping` set.
 */
async function evaluateOrStop(run: Run, probeEpochs: number): Promise<Evaluation | null> {
  const phase = probeEpochs > 0 ? "during the final evaluation" : "during the kNN";
  try {
    return await evaluate(run.parts, probeEpochs, run.interrupt ? interruptionOf(run.interrupt, phase) : undefined);
  } catch (e) {
    if (!(e instanceof StopRequested)) throw e;
    say(run, `${e.message}: evaluation abandoned`);
    run.stopping = true;
    return null;
  }
}

/** Writes a checkpoint of the current step (rank 0 only); returns its path, or null on other ranks. */
async function save(run: Run): Promise<string | null> {
  if (!run.lead) return null;
  const counters = { step: run.step, knnInit: run.knnInit, trainSeconds: run.trainSeconds };
  const path = await saveRun(run.parts, run.out, counters, run.c);
  run.saved = { step: run.step, path };
  return path;
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
    const measured = await evaluateOrStop(run, c.probeEpochs);
    if (measured === null) return await stopped(run);
    ({ knn: run.knnFinal, probe: run.probe } = measured);
  }
  const knnFinal = run.knnFinal;
  const probe = run.probe;
  const pairsPerSecond = run.trainSeconds > 0 ? (run.step * c.batchSize) / run.trainSeconds : 0;
  const { knnInit, trainSeconds, step: steps, skipped: skippedSteps } = run;
  const result: RunResult = {
    out,
    knnInit,
    knnFinal,
    linearProbe: probe,
    pairsPerSecond,
    trainSeconds,
    steps,
    skippedSteps,
    stopped: null,
  };
  if (!run.lead) return result; // rank 0 writes the log, the plot and the report
  if (probe !== null) {
    run.metrics?.write({ step: run.step, epoch: run.step / parts.derived.stepsPerEpoch, linearProbe: probe });
    run.log(`  linear probe: ${percent(probe)}`);
  }
  const pixels = pixelBaselines(parts, c.probeEpochs);
  if (pixels !== null) {
    const probed = pixels.probe === null ? "" : `, linear probe ${percent(pixels.probe)}`;
    run.log(`  raw pixels (the baseline, no network): kNN ${percent(pixels.knn)}${probed}`);
  }
  await writeRunFiles(run, { knnFinal, probe, pixels });
  run.log(`  report: ${join(out, "report.md")}`);
  return result;
}

/**
 * A data-parallel rank's heartbeat: `<out>/heartbeats/rank-<k>.json` with its step and the time,
 * written (atomically) at every metrics line and epoch end, so the watch page can show a rank that fell behind or
 * stopped answering. The run folder must be on a file system every node sees (as for checkpoints).
 */
async function heartbeat(run: Run): Promise<void> {
  const { rank, worldSize } = run.dist!.group;
  const dir = join(run.out, "heartbeats");
  await Deno.mkdir(dir, { recursive: true });
  const beat = { rank, worldSize, step: run.step, time: Date.now(), host: Deno.hostname() };
  await writeFileAtomic(join(dir, `rank-${rank}.json`), JSON.stringify(beat) + "\n");
}

/** How often, at most, a training run rewrites its plot and report between evaluations. */
const RUN_FILES_EVERY_MS = 3 * 60_000;

/**
 * Writes `plot.svg` and `report.md` (atomically, rank 0 only) from the metrics log so far: at every
 * evaluation, every few minutes of training, and at the end, so that a run folder always holds a true
 * picture of the run, even when the run is killed. `final` holds the end-of-run measurements.
 */
async function writeRunFiles(
  run: Run,
  final: { knnFinal: number; probe: number | null; pixels: ReturnType<typeof pixelBaselines> } | null = null,
): Promise<void> {
  if (!run.lead) return;
  const { c, parts, out } = run;
  run.filesWritten = performance.now();
  const records = readMetricsLog(join(out, "metrics.jsonl"));
  await writeFileAtomic(
    join(out, "plot.svg"),
    plotPanels(trainingPanels(records), { title: `${c.method} on ${c.dataset}` }),
  );
  const pairsPerSecond = run.trainSeconds > 0 ? (run.step * c.batchSize) / run.trainSeconds : 0;
  const pixels = final?.pixels ?? null;
  const progress = final === null
    ? [`in progress: step ${run.step} of ${parts.derived.totalSteps} (this report is rewritten as the run goes on)`]
    : [];
  await writeReport(join(out, "report.md"), {
    title: `unigrad: ${c.method} on ${c.dataset}`,
    rows: [
      {
        method: `${c.method} (${parts.method.form}, ${parts.method.target})`,
        epochs: final === null ? run.step / parts.derived.stepsPerEpoch : c.epochs,
        knnInit: run.knnInit ?? undefined,
        knnFinal: final?.knnFinal ?? run.knnFinal ?? undefined,
        linearProbe: final?.probe ?? undefined,
        pairsPerSecond,
        wallSeconds: run.trainSeconds,
      },
      ...(pixels === null ? [] : [{
        method: "raw pixels (normalised; no network)",
        epochs: 0,
        knnFinal: pixels.knn,
        linearProbe: pixels.probe ?? undefined,
      }]),
    ],
    config: { ...c, resolvedMethodOptions: parts.resolvedMethodOptions },
    plot: "plot.svg",
    notes: [
      ...progress,
      `numerics: ${parts.numerics.reason}`,
      `device ${c.device}, libtorch ${torchVersion()}, ${getNumThreads()} CPU threads, ${run.step} steps` +
      (parts.worldSize > 1 ? `, data parallel over ${parts.worldSize} processes (SyncBN ${c.syncBn})` : ""),
      ...[lambdaRule(c) ?? []].flat(),
    ],
  });
}
