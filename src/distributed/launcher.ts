/**
 * The local launcher behind `train.ts --nproc N`: starts N copies of a Deno program with
 * torchrun-style variables, waits for them, and when one fails stops the others, so that a job never
 * hangs on a dead rank.
 *
 * @module
 */

/** Options of `launchLocal`. */
export interface LaunchLocalOptions {
  /** Number of processes (ranks). */
  nproc: number;
  /** Deno's arguments for every rank, e.g. `["run", "-A", "train.ts", "--epochs", "1"]`. */
  args: string[];
  /** Rendezvous port. @default $MASTER_PORT, else a free port on 127.0.0.1 */
  port?: number;
  /** Extra environment for every rank. @default {} */
  env?: Record<string, string>;
  /** After a rank fails, how long the others get after SIGTERM before SIGKILL. @default 10000 */
  graceMs?: number;
  /** Where the launcher reports failures. @default console.error */
  log?: (line: string) => void;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

function describe(status: Deno.CommandStatus): string {
  return status.signal ? `was killed by ${status.signal}` : `exited with code ${status.code}`;
}

/**
 * Runs `nproc` ranks of a Deno program on this machine (RANK, WORLD_SIZE, LOCAL_RANK,
 * LOCAL_WORLD_SIZE, MASTER_ADDR = 127.0.0.1, MASTER_PORT) and waits for all of them. When a rank
 * fails, the others get SIGTERM, then SIGKILL after `graceMs`; SIGINT or SIGTERM sent to the launcher
 * is passed on to every rank once.
 *
 * @returns 0 when every rank succeeded, else the exit code of the first rank that failed (128 + signal
 * number for a rank killed by a signal).
 * @throws {RangeError} When nproc is not a positive integer.
 *
 * @example Usage
 * ```ts
 * import { launchLocal } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const code = await launchLocal({ nproc: 2, args: ["eval", "if (!Deno.env.get('RANK')) Deno.exit(1)"] });
 * assert.equal(code, 0);
 * ```
 */
export async function launchLocal(options: LaunchLocalOptions): Promise<number> {
  const { nproc, args, env = {}, graceMs = 10_000, log = console.error } = options;
  if (!Number.isInteger(nproc) || nproc < 1) throw new RangeError(`--nproc must be a positive integer, got ${nproc}`);
  const port = options.port ?? (Number(Deno.env.get("MASTER_PORT")) || freePort());
  const children = Array.from({ length: nproc }, (_, rank) =>
    new Deno.Command(Deno.execPath(), {
      args,
      env: {
        ...env,
        RANK: String(rank),
        WORLD_SIZE: String(nproc),
        LOCAL_RANK: String(rank),
        LOCAL_WORLD_SIZE: String(nproc),
        MASTER_ADDR: "127.0.0.1",
        MASTER_PORT: String(port),
      },
      stdin: "null",
    }).spawn());
  const running = new Set(children.keys());
  let firstFailure = 0;
  let killTimer: ReturnType<typeof setTimeout> | undefined;
  const signal = (sig: Deno.Signal) => {
    for (const r of running) {
      try {
        children[r].kill(sig);
      } catch { /* already gone */ }
    }
  };
  const stopOthers = () => {
    if (killTimer !== undefined) return;
    signal("SIGTERM");
    killTimer = setTimeout(() => signal("SIGKILL"), graceMs);
  };
  const forward = (sig: "SIGINT" | "SIGTERM") => {
    let forwarded = false;
    const handler = () => {
      if (!forwarded) signal(sig);
      forwarded = true;
    };
    Deno.addSignalListener(sig, handler);
    return () => Deno.removeSignalListener(sig, handler);
  };
  const unlisten = [forward("SIGINT"), forward("SIGTERM")];
  try {
    await Promise.all(children.map(async (child, rank) => {
      const status = await child.status;
      running.delete(rank);
      if (status.success || firstFailure !== 0) return;
      firstFailure = status.signal ? 128 + signalNumber(status.signal) : status.code;
      log(`launcher: rank ${rank} of ${nproc} ${describe(status)}; stopping the other ranks`);
      stopOthers();
    }));
  } finally {
    clearTimeout(killTimer);
    unlisten.forEach((f) => f());
  }
  return firstFailure;
}

/** Linux signal numbers, for the 128 + n exit code a shell reports (SIGABRT: NCCL's watchdog, a failed check). */
const SIGNAL_NUMBERS: Partial<Record<Deno.Signal, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
};

/** The signal's number (Linux), for the exit code 128 + n. */
export function signalNumber(sig: Deno.Signal): number {
  return SIGNAL_NUMBERS[sig] ?? 1;
}
