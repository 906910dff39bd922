/**
 * Internal file reading for the dataset formats: a byte stream over a plain or gzip file that reads
 * exactly what is asked for, and names the file in every error.
 *
 * @module
 */
import { openRegularFile } from "../torch/files.ts";
import { DataFileError } from "./dataset.ts";

/**
 * Opens `path` after checking that it is a regular file (no directory, device or FIFO: opening a
 * FIFO would block), turning every failure into a DataFileError naming it.
 */
export async function openFile(path: string): Promise<Deno.FsFile> {
  try {
    return (await openRegularFile(path)).file;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new DataFileError(path, "no such file", { cause: e });
    throw new DataFileError(path, (e as Error).message.replace(`Cannot read ${path}: `, ""), { cause: e });
  }
}

/** Reads a whole regular file of at most `maxBytes` bytes (checked before reading), naming it in errors. */
export async function readWhole(path: string, maxBytes = Number.MAX_SAFE_INTEGER): Promise<Uint8Array> {
  using f = await openFile(path);
  const size = (await f.stat()).size;
  if (size > maxBytes) throw new DataFileError(path, `its ${size} bytes are more than the ${maxBytes} expected`);
  const out = new Uint8Array(size);
  let at = 0;
  while (at < size) {
    const n = await f.read(out.subarray(at));
    if (n === null) throw new DataFileError(path, `file shrank while reading: ${at} of ${size} bytes`);
    at += n;
  }
  return out;
}

/** Sequential reads from a plain or gzip (name ending in .gz) file. */
export class ByteStream {
  readonly path: string;
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #consumed = 0;
  #done = false;

  private constructor(path: string, reader: ReadableStreamDefaultReader<Uint8Array>) {
    this.path = path;
    this.#reader = reader;
  }

  /** Opens a regular file; gzip (a name ending in .gz) is decompressed on the fly, chunk by chunk, as read. */
  static async open(path: string): Promise<ByteStream> {
    const file = await openFile(path);
    const raw = file.readable;
    const stream = path.endsWith(".gz") ? raw.pipeThrough(new DecompressionStream("gzip")) : raw;
    return new ByteStream(path, stream.getReader());
  }

  /**
   * The size of the data once decompressed, as far as it is known without reading it: a plain
   * file's size, or a gzip file's trailer (ISIZE, the size modulo 2^32, with `modulo` true).
   */
  async declaredSize(): Promise<{ bytes: number; modulo: boolean }> {
    using f = await openFile(this.path);
    const size = (await f.stat()).size;
    if (!this.path.endsWith(".gz")) return { bytes: size, modulo: false };
    if (size < 18) throw new DataFileError(this.path, `truncated: ${size} bytes is no gzip file`);
    await f.seek(size - 4, Deno.SeekMode.Start);
    const tail = new Uint8Array(4);
    let at = 0;
    while (at < 4) at += (await f.read(tail.subarray(at))) ?? 4;
    return { bytes: new DataView(tail.buffer).getUint32(0, true), modulo: true };
  }

  async #pull(): Promise<boolean> {
    if (this.#done) return false;
    let r: ReadableStreamReadResult<Uint8Array>;
    try {
      r = await this.#reader.read();
    } catch (e) {
      this.#done = true;
      throw new DataFileError(this.path, `corrupt or truncated data (${(e as Error).message})`, { cause: e });
    }
    if (r.done) {
      this.#done = true;
      return false;
    }
    this.#chunks.push(r.value);
    this.#buffered += r.value.length;
    return true;
  }

  /** Exactly `n` bytes, or a DataFileError saying the file ends early (`what` names the expected content). */
  async take(n: number, what: string): Promise<Uint8Array> {
    while (this.#buffered < n) {
      if (!(await this.#pull())) {
        throw new DataFileError(
          this.path,
          `truncated: ${what} needs ${n} bytes at offset ${this.#consumed}, but only ${this.#buffered} remain`,
        );
      }
    }
    const out = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      const c = this.#chunks[0];
      const k = Math.min(c.length, n - at);
      out.set(c.subarray(0, k), at);
      at += k;
      if (k === c.length) this.#chunks.shift();
      else this.#chunks[0] = c.subarray(k);
    }
    this.#buffered -= n;
    this.#consumed += n;
    return out;
  }

  /**
   * Whether the data ends here: reads at most one more chunk (a gzip file is not inflated further),
   * so trailing garbage of any size is found without holding it in memory.
   */
  async atEnd(): Promise<boolean> {
    while (this.#buffered === 0) if (!(await this.#pull())) return true; // (skipping empty chunks)
    return false;
  }

  /** Releases the file. */
  async close(): Promise<void> {
    if (!this.#done) await this.#reader.cancel().catch(() => {});
    this.#reader.releaseLock();
  }
}

/** Checks an optional item limit. */
export function checkLimit(limit: number | undefined): void {
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0)) {
    throw new RangeError(`Dataset limit must be a non-negative integer, got ${limit}`);
  }
}
