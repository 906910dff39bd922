/**
 * Exclusive ownership of a run folder: a lock file `<dir>/run.lock` holding the owner's pid, host and
 * process start time, created atomically (a hard link of a complete temporary file, which fails when
 * the lock exists). A lock left by a process that is gone (killed with SIGKILL, a crashed node) is
 * detected on the same host by its pid and start time and taken over; a live one refuses the second
 * run, naming the pid.
 *
 * @module
 */
import { join } from "node:path";

/** The owner recorded in a lock file. */
export interface LockOwner {
  /** Process id. */
  pid: number;
  /** Host name. */
  host: string;
  /** Process start time in clock ticks since boot (/proc/<pid>/stat), to tell a reused pid apart; null where unknown. */
  startTicks: string | null;
  /** When the lock was taken (ISO 8601). */
  since: string;
}

/** The lock file's name inside a run folder. */
export const LOCK_FILE = "run.lock";

/** Field 22 of /proc/<pid>/stat (the start time), or null when the process does not exist or there is no /proc. */
function startTicks(pid: number): string | null {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null;
  } catch {
    return null;
  }
}

/** Whether the owner is (as far as this host can tell) still running. */
function alive(owner: LockOwner): boolean {
  if (owner.host !== Deno.hostname()) return true; // cannot check another host: assume it runs
  const ticks = startTicks(owner.pid);
  return ticks !== null && (owner.startTicks === null || ticks === owner.startTicks);
}

/** Reads a lock file's owner, or null when it is unreadable (being replaced, or garbage). */
async function readOwner(path: string): Promise<LockOwner | null> {
  try {
    const o = JSON.parse(await Deno.readTextFile(path));
    return Number.isSafeInteger(o?.pid) && typeof o.host === "string" ? o as LockOwner : null;
  } catch {
    return null;
  }
}

/**
 * A held run-folder lock; `release()` (or disposal) removes it.
 *
 * @example Usage
 * ```ts
 * import { RunLock } from "@unigrad/unigrad/run";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const lock = await RunLock.acquire(dir); // train() holds one while it writes the folder
 * await assert.rejects(() => RunLock.acquire(dir), /Cannot use run folder/);
 * lock.release();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class RunLock {
  /** The lock file. */
  readonly path: string;
  #held = true;

  private constructor(path: string) {
    this.path = path;
  }

  /**
   * Takes the lock of run folder `dir` (which must exist), taking over a stale one.
   *
   * @param dir The run folder.
   * @returns The held lock.
   * @throws {Error} Naming the folder and the pid (and host) of the run that holds it.
   *
   * @example Usage
   * ```ts
   * import { RunLock } from "./lock.ts";
   * import assert from "node:assert/strict";
   *
   * const dir = await Deno.makeTempDir();
   * const lock = await RunLock.acquire(dir);
   * await assert.rejects(() => RunLock.acquire(dir), new RegExp(`pid ${Deno.pid}`));
   * lock.release();
   * (await RunLock.acquire(dir)).release();
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  static async acquire(dir: string): Promise<RunLock> {
    const path = join(dir, LOCK_FILE);
    const me: LockOwner = { pid: Deno.pid, host: Deno.hostname(), startTicks: startTicks(Deno.pid), since: "" };
    for (let attempt = 0; attempt < 5; attempt++) {
      me.since = new Date().toISOString();
      const tmp = join(dir, `.${LOCK_FILE}.${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`);
      await Deno.writeTextFile(tmp, JSON.stringify(me) + "\n", { createNew: true });
      try {
        await Deno.link(tmp, path); // atomic: fails when a lock exists
        return new RunLock(path);
      } catch (e) {
        if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
      } finally {
        await Deno.remove(tmp).catch(() => {});
      }
      const owner = await readOwner(path);
      if (owner === null) {
        await new Promise((r) => setTimeout(r, 50)); // being written or replaced: look again
        if (attempt < 4) continue;
        throw new Error(
          `Cannot use run folder "${dir}": ${path} exists but names no owner (remove it if no run uses the folder)`,
        );
      }
      if (alive(owner)) {
        const where = owner.host === me.host ? "" : ` on host ${owner.host}`;
        throw new Error(
          `Cannot use run folder "${dir}": another run (pid ${owner.pid}${where}, since ${owner.since}) holds ${path}` +
            (where ? " (remove the file if that run is gone)" : ""),
        );
      }
      // Stale: move it aside atomically (only one contender succeeds), then try again.
      await Deno.rename(path, `${path}.stale-${Deno.pid}`).then(
        () => Deno.remove(`${path}.stale-${Deno.pid}`),
        () => {},
      );
    }
    throw new Error(`Cannot use run folder "${dir}": could not take ${path}`);
  }

  /** Removes the lock file (if it is still ours); a second call does nothing. Synchronous, so exit paths can call it. */
  release(): void {
    if (!this.#held) return;
    this.#held = false;
    try {
      const o = JSON.parse(Deno.readTextFileSync(this.path));
      if (o?.pid === Deno.pid) Deno.removeSync(this.path);
    } catch {
      // already gone
    }
  }

  /** Same as `release()`. */
  [Symbol.dispose](): void {
    this.release();
  }
}
