/**
 * The metrics log: one JSON object per line in `metrics.jsonl`, appended and handed to the
 * operating system at every write, so a crash loses at most the line being written.
 *
 * @module
 */
import { dirname } from "node:path";

/**
 * One line of a training run's metrics log, as the trainer writes it and `trainingPanels` plots it.
 * Steps and epochs are numbers; every other field is optional (an epoch-end line carries `knn`,
 * a step line `loss`, `lr` and the gradient decomposition).
 */
export interface TrainingRecord {
  /** Optimizer steps taken so far (across epochs). */
  step: number;
  /** Epoch, possibly fractional (step / steps per epoch). */
  epoch: number;
  /** The method's loss (or surrogate loss) for this step. */
  loss?: number;
  /** Learning rate used for this step. */
  lr?: number;
  /** Mean norm of the positive gradient (pull toward the other view), per sample. */
  positive?: number;
  /** Mean norm of the negative gradient (λ-weighted push from other samples), per sample. */
  negative?: number;
  /** Ratio negative / positive of the two norms. */
  balance?: number;
  /** kNN top-1 accuracy in [0, 1], on epoch-end lines. */
  knn?: number;
  /** Training throughput: image pairs per second. */
  pairsPerSecond?: number;
  /** Any further named metric. */
  [key: string]: unknown;
}

const NON_FINITE = new Map<string, number>([["NaN", NaN], ["Infinity", Infinity], ["-Infinity", -Infinity]]);

function replacer(_key: string, value: unknown): unknown {
  return typeof value === "number" && !Number.isFinite(value) ? String(value) : value;
}

/**
 * Appends JSON lines to a file. Non-finite numbers (a diverged loss) are written as the strings
 * "NaN", "Infinity" and "-Infinity", which `readMetricsLog` turns back into numbers.
 *
 * @example Usage
 * ```ts
 * import { MetricsLog } from "@unigrad/unigrad";
 * import { readMetricsLog } from "@unigrad/unigrad/io";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * {
 *   using log = new MetricsLog(`${dir}/metrics.jsonl`);
 *   log.write({ step: 1, epoch: 0, loss: 2.5 });
 *   log.write({ step: 2, epoch: 0, loss: NaN });
 * }
 * const lines = readMetricsLog(`${dir}/metrics.jsonl`);
 * assert.equal(lines.length, 2);
 * assert.ok(Number.isNaN(lines[1].loss));
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class MetricsLog {
  #file: Deno.FsFile | null;
  readonly #encoder = new TextEncoder();

  /**
   * Opens (creating it and its directory when missing) `path` for appending.
   *
   * @param path The log file, e.g. `runs/x/metrics.jsonl`.
   * @param options `truncate` starts a fresh file instead of appending (a new run).
   */
  constructor(path: string, options: { truncate?: boolean } = {}) {
    Deno.mkdirSync(dirname(path), { recursive: true });
    this.#file = options.truncate
      ? Deno.openSync(path, { write: true, create: true, truncate: true })
      : Deno.openSync(path, { append: true, create: true });
  }

  /** Writes one record as one line; the line is in the operating system's hands when this returns. */
  write(record: Readonly<Record<string, unknown>>): void {
    if (this.#file === null) throw new Error("Cannot write to a closed MetricsLog");
    const bytes = this.#encoder.encode(JSON.stringify(record, replacer) + "\n");
    let done = 0;
    while (done < bytes.length) done += this.#file.writeSync(bytes.subarray(done));
  }

  /** Closes the file; later writes throw. A second call does nothing. */
  close(): void {
    this.#file?.close();
    this.#file = null;
  }

  /** Closes the file at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/** The largest metrics log read back (a record per logged step is ~300 bytes: millions of steps). */
const MAX_LOG_BYTES = 1 << 30;

/**
 * Reads a metrics log back (a regular file of at most 1 GiB). A last line cut off by a crash is skipped; a malformed line elsewhere
 * throws.
 *
 * @param path The `.jsonl` file.
 * @returns One object per line, with "NaN"/"Infinity"/"-Infinity" strings turned back into numbers.
 * @throws {Error} Naming the file and line of a malformed record.
 *
 * @example Usage
 * ```ts
 * import { MetricsLog } from "@unigrad/unigrad";
 * import { readMetricsLog } from "@unigrad/unigrad/io";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile({ suffix: ".jsonl" });
 * const log = new MetricsLog(path);
 * log.write({ step: 1, epoch: 0.5, loss: 0.25 });
 * log.close();
 * assert.deepEqual(readMetricsLog(path), [{ step: 1, epoch: 0.5, loss: 0.25 }]);
 * await Deno.remove(path);
 * ```
 */
export function readMetricsLog(path: string): TrainingRecord[] {
  const info = Deno.statSync(path);
  if (!info.isFile) throw new Error(`Cannot read metrics log "${path}": it is not a regular file`);
  if (info.size > MAX_LOG_BYTES) {
    throw new Error(`Cannot read metrics log "${path}": its ${info.size} bytes exceed the ${MAX_LOG_BYTES} allowed`);
  }
  const lines = Deno.readTextFileSync(path).split("\n");
  const out: TrainingRecord[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    try {
      out.push(JSON.parse(line, (_k, v) => (typeof v === "string" && NON_FINITE.has(v) ? NON_FINITE.get(v) : v)));
    } catch (e) {
      const last = lines.slice(i + 1).every((l) => l.trim() === "");
      if (!last) {
        throw new Error(`Cannot read metrics log "${path}": line ${i + 1} is not JSON (${(e as Error).message})`);
      }
    }
  });
  return out;
}
