/**
 * Internal: crash-safe file writes (write a temporary file in the same directory, fsync, rename,
 * fsync the directory), so a reader sees either the old file or the complete new one.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";

/** A name for a temporary sibling of `path` that no other writer picks. */
export function tempSibling(path: string): string {
  const tag = `${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  return join(dirname(path), `.${basename(path)}.tmp-${tag}`);
}

/** Writes every byte of `data` to an open file. */
export async function writeAll(file: Deno.FsFile, data: Uint8Array): Promise<void> {
  let done = 0;
  while (done < data.length) done += await file.write(data.subarray(done));
}

/** Flushes a directory's entries (a rename inside it) to disk; a no-op where that is unsupported. */
export async function syncDir(dir: string): Promise<void> {
  let d: Deno.FsFile | undefined;
  try {
    d = await Deno.open(dir, { read: true });
    await d.sync();
  } catch {
    // some file systems refuse fsync on a directory: the rename is still atomic there
  } finally {
    d?.close();
  }
}

/** Writes a file with fsync and no rename (for files inside a directory that is renamed later). */
export async function writeFileSynced(path: string, data: Uint8Array | string): Promise<void> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const file = await Deno.open(path, { write: true, createNew: true });
  try {
    await writeAll(file, bytes);
    await file.sync();
  } finally {
    file.close();
  }
}

/**
 * Replaces `path` with `data` atomically: readers see the old content or the new, never a part.
 *
 * @param path The file to write; its directory must exist.
 * @param data Bytes, or a string written as UTF-8.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = tempSibling(path);
  try {
    await writeFileSynced(tmp, data);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
  await syncDir(dirname(path));
}
