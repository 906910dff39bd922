/**
 * The paper's findings by one command: every row of its Table 1 (the gradient forms (a)–(j)) and its
 * Table 2 grid (three families × stop-gradient / momentum encoder / momentum encoder in the positive
 * gradient only), trained with one budget, architecture, augmentation and set of seeds. Each row and seed
 * is an ordinary run folder under `<out>/rows/<row>/seed-<s>/`: an interrupted row resumes from its last
 * checkpoint, and a finished one (its `result.json` written) is not run again. `writeReproReport`
 * (repro_report.ts) turns the folders into `report.md` with plots and a verdict; `scripts/repro.ts` is the
 * command line (`deno task repro`).
 *
 * Choices (stated in the report): every Table 1 row uses the momentum encoder (the paper's Table 1 values,
 * ≈ 70 % on ImageNet, are with it; Table 2 shows what removing it costs), so the rows differ only in the
 * gradient form. Table 2 takes one form per family: (b) SimCLR's gradient form for the contrastive
 * family, (e) the unified form for the asymmetric family, (h) Barlow Twins l2 (the official
 * `barlow_twins_grad_mm`) for feature decorrelation; their momentum cells are Table 1's rows (b), (e), (h).
 * The unit-norm forms get λ_d = λ_2048·d/2048 (`resolvedMethodOptions`). Every budget pins the backbone init to
 * torchvision's (kaiming_normal, as the official code's torchvision ResNet), and the CPU budgets pin float32, so a
 * budget trains the same numbers on any machine.
 *
 * @module
 */
import { join } from "node:path";
import { findPreset, TABLE1, TABLE1_FAMILIES, type Table1Family, type TargetKind } from "../ssl/mod.ts";
import { type DatasetName, DEFAULT_CONFIG, type TrainConfig } from "./settings.ts";
import { validateConfig } from "./config.ts";
import { type RunResult, type StoppedRun, train } from "./training.ts";

/** A budget's name. */
export type BudgetName = "smoke" | "cpu" | "gpu";

/** What every row of a reproduction shares. */
export interface Budget {
  /** What it is for, in a sentence (printed in the report). */
  description: string;
  /** The config fields every row gets (architecture, data, schedule, evaluation). */
  config: Partial<TrainConfig>;
  /** Seeds when `--seeds` is not given. */
  seeds: number;
  /** MoCo's queue (row a; the paper's 65536 where the data allow). */
  queueSize: number;
  /** Hidden width of BYOL's learnable predictor (row c; the paper's 4096 on the GPU). */
  predictorHidden: number;
}

/** The budgets: `smoke` (the test), `cpu` (about an hour on 2 quiet cores), `gpu` (one GPU). */
export const BUDGETS: Readonly<Record<BudgetName, Budget>> = Object.freeze({
  smoke: {
    description: "every row a few steps on a few hundred images: checks the runner, measures nothing",
    config: {
      arch: "resnet20",
      width: 4,
      projHidden: 32,
      projDim: 32,
      projDepth: 2,
      convInit: "kaiming_normal",
      precision: "fp32",
      batchSize: 32,
      epochs: 2,
      limitTrain: 64,
      limitTest: 64,
      lr: 0.1,
      warmupEpochs: 0,
      evalEvery: 1,
      probeEpochs: 1,
      logEvery: 1,
      checkpointEvery: 1000,
    },
    seeds: 1,
    queueSize: 64,
    predictorHidden: 32,
  },
  cpu: {
    description: "ResNet-20 at width 8, 512→128 projector, batch 128, 3 epochs on the first 5,120 training images " +
      "(120 steps per row, lr 0.1·128/256 with a half-epoch warm-up, then cosine), kNN after every epoch and a " +
      "10-epoch linear probe, both against the first 2,000 test images",
    config: {
      arch: "resnet20",
      width: 8,
      projHidden: 512,
      projDim: 128,
      projDepth: 2,
      convInit: "kaiming_normal",
      precision: "fp32",
      batchSize: 128,
      epochs: 3,
      limitTrain: 5120,
      limitTest: 2000,
      lr: 0.1,
      warmupEpochs: 0.5,
      evalEvery: 1,
      probeEpochs: 10,
      logEvery: 4,
      checkpointEvery: 20,
    },
    seeds: 3,
    queueSize: 2048,
    predictorHidden: 512,
  },
  gpu: {
    description: "one GPU: ResNet-18 (small stem), 3×2048 projector, batch 512, 40 epochs, " +
      "lr 0.1 (2-epoch warm-up, cosine), wd 5e-4, bf16",
    config: {
      arch: "resnet18",
      width: 0,
      projHidden: 2048,
      projDim: 2048,
      projDepth: 3,
      convInit: "kaiming_normal",
      batchSize: 512,
      epochs: 40,
      limitTrain: 0,
      limitTest: 0,
      lr: 0.1,
      wd: 5e-4,
      warmupEpochs: 2,
      device: "cuda",
      precision: "bf16",
      evalEvery: 5,
      probeEpochs: 20,
      logEvery: 20,
      checkpointEvery: 500,
    },
    seeds: 1,
    queueSize: 65536,
    predictorHidden: 4096,
  },
});

/** The method families whose forms Table 1 compares (the registry's `TABLE1_FAMILIES`). */
export const FAMILIES: typeof TABLE1_FAMILIES = TABLE1_FAMILIES;
/** A family. */
export type Family = Table1Family;

/** One row of the reproduction: a gradient form with a target branch. */
export interface ReproRow {
  /** Its id: the Table 1 letter, or `<letter>-<target>` for Table 2's other cells. */
  id: string;
  /** The Table 1 row whose form it trains. */
  letter: string;
  /** The Table 1 preset (src/ssl/registry.ts `TABLE1`). */
  preset: string;
  /** Its family. */
  family: Family;
  /** The target branch. */
  target: TargetKind;
  /** The tables it is a cell of. */
  tables: readonly (1 | 2)[];
  /** What it is. */
  label: string;
}

/** Table 1's rows as the registry holds them: [letter, preset, family, label]. */
const FORMS: readonly [string, string, Family, string][] = Object.entries(TABLE1).map((
  [preset, r],
) => [r.row, preset, r.family, r.label]);

/** The Table 2 families' forms: contrastive (b), asymmetric (e), feature decorrelation (h). */
export const TABLE2_FORMS: readonly string[] = ["b", "e", "h"];

/** The forms the report compares across families, one per family: (b), (e), (j). */
export const CROSS_FAMILY_FORMS: readonly string[] = ["b", "e", "j"];

/** Every row: Table 1's (a)–(j) with the momentum encoder, then Table 2's stop-grad and momentum-positive cells. */
export const REPRO_ROWS: readonly ReproRow[] = Object.freeze([
  ...FORMS.map(([letter, preset, family, label]): ReproRow => ({
    id: letter,
    letter,
    preset,
    family,
    target: "momentum",
    tables: TABLE2_FORMS.includes(letter) ? [1, 2] : [1],
    label,
  })),
  ...TABLE2_FORMS.flatMap((letter) => {
    const [, preset, family, label] = FORMS.find((f) => f[0] === letter)!;
    return (["stop-grad", "momentum-positive"] as const).map((target): ReproRow => ({
      id: `${letter}-${target}`,
      letter,
      preset,
      family,
      target,
      tables: [2],
      label,
    }));
  }),
]);

/**
 * The rows `ids` names, in `REPRO_ROWS` order; a Table 1 letter also selects its Table 2 cells when
 * `withTable2` (so `--rows b,e,h` runs those three families' whole grid).
 *
 * @throws {RangeError} On an unknown id, listing the known ones.
 */
export function selectRows(ids: readonly string[] | null, withTable2 = true): ReproRow[] {
  if (ids === null) return [...REPRO_ROWS];
  const known = REPRO_ROWS.map((r) => r.id);
  const bad = ids.filter((id) => !known.includes(id));
  if (bad.length > 0) throw new RangeError(`Unknown row(s) ${bad.join(", ")}: expected some of ${known.join(", ")}`);
  return REPRO_ROWS.filter((r) => ids.includes(r.id) || (withTable2 && ids.includes(r.letter)));
}

/** Where a reproduction runs, and what. */
export interface ReproOptions {
  /** Dataset of every row. @default "fashion-mnist" */
  dataset?: DatasetName;
  /** Folder of the dataset files. @default the dataset's usual folder */
  dataDir?: string | null;
  /** The budget. @default "cpu" */
  budget?: BudgetName;
  /** Seeds 0 … seeds−1. @default the budget's */
  seeds?: number;
  /** Row ids (see `selectRows`). @default every row */
  rows?: readonly string[] | null;
  /** Output folder (rows under `rows/`, then `report.md` and the plots). */
  out: string;
  /** Device of every row. @default the budget's ("cpu", or "cuda" for the gpu budget) */
  device?: string;
  /** CPU threads per row (0: all cores). @default 0 */
  threads?: number;
}

/** One row and seed: its run folder and what it measured. */
export interface RowRun {
  /** The row. */
  row: ReproRow;
  /** The seed. */
  seed: number;
  /** The run folder. */
  folder: string;
}

/** The run folder of a row and seed. */
export function rowFolder(out: string, row: ReproRow, seed: number): string {
  return join(out, "rows", row.id, `seed-${seed}`);
}

/** What `result.json` in a finished row's folder holds. */
export interface RowResult extends RunResult {
  /** The row's id. */
  row: string;
  /** The seed. */
  seed: number;
  /** Wall-clock seconds of the session that finished the row (set-up, evaluations and probe included). */
  wallSeconds?: number;
}

/**
 * The config of one row and seed: the budget's fields over the defaults, the row's preset and target, and
 * the options the budget sizes (MoCo's queue, BYOL's predictor).
 */
export function rowConfig(options: ReproOptions, row: ReproRow, seed: number): TrainConfig {
  const budget = BUDGETS[options.budget ?? "cpu"];
  // The preset's method and form spelt out: a preset named like its method ("simclr", row b) would
  // otherwise be read as the method with its default form.
  const { method, options: presetOptions } = findPreset(row.preset)!;
  const { target: _target, ...form } = presetOptions as TrainConfig["methodOptions"];
  const methodOptions: TrainConfig["methodOptions"] = { ...form };
  if (row.letter === "a") methodOptions.queueSize = budget.queueSize;
  if (row.letter === "c") methodOptions.hiddenDim = budget.predictorHidden;
  const config: TrainConfig = {
    ...DEFAULT_CONFIG,
    ...budget.config,
    method,
    methodOptions,
    target: row.target,
    dataset: options.dataset ?? "fashion-mnist",
    dataDir: options.dataDir ?? null,
    seed,
    out: rowFolder(options.out, row, seed),
    threads: options.threads ?? 0,
  };
  if (options.device !== undefined) config.device = options.device;
  return validateConfig(config);
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

/** The result of a finished row and seed, or null. */
export async function readRowResult(folder: string): Promise<RowResult | null> {
  const path = join(folder, "result.json");
  if (!(await exists(path))) return null;
  return JSON.parse(await Deno.readTextFile(path)) as RowResult;
}

/**
 * The order rows run in, most informative first, so that a reproduction stopped early has measured the
 * most: the three Table 2 families with the momentum encoder (b, e, h), without it, with it in the
 * positive gradient only; then (j), which completes the cross-family comparison (b, e, j); then the
 * remaining Table 1 forms.
 */
export const RUN_ORDER: readonly string[] = [
  ...TABLE2_FORMS,
  ...TABLE2_FORMS.map((l) => `${l}-stop-grad`),
  ...TABLE2_FORMS.map((l) => `${l}-momentum-positive`),
  ...CROSS_FAMILY_FORMS.filter((l) => !TABLE2_FORMS.includes(l)),
  ...FORMS.map(([l]) => l).filter((l) => !TABLE2_FORMS.includes(l) && !CROSS_FAMILY_FORMS.includes(l)),
];

/** Every (row, seed) of a reproduction, in the order they run: seed by seed, rows in `RUN_ORDER`. */
export function plannedRuns(options: ReproOptions): RowRun[] {
  const rows = selectRows(options.rows ?? null).sort((a, b) => RUN_ORDER.indexOf(a.id) - RUN_ORDER.indexOf(b.id));
  const seeds = options.seeds ?? BUDGETS[options.budget ?? "cpu"].seeds;
  if (!Number.isInteger(seeds) || seeds < 1) throw new RangeError(`Invalid seeds ${seeds}: expected an integer ≥ 1`);
  const runs: RowRun[] = [];
  for (let seed = 0; seed < seeds; seed++) {
    for (const row of rows) runs.push({ row, seed, folder: rowFolder(options.out, row, seed) });
  }
  return runs;
}

/**
 * Trains one row and seed unless it has finished: resumes from its last checkpoint when there is one,
 * and writes `result.json` (atomically) when it ends. A run stopped by a signal (SIGINT, SIGTERM) writes
 * no result: it resumes next time.
 *
 * @returns Its result and whether it was trained now, or the stop.
 */
export async function runRow(
  options: ReproOptions,
  run: RowRun,
  log: (line: string) => void = console.log,
): Promise<{ result: RowResult; trained: boolean } | { stopped: StoppedRun }> {
  const done = await readRowResult(run.folder);
  if (done !== null) return { result: done, trained: false };
  const fresh = rowConfig(options, run.row, run.seed);
  const config = await exists(join(run.folder, "checkpoints")) ? { ...fresh, resume: run.folder } : fresh;
  const started = performance.now();
  const measured = await train(config, log);
  if (measured.stopped !== null) return { stopped: measured.stopped };
  const wallSeconds = (performance.now() - started) / 1000;
  const result: RowResult = { row: run.row.id, seed: run.seed, ...measured, wallSeconds };
  const path = join(run.folder, "result.json");
  await Deno.writeTextFile(`${path}.tmp`, JSON.stringify(result, null, 2) + "\n");
  await Deno.rename(`${path}.tmp`, path);
  return { result, trained: true };
}

/**
 * Trains every planned row and seed one after another on one device (finished ones are skipped,
 * interrupted ones resume). A signal stops the row in progress with a checkpoint and ends the loop.
 *
 * @param options What to run and where.
 * @param runs The (row, seed) runs. @default `plannedRuns(options)`
 * @param log Where each row's messages go.
 * @returns The results, in `runs` order, and the stop when a signal ended the loop early.
 */
export async function runRows(
  options: ReproOptions,
  runs: readonly RowRun[] = plannedRuns(options),
  log: (line: string) => void = console.log,
): Promise<{ results: RowResult[]; stopped: StoppedRun | null }> {
  const results: RowResult[] = [];
  for (const [i, run] of runs.entries()) {
    const tag = `[${i + 1}/${runs.length}] row ${run.row.id} (${run.row.preset}, ${run.row.target}) seed ${run.seed}`;
    const started = performance.now();
    const outcome = await runRow(options, run, (line) => log(`${tag}: ${line}`));
    if ("stopped" in outcome) {
      log(`${tag}: stopped (${outcome.stopped.reason}); the same command continues from ${outcome.stopped.checkpoint}`);
      return { results, stopped: outcome.stopped };
    }
    const { result, trained } = outcome;
    const took = ((performance.now() - started) / 1000).toFixed(0);
    log(`${tag}: ${trained ? `done in ${took} s` : "finished before, skipped"}, kNN ${pct(result.knnFinal)}`);
    results.push(result);
  }
  return { results, stopped: null };
}

function pct(x: number): string {
  return `${(x * 100).toFixed(2)} %`;
}
