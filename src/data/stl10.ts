/**
 * STL-10 from its binary version (`stl10_binary/`): `{train,test,unlabeled}_X.bin` hold 96×96 RGB
 * images of 27,648 bytes each, every channel stored column-major; `{train,test}_y.bin` hold one label
 * byte (1–10) per image. Train and test (5,000 and 8,000 images) fit in memory; the unlabeled split
 * (100,000 images, 2.7 GB) streams with `stl10Stream`.
 *
 * @module
 */
import { scope, tensor } from "../torch/mod.ts";
import { checkLimit, openFile, readWhole } from "./_io.ts";
import { DataFileError, TensorDataset } from "./dataset.ts";
import { RecordDataset } from "./records.ts";

const SIDE = 96;
const RECORD = 3 * SIDE * SIDE;
const CLASSES = ["airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship", "truck"];

/** Options of `stl10` and `stl10Stream`. */
export interface Stl10Options {
  /** The `stl10_binary` folder. */
  dir: string;
  /** "train" (5,000 labeled), "test" (8,000 labeled) or "unlabeled" (100,000). @default "train" */
  split?: "train" | "test" | "unlabeled";
  /** Read only the first `limit` samples (stl10 only). @default all */
  limit?: number;
}

/** Image count of an X file, checking that its size is a whole number of records. */
async function countImages(path: string): Promise<number> {
  let size: number;
  try {
    size = (await Deno.stat(path)).size;
  } catch (e) {
    throw new DataFileError(path, "no such file", { cause: e });
  }
  if (size === 0 || size % RECORD !== 0) {
    throw new DataFileError(path, `size ${size} bytes is not a whole number of ${RECORD}-byte 96×96 RGB images`);
  }
  return size / RECORD;
}

/** Labels 1–10 of a y file as 0–9, checking the count against the images'. */
async function readLabels(path: string, images: number, imagePath: string): Promise<Int32Array> {
  const bytes = await readWhole(path);
  if (bytes.length !== images) {
    throw new DataFileError(path, `has ${bytes.length} labels but ${imagePath} has ${images} images`);
  }
  const bad = bytes.findIndex((b) => b < 1 || b > 10);
  if (bad >= 0) throw new DataFileError(path, `label ${bytes[bad]} at ${bad} is not in 1–10`);
  return Int32Array.from(bytes, (b) => b - 1);
}

/**
 * An STL-10 split held in memory: uint8 images [N, 3, 96, 96] (row-major, unlike the files) and
 * int64 labels 0–9 (none for "unlabeled").
 *
 * @param options Folder, split and limit.
 * @returns The dataset, on the CPU.
 * @throws {DataFileError} For missing files, sizes that are not whole images, label counts that differ, or labels outside 1–10.
 *
 * @example Usage
 * ```ts
 * import { stl10 } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeFile(`${dir}/test_X.bin`, new Uint8Array(2 * 27648)); // two 96×96 RGB images
 * await Deno.writeFile(`${dir}/test_y.bin`, new Uint8Array([1, 10])); // labels 1–10 on disk
 * const test = await stl10({ dir, split: "test" });
 * assert.deepEqual(test.images.shape, [2, 3, 96, 96]);
 * assert.deepEqual(test.labels!.toArray(), [0, 9]);
 * test.dispose();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function stl10(options: Stl10Options): Promise<TensorDataset> {
  checkLimit(options.limit);
  const split = options.split ?? "train";
  const xPath = `${options.dir}/${split}_X.bin`;
  const total = await countImages(xPath);
  const n = Math.min(total, options.limit ?? total);
  const labels = split === "unlabeled" ? null : (await readLabels(`${options.dir}/${split}_y.bin`, total, xPath));
  const pixels = new Uint8Array(n * RECORD);
  {
    using f = await openFile(xPath);
    let at = 0;
    while (at < pixels.length) {
      const k = await f.read(pixels.subarray(at));
      if (k === null) throw new DataFileError(xPath, `truncated after ${at} bytes`);
      at += k;
    }
  }
  return scope(() =>
    new TensorDataset(
      tensor(pixels, { shape: [n, 3, SIDE, SIDE] }).transpose(2, 3).contiguous(), // stored [N, C, W, H]
      labels ? tensor(labels.subarray(0, n), { dtype: "int64" }) : null,
      labels ? CLASSES : null,
    )
  );
}

/**
 * An STL-10 split streamed from disk (records read by index in a worker thread, transposed to
 * row-major there): meant for the 2.7 GB unlabeled split.
 *
 * @param options Folder and split.
 * @returns A streaming dataset; `close()` it when done.
 * @throws {DataFileError} For missing files or sizes that do not match.
 *
 * @example Usage
 * ```ts
 * import { stl10Stream } from "@unigrad/unigrad/data";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeFile(`${dir}/unlabeled_X.bin`, new Uint8Array(3 * 27648));
 * const data = await stl10Stream({ dir, split: "unlabeled" }); // read by index in a worker
 * assert.equal(data.length, 3);
 * const batch = await data.read([2, 0]);
 * assert.equal(batch.images.length, 2 * 27648);
 * data.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function stl10Stream(options: Omit<Stl10Options, "limit">): Promise<RecordDataset> {
  const split = options.split ?? "unlabeled";
  const xPath = `${options.dir}/${split}_X.bin`;
  const count = await countImages(xPath);
  const labels = split === "unlabeled" ? null : await readLabels(`${options.dir}/${split}_y.bin`, count, xPath);
  return RecordDataset.open({
    files: [{ path: xPath, offset: 0, count }],
    imageShape: [3, SIDE, SIDE],
    labels,
    classes: labels ? CLASSES : null,
    columnMajor: true,
  });
}
