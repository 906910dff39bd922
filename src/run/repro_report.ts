/**
 * The report of a reproduction (`deno task repro`): from the row folders that `runRows` (repro.ts) wrote,
 * `report.md` with the results table (kNN and linear probe, mean ± std over seeds, pairs/s, training
 * time), `knn.svg` (every row's kNN curve), `gradients-<family>.svg` (the gradient decomposition of each
 * family's rows) and a verdict on the paper's three claims, stated as measured:
 *
 * 1. inside each family the Table 1 forms give about the same accuracy, and so do (b), (e) and (j) across
 *    families;
 * 2. the momentum encoder adds about two points for every family (Table 2);
 * 3. the momentum encoder used in the positive gradient only is about as good as everywhere.
 *
 * A difference counts as "resolved" when it exceeds twice its standard error over seeds; with one seed
 * there is no standard error and the report says so.
 *
 * @module
 */
import { join } from "node:path";
import { type Panel, plotPanels, readMetricsLog, type Series, type TrainingRecord } from "../io/mod.ts";
import { emaMomentum } from "../optim/mod.ts";
import {
  type BudgetName,
  BUDGETS,
  CROSS_FAMILY_FORMS,
  FAMILIES,
  type Family,
  readRowResult,
  REPRO_ROWS,
  type ReproOptions,
  type ReproRow,
  type RowResult,
  type RowRun,
  TABLE2_FORMS,
} from "./repro.ts";

/** Mean and sample standard deviation of some numbers (std null for fewer than two). */
export interface Stat {
  /** The mean. */
  mean: number;
  /** The sample standard deviation, or null with one value. */
  std: number | null;
  /** How many values. */
  n: number;
}

/** Mean and sample standard deviation of `xs` (at least one value). */
export function stat(xs: readonly number[]): Stat {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const std = n < 2 ? null : Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  return { mean, std, n };
}

/** A difference of two means and its standard error (null when either has one value). */
export interface Difference {
  /** a − b. */
  value: number;
  /** √(s_a²/n_a + s_b²/n_b), or null. */
  se: number | null;
}

/** The difference of two means with its standard error. */
export function difference(a: Stat, b: Stat): Difference {
  const se = a.std === null || b.std === null ? null : Math.sqrt(a.std ** 2 / a.n + b.std ** 2 / b.n);
  return { value: a.mean - b.mean, se };
}

/**
 * The paired difference of two rows' final kNN over the seeds both finished: rows with the same seed share
 * the initial weights, the data order and the augmentation, so the per-seed differences a_s − b_s cancel
 * what the seed does to both (the initial network alone moves kNN by several points between seeds).
 * Mean, and its standard error std/√n (null with one common seed); null without a common seed.
 */
export function pairedDifference(a: RowSummary, b: RowSummary): Difference | null {
  const bySeed = new Map(b.results.map((r) => [r.seed, r.knnFinal]));
  const d = a.results.filter((r) => bySeed.has(r.seed)).map((r) => r.knnFinal - bySeed.get(r.seed)!);
  if (d.length === 0) return null;
  const st = stat(d);
  return { value: st.mean, se: st.std === null ? null : st.std / Math.sqrt(st.n) };
}

/** One row's measurements over its finished seeds. */
export interface RowSummary {
  /** The row. */
  row: ReproRow;
  /** Seeds that finished. */
  results: RowResult[];
  /** Seeds planned. */
  planned: number;
  /** kNN at initialisation, final kNN, linear probe (fractions), pairs/s, training seconds; null without results. */
  knnInit: Stat | null;
  knn: Stat | null;
  /** kNN after training minus at initialisation, per seed. */
  gain: Stat | null;
  probe: Stat | null;
  pairsPerSecond: Stat | null;
  trainSeconds: Stat | null;
  /** Wall-clock seconds of the session that finished each seed (set-up and evaluation included). */
  wallSeconds: Stat | null;
}

function statOf(results: readonly RowResult[], pick: (r: RowResult) => number | null): Stat | null {
  const xs = results.map(pick).filter((x): x is number => x !== null && Number.isFinite(x));
  return xs.length === 0 ? null : stat(xs);
}

/**
 * A result with its wall time: as recorded, or (results written before it was recorded) the time from the
 * run's `config.json` (written at its start) to its `result.json`.
 */
async function withWallTime(folder: string, result: RowResult | null): Promise<RowResult | null> {
  if (result === null || result.wallSeconds !== undefined) return result;
  const [start, end] = await Promise.all(["config.json", "result.json"].map((f) => Deno.stat(join(folder, f))));
  const seconds = start.mtime && end.mtime ? (end.mtime.getTime() - start.mtime.getTime()) / 1000 : undefined;
  return { ...result, wallSeconds: seconds };
}

/** Reads the finished rows among `runs` and summarises each row over its seeds. */
export async function summarise(runs: readonly RowRun[]): Promise<RowSummary[]> {
  const rows = REPRO_ROWS.filter((r) => runs.some((run) => run.row.id === r.id));
  const out: RowSummary[] = [];
  for (const row of rows) {
    const mine = runs.filter((r) => r.row.id === row.id);
    const results = (await Promise.all(mine.map(async (r) => withWallTime(r.folder, await readRowResult(r.folder)))))
      .filter((r) => r !== null);
    out.push({
      row,
      results,
      planned: mine.length,
      knnInit: statOf(results, (r) => r.knnInit),
      knn: statOf(results, (r) => r.knnFinal),
      gain: statOf(results, (r) => (r.knnInit === null ? null : r.knnFinal - r.knnInit)),
      probe: statOf(results, (r) => r.linearProbe),
      pairsPerSecond: statOf(results, (r) => r.pairsPerSecond),
      trainSeconds: statOf(results, (r) => r.trainSeconds),
      wallSeconds: statOf(results, (r) => r.wallSeconds ?? null),
    });
  }
  return out;
}

/** "81.23 ± 0.40" (percentage points), "81.23" with one seed, "–" without. */
export function formatStat(s: Stat | null, scale = 100, digits = 2): string {
  if (s === null) return "–";
  const m = (s.mean * scale).toFixed(digits);
  return s.std === null ? m : `${m} ± ${(s.std * scale).toFixed(digits)}`;
}

/** "+1.23 ± 0.40 pt" for a difference of fractions. */
function formatDiff(d: Difference): string {
  const v = `${d.value >= 0 ? "+" : "−"}${Math.abs(d.value * 100).toFixed(2)}`;
  return d.se === null
    ? `${v} pt (one seed: no error bar)`
    : `${v} ± ${(d.se * 100).toFixed(2)} pt (paired by seed, ±1 s.e.)`;
}

function resolved(d: Difference): boolean | null {
  return d.se === null ? null : Math.abs(d.value) > 2 * d.se;
}

function duration(seconds: number): string {
  const s = Math.round(seconds);
  return s >= 60 ? `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}

/** Row letters as the report writes them: "(b), (e), (h)". */
function rowLetters(letters: readonly string[]): string {
  return letters.map((l) => `(${l})`).join(", ");
}

function rowName(r: ReproRow): string {
  return r.tables.includes(1) ? `(${r.letter})` : `(${r.letter}) ${r.target}`;
}

/** The results table. */
function resultsTable(rows: readonly RowSummary[]): string {
  const head =
    "| row | form | target | seeds | kNN init % | kNN % | kNN gain (pt) | linear probe % | pairs/s | training time | wall time |";
  const rule = "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|";
  const lines = rows.map((s) => {
    const pps = s.pairsPerSecond === null ? "–" : Math.round(s.pairsPerSecond.mean).toLocaleString("en-US");
    const time = s.trainSeconds === null ? "–" : duration(s.trainSeconds.mean);
    const wall = s.wallSeconds === null ? "–" : duration(s.wallSeconds.mean);
    const seeds = `${s.results.length}/${s.planned}`;
    return `| ${rowName(s.row)} | ${s.row.label} | ${s.row.target} | ${seeds} | ${formatStat(s.knnInit)} | ` +
      `${formatStat(s.knn)} | ${formatStat(s.gain)} | ${formatStat(s.probe)} | ${pps} | ${time} | ${wall} |`;
  });
  return [head, rule, ...lines].join("\n");
}

/** Mean over seeds of one metric along the epochs (records that carry it), for one row. */
function meanCurve(folders: readonly string[], key: keyof TrainingRecord, x: "epoch" | "step"): [number, number][] {
  const byX = new Map<number, number[]>();
  for (const folder of folders) {
    let records: TrainingRecord[];
    try {
      records = readMetricsLog(join(folder, "metrics.jsonl"));
    } catch {
      continue;
    }
    for (const r of records) {
      const y = r[key];
      if (typeof y !== "number" || !Number.isFinite(y)) continue;
      const at = r[x];
      byX.set(at, [...(byX.get(at) ?? []), y]);
    }
  }
  return [...byX.entries()].sort((a, b) => a[0] - b[0]).map(([at, ys]) => [at, ys.reduce((a, b) => a + b) / ys.length]);
}

function finishedFolders(s: RowSummary, runs: readonly RowRun[]): string[] {
  return runs.filter((r) => r.row.id === s.row.id && s.results.some((x) => x.seed === r.seed)).map((r) => r.folder);
}

/** kNN curves of every row (mean over its finished seeds): Table 1 rows in one panel, Table 2's grid in another. */
function knnPlot(rows: readonly RowSummary[], runs: readonly RowRun[]): string {
  const series = (pick: (s: RowSummary) => boolean): Series[] =>
    rows.filter(pick).map((s) => ({
      name: `${rowName(s.row)} ${s.row.tables.includes(1) ? s.row.label : ""}`.trim(),
      points: meanCurve(finishedFolders(s, runs), "knn", "epoch"),
    }));
  const panels: Panel[] = [
    {
      title: "Table 1: gradient forms (momentum encoder)",
      xLabel: "epoch",
      percent: true,
      series: series((s) => s.row.tables.includes(1)),
    },
    {
      title: "Table 2: target branch",
      xLabel: "epoch",
      percent: true,
      series: series((s) => s.row.tables.includes(2)).map((x, i) => ({
        ...x,
        name: rowName(rows.filter((s) => s.row.tables.includes(2))[i].row),
      })),
    },
  ].filter((p) => p.series.length > 0);
  return plotPanels(panels, { title: "kNN top-1 accuracy (mean over seeds)", columns: 2, width: 560, height: 360 });
}

/** One family's gradient decomposition: positive, negative and balance along the steps, one line per row. */
function gradientPlot(family: Family, rows: readonly RowSummary[], runs: readonly RowRun[]): string {
  const mine = rows.filter((s) => s.row.family === family);
  const panel = (key: string, title: string, yLabel: string): Panel => ({
    title,
    xLabel: "step",
    yLabel,
    series: mine.map((s) => ({ name: rowName(s.row), points: meanCurve(finishedFolders(s, runs), key, "step") })),
  });
  return plotPanels([
    panel("positive", "Positive gradient", "norm per sample"),
    panel("negative", "Negative gradient (λ included)", "norm per sample"),
    panel("balance", "Balance", "‖negative‖ / ‖positive‖"),
  ], { title: `Gradient decomposition: ${family}`, columns: 3, width: 420, height: 300 });
}

/** The letters of a family's Table 1 rows (the registry's `TABLE1`, through `REPRO_ROWS`). */
function familyRows(family: Family): string[] {
  return REPRO_ROWS.filter((r) => r.tables.includes(1) && r.family === family).map((r) => r.letter);
}

/**
 * How much of the online network a momentum encoder holds after `K` steps of the cosine EMA schedule
 * (m_0 = 0.996): 1 − Π_k m_k (the rest is still its initial weights).
 */
export function momentumCoverage(K: number): number {
  let keep = 1;
  for (let k = 0; k < K; k++) keep *= emaMomentum(k, K);
  return 1 - keep;
}

/**
 * The verdict lines: each claim with what was measured.
 *
 * @param rows The rows' summaries.
 * @param totalSteps Steps per row (for how far the momentum encoder moved from its initial weights), or null.
 */
export function verdict(rows: readonly RowSummary[], totalSteps: number | null = null): string[] {
  const byId = new Map(rows.map((s) => [s.row.id, s]));
  const knn = (id: string) => byId.get(id)?.knn ?? null;
  const paired = (a: string, b: string) => pairedDifference(byId.get(a)!, byId.get(b)!)!;
  const out: string[] = [];
  const seedSpread = rows.map((s) => s.gain?.std).filter((x): x is number => typeof x === "number");
  const noise = seedSpread.length > 0 ? Math.max(...seedSpread) : null;
  const gains = rows.map((s) => s.gain?.mean).filter((x): x is number => typeof x === "number");
  const meanGain = gains.length > 0 ? gains.reduce((a, b) => a + b, 0) / gains.length : null;
  const initStd = rows.find((s) => s.knnInit?.std !== null && s.knnInit !== null)?.knnInit?.std ?? null;
  out.push(
    `Scale: training moved kNN by ${meanGain === null ? "–" : `${(meanGain * 100).toFixed(2)} pt`} on average ` +
      `from initialisation (from ${gains.length > 0 ? `${(Math.min(...gains) * 100).toFixed(2)}` : "–"} to ${
        gains.length > 0 ? `${(Math.max(...gains) * 100).toFixed(2)}` : "–"
      } pt by row); the largest seed-to-seed std of a row's gain is ${
        noise === null ? "not measured (one seed)" : `${(noise * 100).toFixed(2)} pt`
      }${
        initStd === null
          ? ""
          : `, and the initial network alone varies by ${(initStd * 100).toFixed(2)} pt (std) between seeds`
      }. Differences between rows are therefore paired by seed (same initial weights, data order and augmentation).`,
  );

  // Claim 1: spread of the forms inside each family, and across (b, e, j).
  out.push("", "**1. The form of the gradient matters little (Table 1; paper: within ≈ 0.5 pt on ImageNet).**", "");
  const spread = (ids: readonly string[], what: string) => {
    const have = ids.map((id) => [id, knn(id)] as const).filter((x): x is readonly [string, NonNullable<Stat>] =>
      x[1] !== null
    );
    if (have.length < 2) return `- ${what}: fewer than two rows finished.`;
    const sorted = [...have].sort((a, b) => a[1].mean - b[1].mean);
    const [lo, hi] = [sorted[0], sorted[sorted.length - 1]];
    const d = paired(hi[0], lo[0]);
    const r = resolved(d);
    const judged = r === null
      ? (meanGain !== null && d.value < 0.25 * Math.abs(meanGain)
        ? "smaller than a quarter of the training gain"
        : "not small against the training gain; one seed, so seed noise is not excluded")
      : r
      ? "larger than twice its standard error: the forms differ on this budget"
      : "within twice its standard error: no resolved difference (consistent with the claim, not a proof of equality)";
    return `- ${what}: kNN ${have.map(([id, s]) => `(${id}) ${formatStat(s)}`).join(", ")}; spread (${hi[0]}) − (${
      lo[0]
    }) = ${formatDiff(d)} — ${judged}.`;
  };
  for (const f of FAMILIES) out.push(spread(familyRows(f), `${f} (${rowLetters(familyRows(f))})`));
  out.push(spread(CROSS_FAMILY_FORMS, `across families, ${rowLetters(CROSS_FAMILY_FORMS)}`));

  // Claim 2: momentum encoder gain per family.
  out.push(
    "",
    "**2. The momentum encoder adds about two points for every family (Table 2; paper: +1.9 to +2.4 pt).**",
    "",
  );
  if (totalSteps !== null) {
    const c = momentumCoverage(totalSteps);
    out.push(
      `On this budget (${totalSteps} steps, m from 0.996 to 1) the momentum encoder ends with ${
        (c * 100).toFixed(0)
      } % ` +
        `of its weights taken from the online network and ${((1 - c) * 100).toFixed(0)} % still from initialisation ` +
        "(1 − Π m_k; after the paper's 100 ImageNet epochs, about 125k steps, the initial share is nil). " +
        (c < 0.9
          ? "A lagging target is expected to cost accuracy here, so this budget cannot test the claim fully."
          : ""),
      "",
    );
  }
  for (const letter of TABLE2_FORMS) {
    const m = knn(letter), sg = knn(`${letter}-stop-grad`);
    const family = REPRO_ROWS.find((r) => r.id === letter)!.family;
    if (m === null || sg === null) {
      out.push(`- ${family} (${letter}): not measured (a row did not finish).`);
      continue;
    }
    const d = paired(letter, `${letter}-stop-grad`);
    const r = resolved(d);
    const judged = r === null
      ? (d.value >= 0.01
        ? "a gain of at least one point (one seed)"
        : d.value > 0
        ? "a gain under one point (one seed)"
        : "no gain (one seed)")
      : r
      ? (d.value > 0 ? "a resolved gain" : "a resolved loss: the claim does not hold here")
      : "not resolved from zero";
    out.push(
      `- ${family} (${letter}): momentum ${formatStat(m)} vs stop-grad ${formatStat(sg)}: ${
        formatDiff(d)
      } — ${judged}.`,
    );
  }

  // Claim 3: momentum-positive ≈ momentum.
  out.push(
    "",
    "**3. The momentum encoder in the positive gradient only is about as good as everywhere (Table 2).**",
    "",
  );
  for (const letter of TABLE2_FORMS) {
    const m = knn(letter), mp = knn(`${letter}-momentum-positive`), sg = knn(`${letter}-stop-grad`);
    const family = REPRO_ROWS.find((r) => r.id === letter)!.family;
    if (m === null || mp === null) {
      out.push(`- ${family} (${letter}): not measured (a row did not finish).`);
      continue;
    }
    const d = paired(`${letter}-momentum-positive`, letter);
    const r = resolved(d);
    const gain = sg === null ? null : m.mean - sg.mean;
    const judged = r === null
      ? (gain !== null && Math.abs(d.value) <= Math.max(0.5 * Math.abs(gain), 0.005)
        ? "holds within half the momentum gain (one seed)"
        : "not within half the momentum gain (one seed)")
      : r
      ? "differs by more than twice its standard error: the claim does not hold here"
      : "no resolved difference (within twice its standard error): consistent with the claim";
    out.push(
      `- ${family} (${letter}): momentum-positive ${formatStat(mp)} vs momentum ${formatStat(m)}: ${
        formatDiff(d)
      } — ${judged}.`,
    );
  }
  return out;
}

/**
 * Writes `report.md`, `knn.svg` and `gradients-<family>.svg` into `options.out` from the finished row
 * folders of `runs` (rows still missing are listed as not finished).
 *
 * @param options The reproduction's options (budget, dataset, seeds, out).
 * @param runs The planned (row, seed) runs.
 * @param command The command line that made it (printed in the report).
 * @returns The report's path.
 */
export async function writeReproReport(
  options: ReproOptions,
  runs: readonly RowRun[],
  command: string,
): Promise<string> {
  const rows = await summarise(runs);
  const budgetName: BudgetName = options.budget ?? "cpu";
  const budget = BUDGETS[budgetName];
  const missing = rows.flatMap((s) =>
    runs.filter((r) => r.row.id === s.row.id && !s.results.some((x) => x.seed === r.seed)).map((r) =>
      `${s.row.id} seed ${r.seed}`
    )
  );
  const files: [string, string][] = [["knn.svg", knnPlot(rows, runs)]];
  for (const f of FAMILIES) {
    if (rows.some((s) => s.row.family === f)) files.push([`gradients-${f}.svg`, gradientPlot(f, rows, runs)]);
  }
  const sample = rows.find((s) => s.results.length > 0);
  const lambdaNotes: string[] = [];
  let totalSteps: number | null = null;
  for (const s of rows) {
    const run = runs.find((r) => r.row.id === s.row.id);
    if (!run) continue;
    try {
      const cfg = JSON.parse(await Deno.readTextFile(join(run.folder, "config.json")));
      totalSteps ??= cfg.derived?.totalSteps ?? null;
      if (cfg.lambdaRule && s.row.tables.includes(1)) lambdaNotes.push(`(${s.row.letter}) ${cfg.lambdaRule}`);
    } catch { /* not started */ }
  }
  const md = [
    `# UniGrad reproduction: Table 1 and Table 2 on ${options.dataset ?? "fashion-mnist"}`,
    "",
    `Command: \`${command}\``,
    "",
    `Budget \`${budgetName}\`: ${budget.description}. Every row: the same architecture, augmentation, schedule, ` +
    `seeds (${
      [...new Set(runs.map((r) => r.seed))].join(", ")
    }) and evaluation; Table 1 rows use the momentum encoder; ` +
    `Table 2 takes ${rowLetters(TABLE2_FORMS)} as its contrastive, asymmetric and feature-decorrelation forms. ` +
    `MoCo's queue: ${budget.queueSize}; BYOL's predictor hidden width: ${budget.predictorHidden}.`,
    "",
    "## Results",
    "",
    resultsTable(rows),
    "",
    "kNN: cosine, k = 200, temperature 0.1, backbone features of the test set against the training set. " +
    "Linear probe: frozen backbone features. ± is the sample standard deviation over seeds. " +
    "Training time excludes evaluation and checkpoints; wall time is the session that finished the row, set-up, " +
    "evaluations and probe included (a resumed row's earlier sessions are not in it).",
    "",
    missing.length > 0 ? `Not finished: ${missing.join(", ")}.` : "Every planned row and seed finished.",
    "",
    "## Verdict",
    "",
    ...verdict(rows, totalSteps),
    "",
    "## Curves",
    "",
    "![kNN curves](knn.svg)",
    "",
    ...files.slice(1).map(([f]) => `![${f}](${f})\n`),
    "## Balance coefficients",
    "",
    "Unit-norm forms get λ_d = λ_2048·d/2048 unless set (the λ of the paper belongs to d = 2048):",
    "",
    ...lambdaNotes.map((l) => `- ${l}`),
    "",
    "## Configuration",
    "",
    sample ? "Each row's `config.json` is in `rows/<row>/seed-<s>/`." : "No row finished.",
    "",
  ].join("\n");
  await Deno.mkdir(options.out, { recursive: true });
  for (const [name, text] of [...files, ["report.md", md] as [string, string]]) {
    const path = join(options.out, name);
    await Deno.writeTextFile(`${path}.tmp`, text);
    await Deno.rename(`${path}.tmp`, path);
  }
  return join(options.out, "report.md");
}
