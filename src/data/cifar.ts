/**
 * CIFAR-10 and CIFAR-100 from their binary versions: fixed-size records of label byte(s) followed by
 * 3072 pixel bytes (1024 red, 1024 green, 1024 blue, each 32×32 row-major).
 *
 * @module
 */
import { scope, tensor } from "../torch/mod.ts";
import { checkLimit, readWhole } from "./_io.ts";
import { DataFileError, TensorDataset } from "./dataset.ts";

const PIXELS = 3 * 32 * 32;

/** Options of `cifar10` and `cifar100`. */
export interface CifarOptions {
  /** Folder of the binary batches (`cifar-10-batches-bin` or `cifar-100-binary`). */
  dir: string;
  /** "train" (50,000 images) or "test" (10,000). @default "train" */
  split?: "train" | "test";
  /** Keep only the first `limit` samples. @default all */
  limit?: number;
}

const CIFAR10_CLASSES = [
  "airplane",
  "automobile",
  "bird",
  "cat",
  "deer",
  "dog",
  "frog",
  "horse",
  "ship",
  "truck",
];

/** Reads records of `labelBytes` + 3072 bytes from the files; label `labelIndex` must be below `classes`. */
async function readRecords(
  paths: readonly string[],
  labelBytes: number,
  labelIndex: number,
  classes: number,
  limit: number | undefined,
): Promise<{ pixels: Uint8Array; labels: Uint8Array }> {
  checkLimit(limit);
  const record = labelBytes + PIXELS;
  const parts: { bytes: Uint8Array; path: string }[] = [];
  let total = 0;
  for (const path of paths) {
    if (limit !== undefined && total >= limit) break;
    const bytes = await readWhole(path);
    if (bytes.length === 0 || bytes.length % record !== 0) {
      throw new DataFileError(
        path,
        `size ${bytes.length} bytes is not a whole number of ${record}-byte records (${labelBytes} label + ${PIXELS} pixel bytes)`,
      );
    }
    parts.push({ bytes, path });
    total += bytes.length / record;
  }
  const n = Math.min(total, limit ?? total);
  const pixels = new Uint8Array(n * PIXELS);
  const labels = new Uint8Array(n);
  let i = 0;
  for (const { bytes, path } of parts) {
    for (let r = 0; r < bytes.length / record && i < n; r++, i++) {
      const label = bytes[r * record + labelIndex];
      if (label >= classes) throw new DataFileError(path, `record ${r} has label ${label}, not below ${classes}`);
      labels[i] = label;
      pixels.set(bytes.subarray(r * record + labelBytes, (r + 1) * record), i * PIXELS);
    }
  }
  return { pixels, labels };
}

function dataset(pixels: Uint8Array, labels: Uint8Array, classes: readonly string[]): TensorDataset {
  return scope(() =>
    new TensorDataset(
      tensor(pixels, { shape: [labels.length, 3, 32, 32] }),
      tensor(labels, { dtype: "int64" }),
      classes,
    )
  );
}

/**
 * CIFAR-10: `data_batch_1.bin` … `data_batch_5.bin` (train) or `test_batch.bin` (test), records of
 * 1 label byte + 3072 pixel bytes.
 *
 * @param options Folder, split and limit.
 * @returns uint8 images [N, 3, 32, 32] and int64 labels, on the CPU.
 * @throws {DataFileError} For a missing file, a size that is not a whole number of records, or a label ≥ 10.
 *
 * @example Usage
 * ```ts
 * import { cifar10 } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const record = new Uint8Array(1 + 3072);
 * record[0] = 7; // the label byte, then 3072 pixel bytes
 * await Deno.writeFile(`${dir}/test_batch.bin`, record);
 * const test = await cifar10({ dir, split: "test" });
 * assert.deepEqual(test.images.shape, [1, 3, 32, 32]);
 * assert.deepEqual(test.labels!.toArray(), [7]);
 * test.dispose();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function cifar10(options: CifarOptions): Promise<TensorDataset> {
  const files = (options.split ?? "train") === "train"
    ? [1, 2, 3, 4, 5].map((i) => `${options.dir}/data_batch_${i}.bin`)
    : [`${options.dir}/test_batch.bin`];
  const { pixels, labels } = await readRecords(files, 1, 0, 10, options.limit);
  return dataset(pixels, labels, CIFAR10_CLASSES);
}

/**
 * CIFAR-100: `train.bin` or `test.bin`, records of a coarse label byte (20 superclasses), a fine
 * label byte (100 classes) and 3072 pixel bytes.
 *
 * @param options Folder, split, limit, and which label to keep. @default label "fine"
 * @returns uint8 images [N, 3, 32, 32] and int64 labels, on the CPU (class names are the indices).
 * @throws {DataFileError} For a missing file, a size that is not a whole number of records, or a label out of range.
 *
 * @example Usage
 * ```ts
 * import { cifar100 } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const record = new Uint8Array(2 + 3072);
 * [record[0], record[1]] = [3, 42]; // coarse label, fine label, then the pixels
 * await Deno.writeFile(`${dir}/test.bin`, record);
 * const fine = await cifar100({ dir, split: "test" });
 * const coarse = await cifar100({ dir, split: "test", label: "coarse" });
 * assert.deepEqual([fine.labels!.toArray(), coarse.labels!.toArray()], [[42], [3]]);
 * [fine, coarse].forEach((d) => d.dispose());
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function cifar100(options: CifarOptions & { label?: "fine" | "coarse" }): Promise<TensorDataset> {
  const fine = (options.label ?? "fine") === "fine";
  const file = `${options.dir}/${(options.split ?? "train") === "train" ? "train" : "test"}.bin`;
  const classes = fine ? 100 : 20;
  const { pixels, labels } = await readRecords([file], 2, fine ? 1 : 0, classes, options.limit);
  return dataset(pixels, labels, Array.from({ length: classes }, (_, i) => `${i}`));
}
