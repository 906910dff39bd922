/**
 * MNIST and Fashion-MNIST from their IDX files (plain or .gz): a 4-byte magic (0, 0, type 0x08 =
 * unsigned byte, rank), one big-endian uint32 per dimension, then the data.
 *
 * @module
 */
import { scope, tensor } from "../torch/mod.ts";
import { ByteStream, checkLimit } from "./_io.ts";
import { DataFileError, TensorDataset } from "./dataset.ts";

/** An IDX array: its dimensions (the first possibly cut by `limit`) and its bytes. */
export interface IdxArray {
  /** Dimensions, e.g. [60000, 28, 28]. */
  dims: number[];
  /** The values, row-major. */
  data: Uint8Array;
}

/** IDX magic of image files (uint8, rank 3). */
export const IDX_IMAGES = 0x00000803;
/** IDX magic of label files (uint8, rank 1). */
export const IDX_LABELS = 0x00000801;

const hex = (v: number) => `0x${v.toString(16).padStart(8, "0")}`;

/**
 * Reads an IDX file of unsigned bytes, checking its magic number, its dimensions (none zero, total
 * within reach) and that its size matches the header: exactly, by reading to the end, without a
 * limit; against the file size (or, for gzip, the trailer's size) with one. A gzip file is
 * decompressed as it is read and reading stops at the size the header declares: trailing bytes are
 * refused without being inflated.
 *
 * @param path The file (.gz is decompressed).
 * @param options `magic` to require (e.g. `IDX_IMAGES`); `limit` to read only the first items.
 * @returns The dimensions and bytes.
 * @throws {DataFileError} For a missing or truncated file, a wrong magic, zero or overflowing
 *   dimensions, or a size that does not match the header.
 */
export async function readIdx(path: string, options: { magic?: number; limit?: number } = {}): Promise<IdxArray> {
  checkLimit(options.limit);
  const s = await ByteStream.open(path);
  try {
    const head = await s.take(4, "the IDX magic number");
    const magic = new DataView(head.buffer).getUint32(0, false);
    if (options.magic !== undefined && magic !== options.magic) {
      throw new DataFileError(path, `has magic ${hex(magic)} but expected ${hex(options.magic)}`);
    }
    if (head[0] !== 0 || head[1] !== 0 || head[2] !== 0x08 || head[3] === 0) {
      throw new DataFileError(path, `has magic ${hex(magic)}, not an IDX file of unsigned bytes (0x000008nn)`);
    }
    const rank = head[3];
    const dimBytes = await s.take(4 * rank, `the header's ${rank} dimensions`);
    const view = new DataView(dimBytes.buffer);
    const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 * i, false));
    const total = dims.reduce((a, b) => a * b, 1);
    if (dims.slice(1).includes(0) || !Number.isSafeInteger(4 + 4 * rank + total)) {
      throw new DataFileError(path, `has dimensions [${dims.join(", ")}] in its header: a zero or overflowing size`);
    }
    await checkDeclaredSize(s, 4 + 4 * rank + total, dims);
    const item = total / (dims[0] || 1);
    const count = Math.min(dims[0], options.limit ?? dims[0]);
    const data = await s.take(count * item, `${count} items of [${dims.slice(1).join(", ")}] from the header`);
    if (count === dims[0] && !(await s.atEnd())) {
      throw new DataFileError(
        path,
        `has bytes after the ${dims[0]} items of [${dims.slice(1).join(", ")}] that the header describes`,
      );
    }
    return { dims: [count, ...dims.slice(1)], data };
  } finally {
    await s.close();
  }
}

/** Compares the size the header implies with the file's size (or its gzip trailer's), before reading the data. */
async function checkDeclaredSize(s: ByteStream, want: number, dims: number[]): Promise<void> {
  const { bytes, modulo } = await s.declaredSize();
  if (bytes === (modulo ? want % 2 ** 32 : want)) return;
  const what = modulo ? `its gzip trailer records ${bytes} bytes (mod 2^32) uncompressed` : `it has ${bytes} bytes`;
  throw new DataFileError(s.path, `the header's dimensions [${dims.join(", ")}] need ${want} bytes but ${what}`);
}

/** Options of `mnist` and `fashionMnist`. */
export interface MnistOptions {
  /** Folder holding the four IDX files (plain or .gz). @default /usr/share/datasets/fashion-mnist for fashionMnist */
  dir?: string;
  /** "train" (60,000 images) or "test" (10,000). @default "train" */
  split?: "train" | "test";
  /** Read only the first `limit` samples. @default all */
  limit?: number;
}

async function existing(path: string): Promise<string> {
  for (const p of [path, `${path}.gz`]) {
    try {
      await Deno.stat(p);
      return p;
    } catch { /* try the next name */ }
  }
  throw new DataFileError(`${path}.gz`, `no such file (nor ${path})`);
}

const FASHION_CLASSES = [
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
];

/**
 * MNIST-format digits: `{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]` in `dir`, as uint8
 * images [N, 1, 28, 28] and int64 labels.
 *
 * @param options Folder, split and limit.
 * @param classes Class names. @default "0" to "9"
 * @returns The dataset (on the CPU).
 * @throws {DataFileError} For missing or malformed files, or image and label counts that differ.
 */
export async function mnist(
  options: MnistOptions & { dir: string },
  classes: readonly string[] = Array.from({ length: 10 }, (_, i) => `${i}`),
): Promise<TensorDataset> {
  const prefix = (options.split ?? "train") === "train" ? "train" : "t10k";
  const imagePath = await existing(`${options.dir}/${prefix}-images-idx3-ubyte`);
  const labelPath = await existing(`${options.dir}/${prefix}-labels-idx1-ubyte`);
  const images = await readIdx(imagePath, { magic: IDX_IMAGES, limit: options.limit });
  const labels = await readIdx(labelPath, { magic: IDX_LABELS, limit: options.limit });
  if (labels.dims[0] !== images.dims[0]) {
    throw new DataFileError(labelPath, `has ${labels.dims[0]} labels but ${imagePath} has ${images.dims[0]} images`);
  }
  const bad = labels.data.findIndex((l) => l >= classes.length);
  if (bad >= 0) {
    throw new DataFileError(labelPath, `label ${labels.data[bad]} at ${bad} is not below ${classes.length}`);
  }
  const [n, h, w] = images.dims;
  return scope(() =>
    new TensorDataset(
      tensor(images.data, { shape: [n, 1, h, w] }),
      tensor(labels.data, { dtype: "int64" }),
      classes,
    )
  );
}

/**
 * Fashion-MNIST (Zalando): 28×28 grayscale clothing in 10 classes, read from Debian's
 * `dataset-fashion-mnist` package by default.
 *
 * @param options Folder, split and limit.
 * @returns The dataset (on the CPU): uint8 images [N, 1, 28, 28], int64 labels.
 * @throws {DataFileError} For missing or malformed files.
 *
 * @example Usage
 * ```ts
 * import { fashionMnist } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * using ds = await fashionMnist({ split: "test", limit: 16 });
 * assert.deepEqual(ds.images.shape, [16, 1, 28, 28]);
 * assert.equal(ds.classes![9], "Ankle boot");
 * ```
 */
export function fashionMnist(options: MnistOptions = {}): Promise<TensorDataset> {
  return mnist({ ...options, dir: options.dir ?? "/usr/share/datasets/fashion-mnist" }, FASHION_CLASSES);
}
