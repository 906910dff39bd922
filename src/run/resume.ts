/**
 * Opening the checkpoint a run resumes from: one named `ckpt-*` folder, or the newest intact one of a
 * run folder or a checkpoints folder (passing over newer ones that fail their checks, with the reasons).
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import {
  listCheckpoints,
  loadCheckpoint,
  type LoadedCheckpoint,
  loadLatestIntactCheckpoint,
  type RefusedCheckpoint,
} from "../io/mod.ts";

/** A loaded checkpoint to resume from, and the newer ones that were refused (with the reasons). */
export interface ResumePoint {
  /** The checkpoint (its tensors on the CPU: dispose them). */
  checkpoint: LoadedCheckpoint;
  /** Newer checkpoints that failed their checks, newest first. */
  refused: RefusedCheckpoint[];
}

/**
 * Loads the checkpoint `resume` names: one `ckpt-*` folder itself (no fallback: it was named), or the
 * newest intact one in `<resume>/checkpoints/` (a run folder) or in `resume` (a checkpoints folder),
 * passing over newer ones that are corrupt.
 *
 * @throws {Error} Naming the path when it holds no checkpoint, or none that is intact (with each reason).
 */
export async function openResume(resume: string): Promise<ResumePoint> {
  if (await Deno.stat(join(resume, "state.json")).then(() => true, () => false)) {
    return { checkpoint: await loadCheckpoint(resume), refused: [] };
  }
  for (const dir of [join(resume, "checkpoints"), resume]) {
    if ((await listCheckpoints(dir)).length === 0) continue;
    const { checkpoint, refused } = await loadLatestIntactCheckpoint(dir);
    if (checkpoint !== null) return { checkpoint, refused };
    const reasons = refused.map((r) => `\n  ${r.reason}`).join("");
    throw new Error(`Cannot resume from "${resume}": no checkpoint in ${dir} is intact:${reasons}`);
  }
  const exists = await Deno.stat(resume).then(() => true, () => false);
  throw new Error(
    `Cannot resume from "${resume}": ${exists ? "it holds no checkpoint" : "no such file or directory"} ` +
      "(expected a run folder, its checkpoints folder or one ckpt-* folder)",
  );
}

/** The run folder a checkpoint belongs to (`<run>/checkpoints/ckpt-*`), or null. */
export function runFolderOf(checkpoint: string): string | null {
  const parent = dirname(checkpoint);
  return basename(parent) === "checkpoints" ? dirname(parent) : null;
}
