/**
 * Taking a run folder (internal to train.ts): created when missing, locked against a second run
 * (`RunLock`), refused when it holds another run's checkpoints unless the run resumes them or was told
 * to overwrite them, and removed again when the run fails before it starts training in a folder it
 * created, so that failed starts leave no empty folders.
 *
 * @module
 */
import { join, resolve } from "node:path";
import { listCheckpoints } from "../io/mod.ts";
import { RunLock } from "./lock.ts";

/** A run folder this process holds. */
export interface RunFolder {
  /** The folder. */
  path: string;
  /** Marks the run as started: `abandon()` no longer removes anything. */
  started(): void;
  /** Before `started()`: removes the folder if this run created it. Releases the lock either way. */
  abandon(): Promise<void>;
  /** Releases the lock. */
  release(): void;
}

/** Files a run writes into its folder, deleted by `overwrite`. */
const RUN_FILES = ["checkpoints", "metrics.jsonl", "config.json", "plot.svg", "report.md"];

/**
 * Creates (when missing) and locks the run folder `out`.
 *
 * @param out The run folder.
 * @param options `resumedFrom`: the run folder of the checkpoint being resumed (resuming into it is
 *   the same run); `overwrite`: delete another run's files instead of refusing.
 * @throws {Error} When another process holds the folder (naming its pid), or the folder holds another
 *   run's checkpoints and neither resuming them nor `overwrite` was asked for.
 */
export async function claimFolder(
  out: string,
  options: { resumedFrom: string | null; overwrite: boolean },
): Promise<RunFolder> {
  const created = !(await Deno.stat(out).then(() => true, () => false));
  await Deno.mkdir(out, { recursive: true });
  let lock: RunLock | null = null;
  try {
    lock = await RunLock.acquire(out);
    const same = options.resumedFrom !== null && resolve(options.resumedFrom) === resolve(out);
    const theirs = await listCheckpoints(join(out, "checkpoints"));
    if (!same && theirs.length > 0) {
      if (!options.overwrite) {
        throw new Error(
          `Cannot start a new run in "${out}": it holds another run's checkpoints (${
            theirs.map((c) => c.path.split("/").pop()).join(", ")
          }); resume it with --resume ${out}, replace it with --overwrite, or choose another --out`,
        );
      }
      for (const f of RUN_FILES) await Deno.remove(join(out, f), { recursive: true }).catch(() => {});
    }
  } catch (e) {
    lock?.release();
    if (created) await Deno.remove(out, { recursive: true }).catch(() => {});
    throw e;
  }
  let running = false;
  const held = lock;
  return {
    path: out,
    started: () => void (running = true),
    abandon: async () => {
      held.release();
      if (!running && created) await Deno.remove(out, { recursive: true }).catch(() => {});
    },
    release: () => held.release(),
  };
}
