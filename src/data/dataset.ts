/**
 * The two kinds of dataset a `Loader` reads: a `TensorDataset` held whole as uint8 tensors (on the
 * CPU or the training device), and a `StreamingDataset` that reads batches of records from disk on
 * demand. `DataFileError` is what every format reader throws for a missing or malformed file.
 *
 * Shape letters: N samples, C channels, H/W size, B batch.
 *
 * @module
 */
import { type Device, keep, scope, type Tensor } from "../torch/mod.ts";

/**
 * A dataset file that is missing, truncated or malformed. The message names the file and the problem.
 *
 * @example Usage
 * ```ts
 * import { DataFileError, fashionMnist } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * await assert.rejects(() => fashionMnist({ dir: "/nonexistent" }), DataFileError);
 * ```
 */
export class DataFileError extends Error {
  /** The offending file. */
  readonly path: string;

  /**
   * An error about `path`.
   *
   * @param path The file.
   * @param problem What is wrong with it, e.g. "has magic 0x00000801 but IDX images need 0x00000803".
   * @param options The underlying error, if any.
   */
  constructor(path: string, problem: string, options?: ErrorOptions) {
    super(`Cannot read ${path}: ${problem}`, options);
    this.name = "DataFileError";
    this.path = path;
  }
}

/** Images (and labels) copied to the host, as a streaming dataset returns them. */
export interface HostBatch {
  /** uint8 pixels [B, C, H, W], row-major; [B, H, W, C] when `channelsLast`. */
  images: Uint8Array;
  /** The pixels are interleaved, [B, H, W, C] (as image decoders write them). @default false */
  channelsLast?: boolean;
  /** Class indices [B], or null for unlabeled data. */
  labels: Int32Array | null;
  /**
   * Each image's [height, width] at the top-left of its [H, W] canvas, row-major [B, 2] (an image
   * folder's whole photographs, letterboxed); absent or null when every image fills the canvas.
   */
  sizes?: Int32Array | null;
}

/** A dataset too large to hold in memory: records read from disk by index, off the main thread. */
export interface StreamingDataset {
  /** Number of samples. */
  readonly length: number;
  /** [C, H, W] of every image. */
  readonly imageShape: readonly [number, number, number];
  /** Class names, or null for unlabeled data. */
  readonly classes: readonly string[] | null;
  /** Reads the samples at `indices`, in that order. */
  read(indices: readonly number[]): Promise<HostBatch>;
  /** Releases files and threads. */
  close(): void;
}

/**
 * A dataset held whole as tensors: uint8 images [N, C, H, W] and optional int64 labels [N]. It owns
 * its tensors (no scope frees them): call `dispose()` when done.
 *
 * @example Usage
 * ```ts
 * import { TensorDataset, zeros } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * using ds = new TensorDataset(zeros([10, 1, 4, 4], { dtype: "uint8" }), zeros([10], { dtype: "int64" }));
 * assert.equal(ds.length, 10);
 * assert.deepEqual(ds.imageShape, [1, 4, 4]);
 * ```
 */
export class TensorDataset {
  /** uint8 images [N, C, H, W]. */
  readonly images: Tensor;
  /** int64 labels [N], or null. */
  readonly labels: Tensor | null;
  /** Class names, or null. */
  readonly classes: readonly string[] | null;

  /**
   * Takes ownership of the tensors.
   *
   * @param images uint8 [N, C, H, W].
   * @param labels int64 [N], or null.
   * @param classes Class names, or null.
   * @throws {TypeError} On a wrong dtype or shape.
   */
  constructor(images: Tensor, labels: Tensor | null = null, classes: readonly string[] | null = null) {
    const s = images.shape;
    if (images.dtype !== "uint8" || s.length !== 4) {
      throw new TypeError(`A TensorDataset needs uint8 images [N, C, H, W], got ${images.dtype} [${s.join(", ")}]`);
    }
    if (labels !== null && (labels.dtype !== "int64" || labels.ndim !== 1 || labels.size(0) !== s[0])) {
      throw new TypeError(
        `A TensorDataset needs int64 labels [${s[0]}], got ${labels.dtype} [${labels.shape.join(", ")}]`,
      );
    }
    this.images = keep(images);
    this.labels = labels === null ? null : keep(labels);
    this.classes = classes;
  }

  /** Number of samples. */
  get length(): number {
    return this.images.size(0);
  }
  /** [C, H, W]. */
  get imageShape(): [number, number, number] {
    const [, c, h, w] = this.images.shape;
    return [c, h, w];
  }
  /** Where the tensors live. */
  get device(): Device {
    return this.images.device;
  }

  /** A copy on `device` (new handles to the same tensors when already there); dispose both. */
  to(device: Device): TensorDataset {
    return scope(() =>
      new TensorDataset(this.images.to({ device }), this.labels?.to({ device }) ?? null, this.classes)
    );
  }

  /** Samples `start` to `end` (exclusive) as a new dataset sharing this one's memory. */
  slice(start: number, end: number = this.length): TensorDataset {
    if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start <= end && end <= this.length)) {
      throw new RangeError(`Cannot slice [${start}, ${end}) from a dataset of ${this.length} samples`);
    }
    return scope(() =>
      new TensorDataset(
        this.images.narrow(0, start, end - start),
        this.labels?.narrow(0, start, end - start) ?? null,
        this.classes,
      )
    );
  }

  /** Frees the tensors. */
  dispose(): void {
    this.images.dispose();
    this.labels?.dispose();
  }
  /** Frees the tensors at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}
