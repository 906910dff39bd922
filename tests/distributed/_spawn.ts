/** Spawns the ranks of a distributed test as real Deno processes on a free loopback port. */

import { describeExit, startChild } from "../_child.ts";

const WORKER = new URL("./_worker.ts", import.meta.url).pathname;
/** The bound on one rank's process: the shared scenarios take about 20 s together. */
const CHILD_MS = 180_000;

/** A free TCP port on 127.0.0.1 (bound, then released). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** One running rank. */
export interface Rank {
  child: Deno.ChildProcess;
  /** Resolves with every JSON line the rank printed and its exit code. */
  done: Promise<{ lines: Record<string, unknown>[]; code: number }>;
  /** Resolves at the rank's first printed line. */
  firstLine: Promise<Record<string, unknown>>;
}

/** Starts `world` ranks of the worker running `scenario`. */
export function spawnRanks(scenario: string, world: number, timeoutMs = 5000): Rank[] {
  const port = freePort();
  return Array.from({ length: world }, (_, rank) => {
    const bounded = startChild(Deno.execPath(), {
      args: ["run", "-A", WORKER, scenario, String(port), String(rank), String(world), String(timeoutMs)],
      env: { UNIGRAD_NUM_THREADS: "1", NO_COLOR: "1" },
      timeoutMs: CHILD_MS,
      streamStdout: true,
    });
    const child = bounded.child;
    let first: (v: Record<string, unknown>) => void = () => {};
    const firstLine = new Promise<Record<string, unknown>>((resolve) => first = resolve);
    const done = (async () => {
      const lines: Record<string, unknown>[] = [];
      let buffer = "";
      for await (const chunk of bounded.stdout!) {
        buffer += chunk;
        let nl;
        while ((nl = buffer.indexOf("\n")) >= 0) {
          const line = JSON.parse(buffer.slice(0, nl));
          buffer = buffer.slice(nl + 1);
          if (lines.length === 0) first(line);
          lines.push(line);
        }
      }
      const result = await bounded.result;
      if (result.code !== 0) console.error(`rank ${rank} of "${scenario}": ${describeExit(result)}`);
      return { lines, code: result.code };
    })();
    return { child, done, firstLine };
  });
}

/** The scenarios that run to the end on 2 ranks, all in one pair of processes (a Deno start costs seconds). */
const SHARED = ["collectives", "gatherGrad", "gradients", "overlap", "syncBn", "stop"];
let shared: Promise<Record<string, unknown>[]> | null = null;

/**
 * Each rank's results of a scenario on 2 ranks. The scenarios in SHARED run once for all test files
 * (one pair of worker processes, started by the first test that asks).
 */
export function runRanks(scenario: string): Promise<Record<string, unknown>[]> {
  if (!SHARED.includes(scenario)) return runScenarios(scenario);
  shared ??= runScenarios(SHARED.join(","));
  return shared;
}

/** Runs scenarios to the end on every rank; throws with a rank's error when one fails. */
async function runScenarios(scenario: string, world = 2): Promise<Record<string, unknown>[]> {
  const results = await Promise.all(spawnRanks(scenario, world).map((r) => r.done));
  return results.map(({ lines, code }, rank) => {
    const last = lines.at(-1) ?? {};
    if (code !== 0) throw new Error(`rank ${rank} exited with ${code}: ${JSON.stringify(last)}`);
    return last;
  });
}
