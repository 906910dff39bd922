/**
 * Image folders: JPEG and PNG files, one sub-folder per class (labeled) or directly in the folder
 * (unlabeled). Images are decoded once by libvips (npm `sharp`, native code, its threads), resized
 * to `side`×`side` (shorter side to `side`, centre crop) and cached as tensor shards; later runs
 * reuse the cache while the files' names, sizes and times are unchanged. The result streams from
 * the shards.
 *
 * @module
 */
import { DataFileError } from "./dataset.ts";
import { RecordDataset } from "./records.ts";
import { readShardHeader, writeAtomic, writeShard } from "./shard.ts";

const IMAGE = /\.(jpe?g|png)$/i;

/** Options of `imageFolder`. */
export interface ImageFolderOptions {
  /** Side of the cached square images. @default 224 */
  side?: number;
  /** 3 for RGB, 1 for grayscale. @default 3 */
  channels?: 1 | 3;
  /** Where the shards go. @default `<root>/.unigrad-cache` */
  cacheDir?: string;
  /** Images per shard. @default 1024 */
  shardSize?: number;
  /** Images decoded at once. @default the number of CPU cores */
  concurrency?: number;
}

/** Image files under `dir` (recursive, sorted, hidden entries skipped), relative to `root`. */
async function listImages(root: string, dir: string, out: string[]): Promise<void> {
  const entries: Deno.DirEntry[] = [];
  for await (const e of Deno.readDir(`${root}/${dir}`)) if (!e.name.startsWith(".")) entries.push(e);
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const rel = dir ? `${dir}/${e.name}` : e.name;
    if (e.isDirectory) await listImages(root, rel, out);
    else if (IMAGE.test(e.name)) out.push(rel);
  }
}

/** The folder's images and classes: sub-folders (except hidden ones and `skip`) are classes; with none, files are unlabeled. */
async function scan(
  root: string,
  skip: string,
): Promise<{ files: string[]; labels: number[] | null; classes: string[] | null }> {
  let top: Deno.DirEntry[];
  try {
    top = await Array.fromAsync(Deno.readDir(root));
  } catch (e) {
    throw new DataFileError(root, "no such folder", { cause: e });
  }
  const classes = top.filter((e) => e.isDirectory && !e.name.startsWith(".") && e.name !== skip)
    .map((e) => e.name).sort();
  const files: string[] = [];
  if (classes.length === 0) {
    await listImages(root, "", files);
    if (files.length === 0) throw new DataFileError(root, "has no JPEG or PNG images and no class folders");
    return { files, labels: null, classes: null };
  }
  const labels: number[] = [];
  for (const [k, name] of classes.entries()) {
    const before = files.length;
    await listImages(root, name, files);
    for (let i = before; i < files.length; i++) labels.push(k);
  }
  if (files.length === 0) {
    throw new DataFileError(root, `has class folders (${classes.join(", ")}) but no JPEG or PNG images`);
  }
  return { files, labels, classes };
}

/** Decodes, resizes and centre-crops one image to [C, side, side] bytes, row-major. */
async function decode(path: string, side: number, channels: 1 | 3): Promise<Uint8Array> {
  const { default: sharp } = await import("sharp");
  let data: Uint8Array;
  let info: { channels: number; width: number; height: number };
  try {
    let img = sharp(path, { failOn: "error" }).resize(side, side, { fit: "cover", position: "centre" }).removeAlpha();
    img = channels === 1 ? img.toColourspace("b-w") : img.toColourspace("srgb");
    ({ data, info } = await img.raw().toBuffer({ resolveWithObject: true }));
  } catch (e) {
    throw new DataFileError(path, `cannot decode the image (${(e as Error).message})`, { cause: e });
  }
  if (info.channels !== channels || info.width !== side || info.height !== side) {
    throw new DataFileError(
      path,
      `decoded to ${info.width}×${info.height}×${info.channels}, not ${side}×${side}×${channels}`,
    );
  }
  const out = new Uint8Array(channels * side * side);
  const plane = side * side;
  for (let p = 0; p < plane; p++) for (let c = 0; c < channels; c++) out[c * plane + p] = data[p * channels + c]; // HWC → CHW
  return out;
}

/** Short hash of the file list (names, sizes, times) and the settings. */
async function fingerprint(root: string, files: string[], settings: unknown): Promise<string> {
  const stats = await Promise.all(files.map(async (f) => {
    const s = await Deno.stat(`${root}/${f}`);
    return [f, s.size, s.mtime?.getTime() ?? 0];
  }));
  const bytes = new TextEncoder().encode(JSON.stringify({ settings, stats }));
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(hash.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join("");
}

interface CacheIndex {
  version: 1;
  imageShape: [number, number, number];
  classes: string[] | null;
  shards: { file: string; count: number }[];
}

/** Opens the cached shards listed in an index. */
async function openCache(dir: string, index: CacheIndex): Promise<RecordDataset> {
  const files = [];
  const labels: number[] = [];
  for (const s of index.shards) {
    const path = `${dir}/${s.file}`;
    const h = await readShardHeader(path);
    if (h.shape[0] !== s.count) throw new DataFileError(path, `holds ${h.shape[0]} images, the index says ${s.count}`);
    files.push({ path, offset: h.offset, count: s.count });
    if (h.labels) labels.push(...h.labels);
  }
  return RecordDataset.open({
    files,
    imageShape: index.imageShape,
    labels: index.classes ? Int32Array.from(labels) : null,
    classes: index.classes,
  });
}

/**
 * An image folder as a streaming dataset of uint8 [C, side, side] images, decoding and caching it
 * first when no valid cache exists.
 *
 * @param root The folder: class sub-folders of images, or images directly (unlabeled).
 * @param options Side, channels, cache folder, shard size, decoding concurrency.
 * @returns A `RecordDataset` over the shards (`load()` it to hold it in memory; `close()` it when done).
 * @throws {DataFileError} For a missing folder, no images, or an image that cannot be decoded.
 */
export async function imageFolder(root: string, options: ImageFolderOptions = {}): Promise<RecordDataset> {
  const { side = 224, channels = 3, shardSize = 1024 } = options;
  const concurrency = options.concurrency ?? navigator.hardwareConcurrency ?? 2;
  for (const [name, v] of Object.entries({ side, shardSize, concurrency })) {
    if (!Number.isInteger(v) || v < 1) {
      throw new RangeError(`Image folder ${name} must be a positive integer, got ${v}`);
    }
  }
  const cacheDir = options.cacheDir ?? `${root}/.unigrad-cache`;
  const inside = cacheDir.startsWith(`${root}/`) ? cacheDir.slice(root.length + 1).split("/")[0] : "";
  const { files, labels, classes } = await scan(root, inside);
  const key = await fingerprint(root, files, { side, channels, shardSize });
  const dir = `${cacheDir}/${side}px-${channels}ch-${key}`;
  try {
    return await openCache(dir, JSON.parse(await Deno.readTextFile(`${dir}/index.json`)));
  } catch { /* no valid cache: build it */ }
  await Deno.mkdir(dir, { recursive: true });
  const index: CacheIndex = { version: 1, imageShape: [channels, side, side], classes, shards: [] };
  const record = channels * side * side;
  for (let start = 0; start < files.length; start += shardSize) {
    const batch = files.slice(start, start + shardSize);
    const pixels = new Uint8Array(batch.length * record);
    let next = 0;
    const work = async () => {
      while (next < batch.length) {
        const i = next++;
        pixels.set(await decode(`${root}/${batch[i]}`, side, channels), i * record);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, batch.length) }, work));
    const file = `shard-${String(index.shards.length).padStart(5, "0")}.bin`;
    await writeShard(
      `${dir}/${file}`,
      pixels,
      [batch.length, channels, side, side],
      labels?.slice(start, start + shardSize) ?? null,
    );
    index.shards.push({ file, count: batch.length });
  }
  await writeAtomic(`${dir}/index.json`, [new TextEncoder().encode(JSON.stringify(index))]);
  return openCache(dir, index);
}
