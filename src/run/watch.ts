/**
 * `deno task watch [DIR…]` and `train.ts --watch PORT`: a local page that follows run folders as they
 * train. It finds the runs under the folders it was given (a folder holding `metrics.jsonl`, down to
 * four levels: a run, `runs/*`, a reproduction's `rows/<row>/seed-<k>`), reads each `metrics.jsonl`
 * incrementally as it grows (a line cut short by a killed run is skipped), and serves one page drawn
 * by its own script (no files from the internet) plus a small JSON API (the page polls it every 2 s; `/api/events` streams server-sent events
 * to other clients).
 *
 * Read-only: it opens only `metrics.jsonl` and `config.json` of the runs it found and lists their
 * `checkpoints/`; a client names a run by its index, never by a path. Curves are downsampled on the
 * server (at most `MAX_POINTS` per series), so 10^6 metrics lines stay light on the page.
 *
 * @module
 */
import { join, relative, resolve } from "node:path";
import { WATCH_PAGE } from "./_watch_page.ts";

/** Points per series sent to the page (bucket means; the last point exact). */
export const MAX_POINTS = 1500;
/** Runs a watch follows at most (the first found, by path). */
const MAX_RUNS = 2000;
/** The largest `config.json` read. */
const MAX_CONFIG_BYTES = 1 << 20;

/** Options of `watchRuns`. */
export interface WatchOptions {
  /** The address to bind. @default "127.0.0.1" (this machine only) */
  hostname?: string;
  /** The port (0: any free one). @default 8080 */
  port?: number;
  /** How often the folders are checked for new lines and new runs, in ms. @default 1000 */
  pollMs?: number;
}

/** A running watch server. */
export interface WatchServer extends AsyncDisposable, Disposable {
  /** The page's address, e.g. "http://127.0.0.1:8080/". */
  url: string;
  /** Stops serving. */
  close(): Promise<void>;
}

/** One run followed: its folder and what has been read of its log. */
interface Followed {
  folder: string;
  name: string;
  offset: number;
  partial: string;
  records: Record<string, unknown>[];
  /** Every field's latest value (kept as lines arrive: the table's summary reads it every poll). */
  last: Record<string, unknown>;
  /** The latest step line with a throughput (for the ETA). */
  lastStepLine: Record<string, unknown> | null;
  skipped: number;
  version: number;
}

/** Run folders under `dirs` (a folder with `metrics.jsonl`), down to four levels, sorted by path. */
export async function findRuns(dirs: readonly string[]): Promise<string[]> {
  const found = new Set<string>();
  const visit = async (dir: string, depth: number): Promise<void> => {
    if (found.size >= MAX_RUNS) return;
    if (await isFile(join(dir, "metrics.jsonl"))) found.add(dir);
    if (depth === 0) return;
    let entries: Deno.DirEntry[] = [];
    try {
      entries = [...Deno.readDirSync(dir)].filter((e) => e.isDirectory && e.name !== "checkpoints");
    } catch {
      return; // unreadable: skipped
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) await visit(join(dir, e.name), depth - 1);
  };
  for (const d of dirs) await visit(resolve(d), 4);
  return [...found].sort();
}

async function isFile(path: string): Promise<boolean> {
  const info = await Deno.lstat(path).catch(() => null);
  return info !== null && info.isFile;
}

/** Reads what was appended to a run's log since the last read; restarts when the file was replaced. */
async function readNew(run: Followed): Promise<boolean> {
  const path = join(run.folder, "metrics.jsonl");
  const info = await Deno.lstat(path).catch(() => null);
  if (info === null || !info.isFile) return false;
  if (info.size < run.offset) { // rewritten
    Object.assign(run, { offset: 0, partial: "", records: [], last: {}, lastStepLine: null, skipped: 0 });
  }
  if (info.size === run.offset) return false;
  using file = await Deno.open(path, { read: true });
  await file.seek(run.offset, Deno.SeekMode.Start);
  const bytes = new Uint8Array(info.size - run.offset);
  let at = 0;
  while (at < bytes.length) {
    const n = await file.read(bytes.subarray(at));
    if (n === null) break;
    at += n;
  }
  run.offset += at;
  const text = run.partial + new TextDecoder().decode(bytes.subarray(0, at));
  const lines = text.split("\n");
  run.partial = lines.pop() ?? ""; // an unfinished last line waits for the rest
  for (const line of lines) {
    if (line.trim() === "") continue;
    try {
      const record = JSON.parse(line);
      if (typeof record !== "object" || record === null || typeof record.step !== "number") {
        run.skipped++;
        continue;
      }
      run.records.push(record);
      Object.assign(run.last, record);
      if (typeof record.pairsPerSecond === "number" && "loss" in record) run.lastStepLine = record;
    } catch {
      run.skipped++; // a malformed line (a run killed mid-write, then resumed): skipped, not fatal
    }
  }
  run.version++;
  return true;
}

/** The numeric series of a run's records, each downsampled to at most `max` points. */
export function seriesOf(records: readonly Record<string, unknown>[], max = MAX_POINTS): Record<string, number[][]> {
  const all: Record<string, number[][]> = {};
  for (const r of records) {
    for (const [k, v] of Object.entries(r)) {
      if (k === "step" || typeof v !== "number" || !Number.isFinite(v)) continue;
      (all[k] ??= []).push([r.step as number, v]);
    }
  }
  for (const [k, points] of Object.entries(all)) {
    if (points.length <= max) continue;
    const out: number[][] = [];
    const size = points.length / max;
    for (let b = 0; b < max; b++) {
      const chunk = points.slice(Math.floor(b * size), Math.floor((b + 1) * size));
      if (chunk.length) out.push([chunk[chunk.length - 1][0], chunk.reduce((s, p) => s + p[1], 0) / chunk.length]);
    }
    out[out.length - 1] = points[points.length - 1];
    all[k] = out;
  }
  return all;
}

async function readConfig(folder: string): Promise<Record<string, unknown> | null> {
  const path = join(folder, "config.json");
  const info = await Deno.lstat(path).catch(() => null);
  if (info === null || !info.isFile || info.size > MAX_CONFIG_BYTES) return null;
  try {
    return JSON.parse(await Deno.readTextFile(path));
  } catch {
    return null;
  }
}

/** The ranks' heartbeats of a data-parallel run (`heartbeats/rank-<k>.json`): rank, step, seconds since. */
function heartbeatsOf(folder: string): { rank: number; step: number; host: string; secondsAgo: number }[] {
  const out = [];
  try {
    for (const e of Deno.readDirSync(join(folder, "heartbeats"))) {
      if (!e.isFile || !/^rank-\d+\.json$/.test(e.name)) continue;
      try {
        const b = JSON.parse(Deno.readTextFileSync(join(folder, "heartbeats", e.name)));
        if (typeof b.rank !== "number" || typeof b.step !== "number" || typeof b.time !== "number") continue;
        out.push({ rank: b.rank, step: b.step, host: String(b.host ?? ""), secondsAgo: (Date.now() - b.time) / 1000 });
      } catch { /* half-written or foreign: skipped */ }
    }
  } catch { /* a single process writes none */ }
  return out.sort((a, b) => a.rank - b.rank);
}

/** The run's checkpoints (names), newest last. */
function checkpointsOf(folder: string): string[] {
  try {
    return [...Deno.readDirSync(join(folder, "checkpoints"))].filter((e) => e.isDirectory && /^ckpt-\d+$/.test(e.name))
      .map((e) => e.name).sort();
  } catch {
    return [];
  }
}

/** A run's summary for the table: the config's main fields, the last values, progress and ETA. */
async function summary(run: Followed, id: number): Promise<Record<string, unknown>> {
  const config = await readConfig(run.folder);
  const total = (config?.derived as { totalSteps?: number } | undefined)?.totalSteps ?? null;
  const { last, lastStepLine: stepLine } = run;
  const batch = typeof config?.batchSize === "number" ? config.batchSize : null;
  const step = typeof last.step === "number" ? last.step : 0;
  const rate = stepLine && batch ? (stepLine.pairsPerSecond as number) / batch : null; // steps per second
  const eta = total !== null && rate ? Math.max(0, (total - step) / rate) : null;
  return {
    id,
    name: run.name,
    method: config?.method ?? null,
    dataset: config?.dataset ?? null,
    epochs: config?.epochs ?? null,
    step,
    totalSteps: total,
    etaSeconds: eta,
    last,
    skippedLines: run.skipped,
    ranks: heartbeatsOf(run.folder),
    done: await isFile(join(run.folder, "report.md")) && total !== null && step >= total,
  };
}

/**
 * Serves the watch page over the runs under `dirs`.
 *
 * @param dirs Run folders, or folders of runs (a reproduction's output works).
 * @param options Address, port and poll interval.
 * @returns The server; `close()` it (or `await using`).
 * @throws {Error} When the port cannot be bound.
 *
 * @example Usage
 * ```ts
 * import { watchRuns } from "@unigrad/unigrad/run";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/metrics.jsonl`, '{"step":0,"epoch":0,"knn":0.5}\n');
 * await using server = watchRuns([dir], { port: 0 });
 * const runs = await (await fetch(`${server.url}api/runs`)).json();
 * assert.equal(runs[0].last.knn, 0.5);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function watchRuns(dirs: readonly string[], options: WatchOptions = {}): WatchServer {
  const { hostname = "127.0.0.1", port = 8080, pollMs = 1000 } = options;
  const roots = dirs.map((d) => resolve(d));
  const runs: Followed[] = [];
  const listeners = new Set<(ids: number[]) => void>();
  const streams = new Set<ReadableStreamDefaultController<Uint8Array>>();
  let refreshing: Promise<void> | null = null;
  const refresh = () =>
    refreshing ??= (async () => {
      const known = new Set(runs.map((r) => r.folder));
      for (const folder of await findRuns(roots)) {
        if (known.has(folder)) continue;
        const root = roots.find((r) => folder === r || folder.startsWith(`${r}/`)) ?? folder;
        const name = relative(root, folder) || folder.split("/").pop() || folder;
        runs.push({
          folder,
          name,
          offset: 0,
          partial: "",
          records: [],
          last: {},
          lastStepLine: null,
          skipped: 0,
          version: 0,
        });
      }
      const changed: number[] = [];
      for (const [i, run] of runs.entries()) if (await readNew(run)) changed.push(i);
      if (changed.length) listeners.forEach((l) => l(changed));
    })().finally(() => refreshing = null);
  const timer = setInterval(() => void refresh().catch(() => {}), pollMs);

  const json = (value: unknown, status = 200) =>
    new Response(JSON.stringify(value), { status, headers: { "content-type": "application/json" } });
  const handler = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    if (req.method !== "GET") return new Response("read-only", { status: 405 });
    if (url.pathname === "/") {
      return new Response(WATCH_PAGE, { headers: { "content-type": "text/html; charset=utf-8" } });
    }
    await refresh();
    if (url.pathname === "/api/runs") return json(await Promise.all(runs.map((r, i) => summary(r, i))));
    const one = /^\/api\/run\/(\d+)$/.exec(url.pathname);
    if (one) {
      const run = runs[Number(one[1])];
      if (!run) return json({ error: "no such run" }, 404);
      return json({
        ...(await summary(run, Number(one[1]))),
        config: await readConfig(run.folder),
        checkpoints: checkpointsOf(run.folder),
        series: seriesOf(run.records),
        version: run.version,
      });
    }
    if (url.pathname === "/api/events") {
      let send: ((ids: number[]) => void) | null = null;
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          streams.add(controller);
          const enc = new TextEncoder();
          send = (ids) => controller.enqueue(enc.encode(`event: change\ndata: ${JSON.stringify(ids)}\n\n`));
          listeners.add(send);
          controller.enqueue(enc.encode(": watching\n\n"));
        },
        cancel() {
          if (send) listeners.delete(send);
        },
      });
      return new Response(body, { headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } });
    }
    return json({ error: "not found" }, 404);
  };
  const server = Deno.serve({ hostname, port, onListen: () => {} }, handler);
  const addr = server.addr as Deno.NetAddr;
  const close = async () => {
    clearInterval(timer);
    listeners.clear();
    for (const c of streams) {
      try {
        c.close(); // the page's event streams end, so the server can shut down
      } catch { /* already closed */ }
    }
    await server.shutdown();
  };
  const shown = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return {
    url: `http://${shown}:${addr.port}/`,
    close,
    [Symbol.asyncDispose]: close,
    [Symbol.dispose]: () => void close().catch(() => {}), // in a synchronous `using`: stops without waiting
  };
}
