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
import { type TrainConfig, validateConfig } from "./config.ts";
import { buildParts, checkDevice, evaluate, makeViews, type RunParts } from "./_parts.ts";
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
  metrics: MetricsLog;
  progress: Progress;
  /** The progress display is a bar redrawn in place (messages then start on a new line). */
  tty: boolean;
  /** The latest kNN accuracy measured in this process. */
  knnFinal: number | null;
  /** Linear-probe accuracy of the final evaluation (null when skipped; undefined until it ran). */
  probe?: number | null;
  /** The latest loss and lr, for the progress display. */
  shown: ProgressValues;
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
 */
export async function train(config: TrainConfig, log: (line: string) => void = console.log): Promise<RunResult> {
  const c = validateConfig(config);
  checkDevice(c.device);
  setNumThreads(c.threads > 0 ? c.threads : navigator.hardwareConcurrency);
  const from = c.resume === null ? null : await findCheckpoint(c.resume);
  const out = c.out ?? (from === null ? null : runFolderOf(from)) ?? `runs/${c.method}-${c.dataset}`;
  await Deno.mkdir(out, { recursive: true });

  // ---- the parts; the weights are drawn from the seed (a resume overwrites them)
  manualSeed(c.seed);
  using stack = new DisposableStack();
  const parts = stack.adopt(await buildParts(c), (p) => p.dispose());
  describe(c, parts, log);
  const resolved = { augment: parts.augment, views: parts.views.length + (c.cutmix > 0 ? 1 : 0) };
  await Deno.writeTextFile(
    join(out, "config.json"),
    JSON.stringify({ ...c, derived: parts.derived, runMethodOptions: parts.methodOptions, resolved }, null, 2) + "\n",
  );

  // ---- a fresh start (kNN at initialisation) or a resume (every part restored)
  const counters = from === null ? await start(parts, out, log) : await resume(c, parts, from, out, log);
  using metrics = new MetricsLog(join(out, "metrics.jsonl"));
  const tty = log === console.log && Deno.stdout.isTerminal();
  const progress = new Progress({
    total: parts.derived.totalSteps,
    initial: counters.step,
    label: c.method,
    pairsPerStep: c.batchSize,
    ...(log === console.log ? { tty } : { tty: false, write: (text: string) => log(text.trimEnd()) }),
  });
  const run: Run = { ...counters, c, parts, out, log, metrics, progress, tty, knnFinal: null, shown: {} };

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
  const sizes = parts.views.views.map((v) => (typeof v.size === "number" ? v.size : v.size.join("×")));
  log(
    `  ${c.recipe === null ? "" : `recipe ${c.recipe}, `}views ${sizes.join(", ")}${
      c.cutmix > 0 ? ` + CutMix (α ${c.cutmix})` : ""
    } ` +
      `(${parts.augment}), optimizer ${c.optimizer} (momentum ${c.momentum}${
        c.optimizer === "lars" ? `, trust ${c.larsTrust}` : ""
      }, ` +
      `wd ${c.wd}${c.wdExcludeNormBias ? " without BN and biases" : " on every parameter"}), lr floor ${
        (c.lrMin * c.batchSize) / 256
      }`,
  );
  log(`  config ${JSON.stringify(c)}`);
  if (c.device === "cpu" && c.precision !== "fp32") log(`  note: precision ${c.precision} applies on CUDA only`);
}

/** A fresh run: kNN of the untrained network, and a new metrics log that starts with it. */
async function start(parts: RunParts, out: string, log: (line: string) => void): Promise<RunCounters> {
  const { knn: knnInit, knnTop5 } = await evaluate(parts);
  log(`  kNN at initialisation: ${percent(knnInit)} (top-5 ${percent(knnTop5)})`);
  await Deno.writeTextFile(join(out, "metrics.jsonl"), JSON.stringify({ step: 0, epoch: 0, knn: knnInit }) + "\n");
  return { step: 0, knnInit, trainSeconds: 0 };
}

/** A resumed run: the parts restored, and the interrupted run's metrics log up to the checkpoint. */
async function resume(
  c: TrainConfig,
  parts: RunParts,
  from: string,
  out: string,
  log: (line: string) => void,
): Promise<RunCounters> {
  const { counters, config } = await restoreRun(parts, from);
  const changes = configChanges(config, c);
  if (changes.length > 0) {
    log(`  warning: the config differs from the checkpoint's in ${changes.join(", ")}: not the interrupted run`);
  }
  const folder = runFolderOf(from);
  await resumeMetrics(
    folder === null ? null : join(folder, "metrics.jsonl"),
    join(out, "metrics.jsonl"),
    counters.step,
  );
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
  manualSeed(stepSeed(c.seed, step)); // CPU and CUDA generators: the same views after a resume
  try {
    return scope(() => {
      const { views, cutmix } = makeViews(parts, batch); // crops from each whole image when the batch has sizes
      return parts.trainer.step(views, step, parts.lrAt(step), { withLoss, cutmix });
    });
  } catch (e) {
    // The methods check their features at every step: NaN/Inf, or rows that overflowed to zero.
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
  run.metrics.write({
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
    const { knn, knnTop5, probe } = await evaluate(parts, last ? c.probeEpochs : 0);
    record.knn = run.knnFinal = knn;
    if (last) run.probe = probe;
    say(run, `epoch ${epoch}/${c.epochs}: kNN ${percent(run.knnFinal)} (top-5 ${percent(knnTop5)})`);
  }
  run.metrics.write(record);
  await save(run);
}

async function save(run: Run): Promise<void> {
  await saveRun(run.parts, run.out, { step: run.step, knnInit: run.knnInit, trainSeconds: run.trainSeconds }, run.c);
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
    ({ knn: run.knnFinal, probe: run.probe } = await evaluate(parts, c.probeEpochs));
  }
  const knnFinal = run.knnFinal;
  const probe = run.probe;
  if (probe !== null) {
    run.metrics.write({ step: run.step, epoch: run.step / parts.derived.stepsPerEpoch, linearProbe: probe });
    run.log(`  linear probe: ${percent(probe)}`);
  }
  const pairsPerSecond = run.trainSeconds > 0 ? (run.step * c.batchSize) / run.trainSeconds : 0;
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
    notes: [`device ${c.device}, libtorch ${torchVersion()}, ${getNumThreads()} CPU threads, ${run.step} steps`],
  });
  run.log(`  report: ${join(out, "report.md")}`);
  const { knnInit, trainSeconds, step: steps } = run;
  return { out, knnInit, knnFinal, linearProbe: probe, pairsPerSecond, trainSeconds, steps };
}
