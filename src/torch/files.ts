/**
 * Safe file reading and crash-safe writing, shared by every layer that touches files (io, data, run).
 *
 * It lives in src/torch because that is the one folder every other folder may import; it imports
 * nothing from the tensor core, and root mod.ts does not re-export it (it is not part of the API).
 *
 * Reading: `openRegularFile` refuses anything but a regular file (a device such as /dev/zero grows
 * without end, opening a FIFO blocks) before opening it, and `readFileBounded` reads a file only
 * when its size is within a bound the caller derives from a header. Writing: `writeFileAtomic`
 * writes a temporary sibling, fsyncs it and renames it into place, so readers see the old file or
 * the complete new one. Every error names the path (including "No space left on device").
 *
 * @module
 */
import { basename, dirname, join } from "node:path";

/**
 * The error `e` about `path` as `Cannot <verb> <path>: <problem>`, of the same class (a
 * `Deno.errors.NotFound` stays one, so callers can still tell a missing file apart).
 */
function fileError(verb: string, path: string, e: unknown): Error {
  const problem = (e instanceof Error ? e.message : String(e)).replace(/: \w+ '[^']*'$/, "");
  const message = `Cannot ${verb} ${path}: ${problem}`;
  const Kind = e instanceof Error ? e.constructor as new (m: string, o?: ErrorOptions) => Error : Error;
  try {
    return new Kind(message, { cause: e });
  } catch {
    return new Error(message, { cause: e });
  }
}

/**
 * Opens `path` for reading after checking, before opening, that it is a regular file (symbolic
 * links are followed), and again on the open handle (the path may have been replaced in between).
 *
 * @param path The file.
 * @returns The open file and its size in bytes.
 * @throws {Error} Naming the path: missing, not a regular file (a directory, device, FIFO or socket), unreadable.
 */
export async function openRegularFile(path: string): Promise<{ file: Deno.FsFile; size: number }> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (e) {
    throw fileError("read", path, e instanceof Deno.errors.NotFound ? new Deno.errors.NotFound("no such file") : e);
  }
  if (!info.isFile) throw new Error(`Cannot read ${path}: it is ${describeKind(info)}, not a regular file`);
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (e) {
    throw fileError("read", path, e);
  }
  const opened = await file.stat();
  if (!opened.isFile || (info.ino !== null && opened.ino !== info.ino)) {
    file.close();
    throw new Error(`Cannot read ${path}: it was replaced while being opened`);
  }
  return { file, size: opened.size };
}

/** "a directory", "a FIFO", … for error messages. */
function describeKind(info: Deno.FileInfo): string {
  if (info.isDirectory) return "a directory";
  if (info.isFifo) return "a FIFO";
  if (info.isCharDevice) return "a character device";
  if (info.isBlockDevice) return "a block device";
  if (info.isSocket) return "a socket";
  return "not a regular file";
}

/**
 * Reads exactly `length` bytes from the current position of an open file.
 *
 * @throws {Error} Naming `path` when the file ends first.
 */
export async function readExactly(file: Deno.FsFile, path: string, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let at = 0;
  while (at < length) {
    const n = await file.read(out.subarray(at));
    if (n === null) throw new Error(`Cannot read ${path}: it ended after ${at} of ${length} bytes (truncated?)`);
    at += n;
  }
  return out;
}

/**
 * Reads a whole regular file whose size is at most `maxBytes`, checking the size before reading.
 *
 * @param path The file.
 * @param maxBytes The largest size accepted.
 * @returns The file's bytes.
 * @throws {Error} Naming the path: not a regular file, larger than `maxBytes`, or changing size while read.
 *
 * @example Usage
 * ```ts
 * import { readFileBounded } from "./files.ts";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "hello");
 * assert.equal((await readFileBounded(path, 16)).length, 5);
 * await assert.rejects(() => readFileBounded(path, 4), /larger than/);
 * await assert.rejects(() => readFileBounded("/dev/zero", 16), /not a regular file/);
 * await Deno.remove(path);
 * ```
 */
export async function readFileBounded(path: string, maxBytes: number): Promise<Uint8Array> {
  const { file, size } = await openRegularFile(path);
  try {
    if (size > maxBytes) {
      throw new Error(`Cannot read ${path}: its ${size} bytes are larger than the ${maxBytes} allowed`);
    }
    const bytes = await readExactly(file, path, size);
    if ((await file.read(new Uint8Array(1))) !== null) throw new Error(`Cannot read ${path}: it grew while being read`);
    return bytes;
  } finally {
    file.close();
  }
}

/**
 * The synchronous `readFileBounded`, for readers that must stay synchronous (config files): a regular
 * file of at most `maxBytes`, checked before it is read.
 *
 * @throws {Error} Naming the path: missing, not a regular file, or larger than `maxBytes`.
 */
export function readFileBoundedSync(path: string, maxBytes: number): Uint8Array {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch (e) {
    throw fileError("read", path, e instanceof Deno.errors.NotFound ? new Deno.errors.NotFound("no such file") : e);
  }
  if (!info.isFile) throw new Error(`Cannot read ${path}: it is ${describeKind(info)}, not a regular file`);
  if (info.size > maxBytes) {
    throw new Error(`Cannot read ${path}: its ${info.size} bytes are larger than the ${maxBytes} allowed`);
  }
  using file = Deno.openSync(path, { read: true });
  const size = file.statSync().size;
  if (!file.statSync().isFile || size > maxBytes) throw new Error(`Cannot read ${path}: it changed while being opened`);
  const out = new Uint8Array(size);
  for (let at = 0; at < size;) {
    const n = file.readSync(out.subarray(at));
    if (n === null) throw new Error(`Cannot read ${path}: it ended after ${at} of ${size} bytes`);
    at += n;
  }
  return out;
}

/** A name for a temporary sibling of `path` that no other writer picks. */
export function tempSibling(path: string): string {
  const tag = `${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  return join(dirname(path), `.${basename(path)}.tmp-${tag}`);
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

/** Bytes, a string (written as UTF-8), or parts written one after another. */
export type FileContent = Uint8Array | string | readonly Uint8Array[];

function parts(data: FileContent): readonly Uint8Array[] {
  if (typeof data === "string") return [new TextEncoder().encode(data)];
  return data instanceof Uint8Array ? [data] : data;
}

/**
 * Creates `path` (which must not exist) with `data` and fsyncs it, without a rename: for files
 * inside a temporary directory that is itself renamed into place.
 *
 * @throws {Error} Naming the path, e.g. when the disk is full.
 */
export async function writeFileSynced(path: string, data: FileContent): Promise<void> {
  try {
    await writeNew(path, data);
  } catch (e) {
    throw fileError("write", path, e);
  }
}

async function writeNew(path: string, data: FileContent): Promise<void> {
  using file = await Deno.open(path, { write: true, createNew: true });
  for (const p of parts(data)) {
    let done = 0;
    while (done < p.length) done += await file.write(p.subarray(done));
  }
  await file.sync();
}

/**
 * Replaces `path` with `data` atomically: readers see the old content or the new, never a part,
 * and a failed write (a full disk) leaves no temporary file behind.
 *
 * @param path The file to write; its directory must exist.
 * @param data Bytes, a string written as UTF-8, or parts written one after another.
 * @throws {Error} Naming `path` and the cause, e.g. "Cannot write /runs/a/report.md: No space left on device".
 *
 * @example Usage
 * ```ts
 * import { writeFileAtomic } from "./files.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await writeFileAtomic(`${dir}/a.txt`, "one");
 * await writeFileAtomic(`${dir}/a.txt`, [new TextEncoder().encode("tw"), new TextEncoder().encode("o")]);
 * assert.equal(await Deno.readTextFile(`${dir}/a.txt`), "two");
 * assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["a.txt"]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeFileAtomic(path: string, data: FileContent): Promise<void> {
  const tmp = tempSibling(path);
  try {
    await writeNew(tmp, data);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw fileError("write", path, e);
  }
  await syncDir(dirname(path));
}
