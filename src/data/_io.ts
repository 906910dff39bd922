/**
 * Internal file reading for the dataset formats: a byte stream over a plain or gzip file that reads
 * exactly what is asked for, and names the file in every error.
 *
 * @module
 */
import { DataFileError } from "./dataset.ts";

/** Opens `path`, turning a missing file into a DataFileError. */
export async function openFile(path: string): Promise<Deno.FsFile> {
  try {
    return await Deno.open(path, { read: true });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new DataFileError(path, "no such file", { cause: e });
    throw new DataFileError(path, (e as Error).message, { cause: e });
  }
}

/** Reads a whole plain file, naming it in errors. */
export async function readWhole(path: string): Promise<Uint8Array> {
  using f = await openFile(path);
  const size = (await f.stat()).size;
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

  /** Opens a file; gzip is decompressed on the fly (native zlib in the runtime). */
  static async open(path: string): Promise<ByteStream> {
    const file = await openFile(path);
    const raw = file.readable;
    const stream = path.endsWith(".gz") ? raw.pipeThrough(new DecompressionStream("gzip")) : raw;
    return new ByteStream(path, stream.getReader());
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

  /** Number of bytes left after reading to the end. */
  async remaining(): Promise<number> {
    while (await this.#pull()) { /* read everything */ }
    return this.#buffered;
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
