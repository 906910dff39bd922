/**
 * Image folders (JPEG and PNG; one sub-folder per class, or a flat folder of unlabelled images) as
 * a streaming dataset decoded by a pool of libvips worker threads (npm `sharp`), each batch split
 * across all of them. Two storages:
 *
 * - `"stream"` decodes the original files every epoch (nothing written);
 * - `"cache"` (as FFCV does) re-encodes every image once as JPEG with its longer side bounded by
 *   `side`, packed into a few large files, and decodes those: fewer pixels to decode and sequential
 *   reads instead of a million small files. It is rebuilt when a file's name, size or time changes.
 *
 * Training images (`fit: "letterbox"`) keep the whole photograph: each is resized, aspect ratio
 * kept, so that its longer side is `side`, at the top-left of a `side`×`side` canvas, and the batch
 * carries each image's [height, width] (`HostBatch.sizes`), so random resized crops are drawn from
 * the whole image on the training device (`Augmentation.apply(images, sizes)`). Evaluation images
 * (`fit: "centre"`) are the centred square of 0.875 of the shorter side resized to `side`
 * (torchvision's Resize(256) + CenterCrop(224) at side 224).
 *
 * @module
 */
import { scope, tensor } from "../torch/mod.ts";
import { DataFileError, type HostBatch, type StreamingDataset, TensorDataset } from "./dataset.ts";
import { type FolderListing, scanFolder } from "./_folder_scan.ts";
import { DecodePool } from "./_decode_pool.ts";
import type { DecodeItem } from "./_decode_worker.ts";
import { writeAtomic } from "./shard.ts";

/** Options of `imageFolder`. */
export interface ImageFolderOptions {
  /** Side of the square canvas (letterbox) or of the centre crop. @default 224 */
  side?: number;
  /** 3 for RGB, 1 for grayscale. @default 3 */
  channels?: 1 | 3;
  /** "letterbox": the whole image in a canvas, with its size; "centre": the evaluation centre crop. @default "letterbox" */
  fit?: "letterbox" | "centre";
  /** Fraction of the shorter side the centre crop keeps. @default 0.875 */
  crop?: number;
  /** "stream" decodes the original files; "cache" decodes a JPEG cache bounded to `side` built once. @default "stream" */
  storage?: "stream" | "cache";
  /** Where the cache goes. @default `<root>/.unigrad-cache` */
  cacheDir?: string;
  /** JPEG quality of the cache. @default 90 */
  quality?: number;
  /** Decoding worker threads. @default the number of CPU cores */
  workers?: number;
  /** Use only this many images, evenly spread over the sorted list (every class keeps its share); 0: all. @default 0 */
  limit?: number;
}

interface CacheIndex {
  version: 2;
  packs: { file: string; lengths: number[] }[];
}

/**
 * An image folder read in batches by decoding worker threads. Open with `imageFolder`; `close()`
 * stops the threads.
 */
export class ImageFolderDataset implements StreamingDataset {
  /** Number of images. */
  readonly length: number;
  /** [C, side, side]. */
  readonly imageShape: readonly [number, number, number];
  /** Class names, or null for an unlabelled folder. */
  readonly classes: readonly string[] | null;
  /** One class index per image, or null. */
  readonly labels: Int32Array | null;
  #items: DecodeItem[];
  #fit: "letterbox" | "centre";
  #crop: number;
  #pool: DecodePool;

  /** Internal: use `imageFolder`. */
  constructor(
    items: DecodeItem[],
    labels: Int32Array | null,
    classes: string[] | null,
    o: Required<Pick<ImageFolderOptions, "side" | "channels" | "fit" | "crop">>,
    pool: DecodePool,
  ) {
    this.#items = items;
    this.length = items.length;
    this.labels = labels;
    this.classes = classes;
    this.imageShape = [o.channels, o.side, o.side];
    this.#fit = o.fit;
    this.#crop = o.crop;
    this.#pool = pool;
  }

  /**
   * Decodes the images at `indices` (any order, repeats allowed): interleaved pixels [B, side, side,
   * C] (`channelsLast`), and each image's [height, width] in `sizes`.
   */
  async read(indices: readonly number[]): Promise<HostBatch> {
    const items = indices.map((k) => {
      if (!(Number.isInteger(k) && k >= 0 && k < this.length)) {
        throw new RangeError(`Sample index ${k} is out of range for ${this.length} images`);
      }
      return this.#items[k];
    });
    const [c, side] = this.imageShape;
    const param = this.#fit === "centre" ? this.#crop : 0;
    const { parts, sizes } = await this.#pool.run(this.#fit, items, side, c as 1 | 3, param);
    const images = parts.length === 1 ? parts[0] : new Uint8Array(indices.length * c * side * side);
    if (parts.length > 1) {
      let at = 0;
      for (const p of parts) {
        images.set(p, at);
        at += p.length;
      }
    }
    const labels = this.labels ? Int32Array.from(indices, (k) => this.labels![k]) : null;
    return { images, labels, sizes, channelsLast: true };
  }

  /** Decodes every image into a `TensorDataset` on the CPU (small folders only). */
  async load(): Promise<TensorDataset> {
    const { images, labels } = await this.read(Array.from({ length: this.length }, (_, i) => i));
    const [c, h, w] = this.imageShape;
    return scope(() =>
      new TensorDataset(
        tensor(images, { shape: [this.length, h, w, c] }).permute([0, 3, 1, 2]).contiguous(), // [N, C, H, W]
        labels ? tensor(labels, { dtype: "int64" }) : null,
        this.classes,
      )
    );
  }

  /** Stops the decoding threads. */
  close(): void {
    this.#pool.close();
  }
  /** Closes at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/** Short hash of the file list (paths relative to the root, sizes, times) and the settings. */
async function fingerprint(root: string, files: string[], settings: unknown): Promise<string> {
  const stats = await Promise.all(files.map(async (f) => {
    const s = await Deno.stat(f);
    return [f.slice(root.length + 1), s.size, s.mtime?.getTime() ?? 0];
  }));
  const bytes = new TextEncoder().encode(JSON.stringify({ settings, stats }));
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(hash.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join("");
}

const PACK = 4096; // images per pack file

/** The cache's items (byte ranges of pack files), building the packs first when no valid index exists. */
async function cacheItems(
  dir: string,
  files: string[],
  pool: DecodePool,
  side: number,
  channels: 1 | 3,
  quality: number,
): Promise<DecodeItem[]> {
  const itemsOf = (index: CacheIndex) =>
    index.packs.flatMap((p) => {
      let offset = 0;
      return p.lengths.map((length) => ({ path: `${dir}/${p.file}`, offset: (offset += length) - length, length }));
    });
  try {
    const index: CacheIndex = JSON.parse(await Deno.readTextFile(`${dir}/index.json`));
    const items = itemsOf(index);
    if (index.version === 2 && items.length === files.length) return items;
  } catch { /* no valid cache: build it */ }
  await Deno.mkdir(dir, { recursive: true });
  const index: CacheIndex = { version: 2, packs: [] };
  for (let start = 0; start < files.length; start += PACK) {
    const batch = files.slice(start, start + PACK).map((path) => ({ path }));
    const { parts, counts } = await pool.run("encode", batch, side, channels, quality);
    const lengths: number[] = [];
    const bodies = parts.map((p, k) => {
      const view = new DataView(p.buffer, p.byteOffset);
      for (let i = 0; i < counts[k]; i++) lengths.push(view.getUint32(4 * i, true));
      return p.subarray(4 * counts[k]);
    });
    const file = `pack-${String(index.packs.length).padStart(5, "0")}.bin`;
    await writeAtomic(`${dir}/${file}`, bodies);
    index.packs.push({ file, lengths });
  }
  await writeAtomic(`${dir}/index.json`, [new TextEncoder().encode(JSON.stringify(index))]);
  return itemsOf(index);
}

/** `limit` of the listed images, evenly spread: indices ⌊i·N/limit⌋. */
function spread(listing: FolderListing, limit: number): FolderListing {
  const n = listing.files.length;
  const pick = Array.from({ length: limit }, (_, i) => Math.floor((i * n) / limit));
  return {
    files: pick.map((k) => listing.files[k]),
    labels: listing.labels ? Int32Array.from(pick, (k) => listing.labels![k]) : null,
    classes: listing.classes,
  };
}

function checkOptions(o: Required<Omit<ImageFolderOptions, "cacheDir">>): void {
  for (const [name, v] of Object.entries({ side: o.side, workers: o.workers })) {
    if (!Number.isInteger(v) || v < 1) {
      throw new RangeError(`Image folder ${name} must be a positive integer, got ${v}`);
    }
  }
  if (!Number.isInteger(o.limit) || o.limit < 0) {
    throw new RangeError(`Image folder limit must be an integer >= 0, got ${o.limit}`);
  }
  if (o.channels !== 1 && o.channels !== 3) {
    throw new RangeError(`Image folder channels must be 1 or 3, got ${o.channels}`);
  }
  if (o.fit !== "letterbox" && o.fit !== "centre") {
    throw new RangeError(`Image folder fit must be "letterbox" or "centre", got "${o.fit}"`);
  }
  if (o.storage !== "stream" && o.storage !== "cache") {
    throw new RangeError(`Image folder storage must be "stream" or "cache", got "${o.storage}"`);
  }
  if (!(o.crop > 0 && o.crop <= 1)) throw new RangeError(`Image folder crop must be in (0, 1], got ${o.crop}`);
  if (!(Number.isInteger(o.quality) && o.quality >= 1 && o.quality <= 100)) {
    throw new RangeError(`Image folder JPEG quality must be an integer in [1, 100], got ${o.quality}`);
  }
}

/**
 * Opens an image folder as a streaming dataset decoded by worker threads, building its JPEG cache
 * first when `storage` is "cache" and no valid cache exists.
 *
 * @param root Class sub-folders of images (`DIR/train`, `DIR/val` in ImageNet's layout), or images directly (unlabelled).
 * @param options Side, channels, fit, storage, cache folder, workers.
 * @returns The dataset (`close()` it when done).
 * @throws {DataFileError} For a missing folder, no images, a broken or looping symbolic link, or
 *   (when the cache is built) an image that cannot be decoded.
 * @throws {RangeError} For an invalid option.
 *
 * @example Usage
 * ```ts
 * import { imageFolder } from "@unigrad/unigrad";
 * import sharp from "sharp";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/cat`);
 * await sharp({ create: { width: 40, height: 20, channels: 3, background: "red" } }).png().toFile(`${dir}/cat/a.png`);
 * using ds = await imageFolder(dir, { side: 16, workers: 1 });
 * const { images, labels, sizes } = await ds.read([0]);
 * assert.equal(images.length, 3 * 16 * 16);
 * assert.deepEqual([...labels!], [0]);
 * assert.deepEqual([...sizes!], [8, 16]); // the whole 40×20 image, longer side 16
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function imageFolder(root: string, options: ImageFolderOptions = {}): Promise<ImageFolderDataset> {
  const o = {
    side: 224,
    channels: 3 as const,
    fit: "letterbox" as const,
    crop: 0.875,
    storage: "stream" as const,
    quality: 90,
    workers: navigator.hardwareConcurrency ?? 2,
    limit: 0,
    ...options,
  };
  checkOptions(o);
  root = root.replace(/\/+$/, "") || "/";
  const cacheDir = o.cacheDir ?? `${root}/.unigrad-cache`;
  const inside = cacheDir.startsWith(`${root}/`) ? cacheDir.slice(root.length + 1).split("/")[0] : null;
  const listing = await scanFolder(root, inside);
  const { files, labels, classes } = o.limit > 0 && o.limit < listing.files.length ? spread(listing, o.limit) : listing;
  const pool = new DecodePool(o.workers);
  try {
    let items: DecodeItem[] = files.map((path) => ({ path }));
    if (o.storage === "cache") {
      const key = await fingerprint(root, files, { side: o.side, channels: o.channels, quality: o.quality });
      items = await cacheItems(
        `${cacheDir}/jpeg-${o.side}px-${o.channels}ch-${key}`,
        files,
        pool,
        o.side,
        o.channels,
        o.quality,
      );
    }
    return new ImageFolderDataset(items, labels, classes, o, pool);
  } catch (e) {
    pool.close();
    throw e instanceof DataFileError || e instanceof RangeError
      ? e
      : new DataFileError(root, (e as Error).message, { cause: e });
  }
}

/** The splits of an image-folder dataset. */
export interface ImageFolderSplits {
  /** Training images (letterboxed unless the options say otherwise). */
  train: ImageFolderDataset;
  /** Labelled evaluation images (centre crops unless the options say otherwise), or null when there is no `val`. */
  val: ImageFolderDataset | null;
}

/** Whether `path` is a folder (after following links). */
async function isFolder(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}

/**
 * Opens a dataset folder in ImageNet's layout, `dir/train/<class>/*` and `dir/val/<class>/*` (the
 * validation split optional, its classes checked against the training split's), or, without a
 * `train` sub-folder, `dir` itself as the training split (class folders, or a flat folder of
 * unlabelled images for pre-training only).
 *
 * @param dir The dataset folder.
 * @param options Options of each split; `fit` defaults to "letterbox" for train and "centre" for val.
 * @returns The splits (`close()` both when done).
 * @throws {DataFileError} As `imageFolder` does, or when the validation classes differ from the training classes.
 */
export async function imageFolderSplits(
  dir: string,
  options: { train?: ImageFolderOptions; val?: ImageFolderOptions } = {},
): Promise<ImageFolderSplits> {
  const nested = await isFolder(`${dir}/train`);
  const train = await imageFolder(nested ? `${dir}/train` : dir, { fit: "letterbox", ...options.train });
  if (!nested || !(await isFolder(`${dir}/val`))) return { train, val: null };
  try {
    const val = await imageFolder(`${dir}/val`, { fit: "centre", ...options.val });
    const [a, b] = [train.classes?.join("\n") ?? null, val.classes?.join("\n") ?? null];
    if (a !== b) {
      val.close();
      const extra = (val.classes ?? []).filter((c) => !(train.classes ?? []).includes(c));
      const missing = (train.classes ?? []).filter((c) => !(val.classes ?? []).includes(c));
      throw new DataFileError(
        `${dir}/val`,
        `its classes differ from ${dir}/train's (${val.classes?.length ?? 0} against ${train.classes?.length ?? 0}; ` +
          `only in val: ${extra.slice(0, 3).join(", ") || "none"}; missing from val: ${
            missing.slice(0, 3).join(", ") || "none"
          })`,
      );
    }
    return { train, val };
  } catch (e) {
    train.close();
    throw e;
  }
}
