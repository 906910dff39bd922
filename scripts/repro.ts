/**
 * `deno task repro`: the paper's Table 1 rows (a)–(j) and Table 2 grid trained with one budget, and a
 * report with a verdict (src/run/repro.ts, src/run/repro_report.ts).
 *
 * Usage:
 *   deno task repro [--dataset D] [--data-dir DIR] [--budget smoke|cpu|gpu] [--seeds N] [--rows a,b,…]
 *                   [--out DIR] [--device DEV] [--threads N] [--report-only]
 *
 * Rows run one after another on one device; with the gpu budget and several visible GPUs, the pending
 * rows are spread over them, one worker process per GPU (each the same command with `--worker`). A
 * finished row is not run again and an interrupted one resumes, so re-running the command continues.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { cuda } from "../src/torch/mod.ts";
import { canonicalName } from "../src/data/mod.ts";
import { type DatasetName, DATASETS } from "../src/run/settings.ts";
import {
  type BudgetName,
  BUDGETS,
  plannedRuns,
  readRowResult,
  REPRO_ROWS,
  type ReproOptions,
  type RowRun,
  runRows,
} from "../src/run/repro.ts";
import { writeReproReport } from "../src/run/repro_report.ts";

const HELP = `Usage: deno task repro [flags]

Trains every row of the paper's Table 1 ((a)–(j)) and its Table 2 grid (b, e, h × stop-grad, momentum,
momentum-positive) with one budget and writes <out>/report.md with the results, plots and a verdict.

  --dataset D        ${DATASETS.join(", ")} [fashion-mnist]
  --data-dir DIR     folder of the dataset files [the dataset's usual folder]
  --budget B         smoke, cpu, gpu [cpu]
  --seeds N          seeds 0…N−1 [the budget's: ${
  Object.entries(BUDGETS).map(([k, b]) => `${k} ${b.seeds}`).join(", ")
}]
  --rows a,b,…       rows to run (a letter also runs its Table 2 cells) [all: ${REPRO_ROWS.map((r) => r.id).join(", ")}]
  --out DIR          output folder [runs/repro-<budget>-<dataset>]
  --device DEV       cpu, cuda, cuda:<k> [the budget's]
  --threads N        CPU threads per row, 0 = all cores [0]
  --report-only      write the report from the rows that finished, train nothing
  --help             this text
`;

function parse(args: string[]) {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      dataset: { type: "string" },
      "data-dir": { type: "string" },
      budget: { type: "string" },
      seeds: { type: "string" },
      rows: { type: "string" },
      out: { type: "string" },
      device: { type: "string" },
      threads: { type: "string" },
      "report-only": { type: "boolean" },
      worker: { type: "string" }, // internal: "row@seed,…" runs only those (one GPU of several)
      help: { type: "boolean" },
    },
  });
  return values;
}

function integer(flag: string, raw: string | undefined, min: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new RangeError(`Invalid --${flag} "${raw}": expected an integer ≥ ${min}`);
  return n;
}

/** The reproduction's options from the flags. */
function optionsFrom(values: ReturnType<typeof parse>): ReproOptions {
  const budget = (values.budget ?? "cpu") as BudgetName;
  if (!(budget in BUDGETS)) throw new RangeError(`Invalid --budget "${budget}": expected one of smoke, cpu, gpu`);
  const dataset = canonicalName(values.dataset ?? "fashion-mnist") as DatasetName;
  if (!DATASETS.includes(dataset)) {
    throw new RangeError(`Invalid --dataset "${values.dataset}": expected one of ${DATASETS.join(", ")}`);
  }
  return {
    dataset,
    dataDir: values["data-dir"] ?? null,
    budget,
    seeds: integer("seeds", values.seeds, 1),
    rows: values.rows === undefined ? null : values.rows.split(",").map((s) => s.trim()).filter((s) => s !== ""),
    out: values.out ?? `runs/repro-${budget}-${dataset}`,
    device: values.device,
    threads: integer("threads", values.threads, 0),
  };
}

/** The pending runs spread over `devices` GPUs, one worker process each; resolves when all have exited. */
async function spread(args: string[], pending: readonly RowRun[], devices: number): Promise<void> {
  const script = new URL(import.meta.url).pathname;
  const workers = Array.from({ length: devices }, (_, k) => pending.filter((_, i) => i % devices === k))
    .map((runs, k) => ({ runs, k }))
    .filter((w) => w.runs.length > 0)
    .map(({ runs, k }) => {
      const jobs = runs.map((r) => `${r.row.id}@${r.seed}`).join(",");
      console.log(`GPU ${k}: ${jobs}`);
      return new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", script, ...args, "--device", `cuda:${k}`, "--worker", jobs],
        stdout: "inherit",
        stderr: "inherit",
      }).spawn().status;
    });
  const codes = await Promise.all(workers);
  if (codes.some((c) => !c.success)) {
    console.error("warning: a GPU worker failed; its rows are missing from the report");
  }
}

if (import.meta.main) {
  const args = Deno.args[0] === "--" ? Deno.args.slice(1) : Deno.args;
  let values: ReturnType<typeof parse>;
  let options: ReproOptions;
  let runs: RowRun[];
  try {
    values = parse(args);
    if (values.help) {
      console.log(HELP);
      Deno.exit(0);
    }
    options = optionsFrom(values);
    runs = plannedRuns(options);
  } catch (e) {
    console.error(`error: ${(e as Error).message}\nRun with --help for the flags.`);
    Deno.exit(2);
  }
  const command = `deno task repro ${args.filter((a) => a !== "--report-only").join(" ")}`.trim();
  try {
    if (values.worker !== undefined) { // one GPU's share
      const jobs = new Set(values.worker.split(","));
      const { stopped } = await runRows(options, runs.filter((r) => jobs.has(`${r.row.id}@${r.seed}`)));
      Deno.exit(stopped?.exitCode ?? 0);
    }
    if (!values["report-only"]) {
      const device = options.device ?? BUDGETS[options.budget ?? "cpu"].config.device ?? "cpu";
      const gpus = device === "cuda" && cuda.isAvailable() ? cuda.deviceCount() : 1;
      const pending = [];
      for (const r of runs) if ((await readRowResult(r.folder)) === null) pending.push(r);
      console.log(`repro: ${runs.length} row runs planned, ${pending.length} to train, into ${options.out}`);
      if (gpus > 1 && pending.length > 1) await spread(args, pending, gpus);
      else {
        const { stopped } = await runRows(options, runs);
        if (stopped !== null) {
          await writeReproReport(options, runs, command);
          Deno.exit(stopped.exitCode); // 130 (SIGINT) or 143 (SIGTERM); the row resumes next time
        }
      }
    }
    const report = await writeReproReport(options, runs, command);
    console.log(`report: ${report}`);
  } catch (e) {
    console.error(`\nerror: ${(e as Error).message}`);
    Deno.exit(1);
  }
}
