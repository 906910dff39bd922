/**
 * The run report: `report.md` with a results table (one row per method or run: epochs, kNN at
 * initialisation and at the end, linear-probe accuracy, throughput, wall time), the plot, and the
 * configuration.
 *
 * @module
 */
import { formatCount, formatDuration, formatPercent } from "./_format.ts";
import { writeFileAtomic } from "../torch/files.ts";

/** One row of the results table; missing measurements print as "–". */
export interface ReportRow {
  /** Method name, e.g. "unigrad". */
  method: string;
  /** Epochs trained. */
  epochs: number;
  /** kNN top-1 accuracy of the untrained network, in [0, 1]. */
  knnInit?: number;
  /** kNN top-1 accuracy after training, in [0, 1]. */
  knnFinal?: number;
  /** Linear-probe test accuracy, in [0, 1]. */
  linearProbe?: number;
  /** Training throughput in image pairs per second. */
  pairsPerSecond?: number;
  /** Wall-clock training time in seconds. */
  wallSeconds?: number;
}

/** Everything `formatReport` writes. */
export interface RunReport {
  /** The heading. @default "unigrad run report" */
  title?: string;
  /** The results table. */
  rows: readonly ReportRow[];
  /** The run's configuration (printed as a key/value table). @default none */
  config?: Readonly<Record<string, unknown>>;
  /** Path of the SVG plot relative to the report, embedded as an image. @default none */
  plot?: string;
  /** Free lines printed under the table (device, libtorch version, …). @default none */
  notes?: readonly string[];
  /** The kNN monitor's settings, for the line that explains the kNN columns. @default { k: 200, temperature: 0.1 } */
  knn?: { k: number; temperature: number };
}

function cell(v: unknown): string {
  const s = typeof v === "string" ? v : JSON.stringify(v) ?? String(v);
  return s.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

function table(head: readonly string[], align: readonly ("l" | "r")[], rows: readonly string[][]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
  const rule = align.map((a) => (a === "r" ? "---:" : "---"));
  return [line(head), line(rule), ...rows.map(line)].join("\n");
}

/**
 * The report as Markdown.
 *
 * @param report Title, result rows, configuration, plot path and notes.
 * @returns Markdown text.
 *
 * @example Usage
 * ```ts
 * import { formatReport } from "@unigrad/unigrad/io";
 * import assert from "node:assert/strict";
 *
 * const md = formatReport({
 *   rows: [{ method: "unigrad", epochs: 40, knnInit: 0.77, knnFinal: 0.819, pairsPerSecond: 17150, wallSeconds: 137 }],
 *   config: { lambda: 100, batch: 512 },
 * });
 * assert.ok(md.includes("| unigrad | 40 | 77.0 % | 81.9 % | – | 17,150 | 2m 17s |"));
 * ```
 */
export function formatReport(report: RunReport): string {
  const rows = report.rows.map((r) => [
    cell(r.method),
    String(r.epochs),
    r.knnInit === undefined ? "–" : formatPercent(r.knnInit),
    r.knnFinal === undefined ? "–" : formatPercent(r.knnFinal),
    r.linearProbe === undefined ? "–" : formatPercent(r.linearProbe),
    r.pairsPerSecond === undefined ? "–" : formatCount(r.pairsPerSecond),
    r.wallSeconds === undefined ? "–" : formatDuration(r.wallSeconds),
  ]);
  const out = [`# ${report.title ?? "unigrad run report"}`, "", "## Results", ""];
  out.push(
    table(
      ["method", "epochs", "kNN init", "kNN final", "linear probe", "pairs/s", "wall time"],
      ["l", "r", "r", "r", "r", "r", "r"],
      rows,
    ),
  );
  const { k, temperature } = report.knn ?? { k: 200, temperature: 0.1 };
  out.push("", `kNN: cosine similarity, k = ${k}, temperature ${temperature}, test set against the training set.`);
  for (const n of report.notes ?? []) out.push("", n);
  if (report.plot) out.push("", "## Curves", "", `![training curves](${report.plot})`);
  if (report.config) {
    const entries = Object.entries(report.config).map(([key, v]) => [cell(key), `\`${cell(v).replace(/`/g, "'")}\``]);
    out.push("", "## Configuration", "", table(["option", "value"], ["l", "l"], entries));
  }
  return out.join("\n") + "\n";
}

/**
 * Writes `formatReport(report)` to `path` atomically.
 *
 * @param path The Markdown file, e.g. `runs/x/report.md`; its directory must exist.
 * @param report What to write.
 *
 * @example Usage
 * ```ts
 * import { writeReport } from "@unigrad/unigrad/io";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile({ suffix: ".md" });
 * await writeReport(path, { title: "run", rows: [{ method: "unigrad", epochs: 1, knnInit: 0.66, knnFinal: 0.74 }] });
 * assert.match(await Deno.readTextFile(path), /unigrad/);
 * await Deno.remove(path);
 * ```
 */
export async function writeReport(path: string, report: RunReport): Promise<void> {
  await writeFileAtomic(path, formatReport(report));
}
