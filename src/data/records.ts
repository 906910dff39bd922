/**
 * `RecordDataset`: a streaming dataset over files of fixed-size uint8 image records (STL-10's
 * binaries, unigrad's tensor shards). Reads run in a worker thread, so a `Loader` that prefetches
 * keeps the disk busy while the main thread trains.
 *
 * @module
 */
import { scope, tensor } from "../torch/mod.ts";
import { DataFileError, type HostBatch, type StreamingDataset, TensorDataset } from "./dataset.ts";
import type { ReadReply, ReadRequest } from "./_record_worker.ts";

/** One file of records: where they start and how many there are. */
export interface RecordFile {
  /** The file. */
  path: string;
  /** Bytes before the first record (a header). */
  offset: number;
  /** Number of records. */
  count: number;
}

/** What a record dataset is made of. */
export interface RecordDatasetOptions {
  /** The files, in sample order. */
  files: readonly RecordFile[];
  /** [C, H, W] of every image. */
  imageShape: readonly [number, number, number];
  /** One label per sample, or null. @default null */
  labels?: Int32Array | null;
  /** Class names, or null. @default null */
  classes?: readonly string[] | null;
  /** Records store each channel column-major ([C, W, H], as STL-10 does). @default false */
  columnMajor?: boolean;
}

/**
 * Fixed-size records read by index in a worker thread. Open with `RecordDataset.open`, which checks
 * every file's size; `close()` stops the worker.
 *
 * @example Usage
 * ```ts
 * import { RecordDataset } from "@unigrad/unigrad/data";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * await Deno.writeFile(path, Uint8Array.from({ length: 3 * 4 }, (_, i) => i)); // three 1×2×2 images
 * const data = await RecordDataset.open({ files: [{ path, offset: 0, count: 3 }], imageShape: [1, 2, 2] });
 * const batch = await data.read([2]);
 * assert.deepEqual([...batch.images], [8, 9, 10, 11]);
 * data.close();
 * await Deno.remove(path);
 * ```
 */
export class RecordDataset implements StreamingDataset {
  /** Number of samples. */
  readonly length: number;
  /** [C, H, W]. */
  readonly imageShape: readonly [number, number, number];
  /** Class names, or null. */
  readonly classes: readonly string[] | null;
  #o: RecordDatasetOptions;
  #starts: number[];
  #worker: Worker | null = null;
  #pending = new Map<number, { resolve: (b: ArrayBuffer) => void; reject: (e: Error) => void }>();
  #next = 0;

  private constructor(options: RecordDatasetOptions) {
    this.#o = options;
    this.imageShape = options.imageShape;
    this.classes = options.classes ?? null;
    this.#starts = [];
    let n = 0;
    for (const f of options.files) {
      this.#starts.push(n);
      n += f.count;
    }
    this.length = n;
  }

  /**
   * Opens the files' dataset after checking that each file holds exactly `offset + count · record` bytes.
   *
   * @throws {DataFileError} For a missing file or a size that does not match.
   * @throws {TypeError} When the labels do not match the number of records.
   */
  static async open(options: RecordDatasetOptions): Promise<RecordDataset> {
    const record = options.imageShape.reduce((a, b) => a * b, 1);
    for (const f of options.files) {
      let size: number;
      try {
        size = (await Deno.stat(f.path)).size;
      } catch (e) {
        throw new DataFileError(f.path, "no such file", { cause: e });
      }
      const want = f.offset + f.count * record;
      if (size !== want) {
        throw new DataFileError(
          f.path,
          `size ${size} bytes does not match ${f.count} records of ${record} bytes after ${f.offset} header bytes (${want})`,
        );
      }
    }
    const ds = new RecordDataset(options);
    if (options.labels && options.labels.length !== ds.length) {
      throw new TypeError(`Cannot open a record dataset of ${ds.length} samples with ${options.labels.length} labels`);
    }
    return ds;
  }

  #start(): Worker {
    if (this.#worker) return this.#worker;
    const w = new Worker(new URL("./_record_worker.ts", import.meta.url).href, { type: "module" });
    w.onmessage = (e: MessageEvent<ReadReply>) => {
      const p = this.#pending.get(e.data.id);
      this.#pending.delete(e.data.id);
      if (!p) return;
      if ("bytes" in e.data) p.resolve(e.data.bytes);
      else p.reject(new DataFileError(e.data.path, e.data.error));
    };
    w.onerror = (e) => {
      e.preventDefault();
      for (const p of this.#pending.values()) p.reject(new Error(`Record reader thread failed: ${e.message}`));
      this.#pending.clear();
    };
    return this.#worker = w;
  }

  /** Reads the samples at `indices` (any order, repeats allowed) in the worker thread. */
  read(indices: readonly number[]): Promise<HostBatch> {
    const items = new Int32Array(2 * indices.length);
    const labels = this.#o.labels ? new Int32Array(indices.length) : null;
    for (let i = 0; i < indices.length; i++) {
      const k = indices[i];
      if (!(Number.isInteger(k) && k >= 0 && k < this.length)) {
        return Promise.reject(new RangeError(`Sample index ${k} is out of range for ${this.length} samples`));
      }
      let f = this.#starts.length - 1;
      while (this.#starts[f] > k) f--; // few files: a linear scan is enough
      items[2 * i] = f;
      items[2 * i + 1] = k - this.#starts[f];
      if (labels) labels[i] = this.#o.labels![k];
    }
    const id = this.#next++;
    const [c, h, w] = this.imageShape;
    const req: ReadRequest = {
      id,
      files: this.#o.files.map((f) => f.path),
      offsets: this.#o.files.map((f) => f.offset),
      recordBytes: c * h * w,
      items,
      transpose: this.#o.columnMajor ? [c, w, h] : null,
    };
    return new Promise<ArrayBuffer>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#start().postMessage(req, [items.buffer]);
    }).then((bytes) => ({ images: new Uint8Array(bytes), labels }));
  }

  /** Reads every sample into a `TensorDataset` on the CPU. */
  async load(): Promise<TensorDataset> {
    const { images, labels } = await this.read(Array.from({ length: this.length }, (_, i) => i));
    return scope(() =>
      new TensorDataset(
        tensor(images, { shape: [this.length, ...this.imageShape] }),
        labels ? tensor(labels, { dtype: "int64" }) : null,
        this.classes,
      )
    );
  }

  /** Stops the worker thread (pending reads are rejected). */
  close(): void {
    if (this.#worker) {
      this.#worker.terminate();
      this.#worker = null;
    }
    for (const p of this.#pending.values()) p.reject(new Error("The record dataset was closed"));
    this.#pending.clear();
  }
  /** Closes at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.close();
  }
}
