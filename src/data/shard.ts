/**
 * Tensor shards: a uint8 image tensor [N, C, H, W] (and optional labels) in one file, written
 * atomically (temporary file + rename) so that a crash never leaves a half-written shard.
 *
 * Layout: the 8 ASCII bytes `UGSHARD1`, a little-endian uint32 L, L bytes of JSON
 * `{"shape": [N, C, H, W], "dtype": "uint8", "labels": [...] | null, "sha256": "…"}` padded with
 * spaces so the data starts at a multiple of 64 bytes, then N·C·H·W bytes of pixels, row-major.
 * `sha256` is the SHA-256 of the pixels followed by the labels as little-endian int32 (none when
 * null): `readShard` and `readShardHeader(path, { verify: true })` check it, so an edited label or
 * a flipped pixel is refused.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { scope, tensor } from "../torch/mod.ts";
import { writeFileAtomic } from "../torch/files.ts";
import { openFile } from "./_io.ts";
import { DataFileError, TensorDataset } from "./dataset.ts";

const MAGIC = "UGSHARD1";

/** A shard's header, as `readShardHeader` returns it. */
export interface ShardHeader {
  /** [N, C, H, W]. */
  shape: [number, number, number, number];
  /** One label per image, or null. */
  labels: number[] | null;
  /** Byte offset of the pixels. */
  offset: number;
  /** SHA-256 of the pixels and labels (hex), or null in a shard written before checksums. */
  sha256: string | null;
}

/**
 * Writes `path` atomically (a temporary sibling, fsync, rename); the parts are written one after another.
 *
 * @throws {Error} Naming `path`, e.g. when the disk is full.
 */
export async function writeAtomic(path: string, parts: readonly Uint8Array[]): Promise<void> {
  await writeFileAtomic(path, parts);
}

/** The labels as the little-endian int32 bytes the checksum covers. */
function labelBytes(labels: readonly number[] | null): Uint8Array {
  return labels === null ? new Uint8Array(0) : new Uint8Array(Int32Array.from(labels).buffer);
}

/**
 * Writes images (and labels) as a shard, atomically.
 *
 * @param path The shard file.
 * @param images uint8 pixels, row-major [N, C, H, W].
 * @param shape [N, C, H, W].
 * @param labels One label per image, or null.
 * @throws {TypeError} When the sizes do not match.
 */
export async function writeShard(
  path: string,
  images: Uint8Array,
  shape: readonly [number, number, number, number],
  labels: readonly number[] | null = null,
): Promise<void> {
  if (images.length !== shape.reduce((a, b) => a * b, 1) || (labels !== null && labels.length !== shape[0])) {
    throw new TypeError(
      `Cannot write a shard of shape [${shape}] from ${images.length} bytes and ${labels?.length} labels`,
    );
  }
  const bad = labels?.findIndex((l) => !Number.isInteger(l) || l < 0 || l > 0x7fffffff) ?? -1;
  if (bad >= 0) throw new RangeError(`Cannot write a shard with label ${labels![bad]} at ${bad}`);
  const sha256 = createHash("sha256").update(images).update(labelBytes(labels)).digest("hex");
  const json = JSON.stringify({ shape, dtype: "uint8", labels, sha256 });
  const pad = (64 - ((12 + new TextEncoder().encode(json).length) % 64)) % 64;
  const body = new TextEncoder().encode(json + " ".repeat(pad));
  const head = new Uint8Array(12);
  head.set(new TextEncoder().encode(MAGIC));
  new DataView(head.buffer).setUint32(8, body.length, true);
  await writeAtomic(path, [head, body, images]);
}

/**
 * Reads and checks a shard's header: magic, JSON, labels that are integers in range, and a file size
 * that matches the shape; with `verify`, also the SHA-256 of the pixels and labels.
 *
 * @param path The shard file.
 * @param options `verify`: read the whole shard and check its SHA-256 (and that it has one), default
 *   false; `classes`: labels must be below it, default no upper bound.
 * @throws {DataFileError} For a missing file, a wrong magic, a bad header, labels out of range, a size
 *   that does not match the header, or (with `verify`) a missing or wrong checksum.
 */
export async function readShardHeader(
  path: string,
  options: { verify?: boolean; classes?: number } = {},
): Promise<ShardHeader> {
  using f = await openFile(path);
  const size = (await f.stat()).size;
  const head = new Uint8Array(12);
  if (size < 12 || (await f.read(head)) !== 12) {
    throw new DataFileError(path, `truncated: ${size} bytes is no shard header`);
  }
  const magic = new TextDecoder().decode(head.subarray(0, 8));
  if (magic !== MAGIC) {
    throw new DataFileError(path, `has magic ${JSON.stringify(magic)} but shards start with "${MAGIC}"`);
  }
  const length = new DataView(head.buffer).getUint32(8, true);
  if (12 + length > size) {
    throw new DataFileError(path, `truncated: the header says ${length} JSON bytes, the file has ${size - 12}`);
  }
  const body = new Uint8Array(length);
  let at = 0;
  while (at < length) at += (await f.read(body.subarray(at))) ?? length;
  let meta: { shape?: unknown; dtype?: unknown; labels?: unknown; sha256?: unknown };
  try {
    meta = JSON.parse(new TextDecoder().decode(body));
  } catch (e) {
    throw new DataFileError(path, `has a malformed JSON header (${(e as Error).message})`, { cause: e });
  }
  const shape = meta.shape;
  if (!Array.isArray(shape) || shape.length !== 4 || !shape.every((v) => Number.isInteger(v) && v >= 0)) {
    throw new DataFileError(path, `has shape ${JSON.stringify(shape)} in its header, not [N, C, H, W]`);
  }
  if (meta.dtype !== "uint8") throw new DataFileError(path, `has dtype ${JSON.stringify(meta.dtype)}, not "uint8"`);
  const labels = meta.labels ?? null;
  if (labels !== null && (!Array.isArray(labels) || labels.length !== shape[0])) {
    throw new DataFileError(path, `has ${Array.isArray(labels) ? labels.length : "no"} labels for ${shape[0]} images`);
  }
  const max = options.classes ?? 0x80000000;
  const bad = labels?.findIndex((l: unknown) => !Number.isInteger(l) || (l as number) < 0 || (l as number) >= max) ??
    -1;
  if (bad >= 0) {
    throw new DataFileError(path, `has label ${JSON.stringify(labels![bad])} at ${bad}, not in [0, ${max})`);
  }
  const sha256 = typeof meta.sha256 === "string" ? meta.sha256 : null;
  const offset = 12 + length;
  const want = offset + shape.reduce((a: number, b: number) => a * b, 1);
  if (size !== want) {
    throw new DataFileError(path, `size ${size} bytes does not match the header's shape [${shape}] (${want} bytes)`);
  }
  const header = { shape: shape as ShardHeader["shape"], labels: labels as number[] | null, offset, sha256 };
  if (options.verify) await verify(f, path, header, size - offset);
  return header;
}

/** Hashes the pixels (streamed, 4 MiB at a time) and labels and compares with the header's SHA-256. */
async function verify(f: Deno.FsFile, path: string, h: ShardHeader, bytes: number): Promise<void> {
  if (h.sha256 === null) {
    throw new DataFileError(path, "has no checksum (written by an older version): delete it so it is rebuilt");
  }
  const hash = createHash("sha256");
  const chunk = new Uint8Array(4 << 20);
  await f.seek(h.offset, Deno.SeekMode.Start);
  for (let left = bytes; left > 0;) {
    const n = await f.read(chunk.subarray(0, Math.min(left, chunk.length)));
    if (n === null) throw new DataFileError(path, `truncated after ${h.offset + bytes - left} bytes`);
    hash.update(chunk.subarray(0, n));
    left -= n;
  }
  if (hash.update(labelBytes(h.labels)).digest("hex") !== h.sha256) {
    throw new DataFileError(path, "does not match its SHA-256 checksum (corrupt or edited)");
  }
}

/**
 * Reads a whole shard into a `TensorDataset` on the CPU, after verifying its checksum.
 *
 * @param path The shard file.
 * @param classes Class names to attach (labels must be below their count). @default null
 * @throws {DataFileError} For a missing, truncated, malformed or corrupt shard, or a label out of range.
 */
export async function readShard(path: string, classes: readonly string[] | null = null): Promise<TensorDataset> {
  const h = await readShardHeader(path, { verify: true, classes: classes?.length });
  const pixels = new Uint8Array(h.shape.reduce((a, b) => a * b, 1));
  {
    using f = await openFile(path);
    await f.seek(h.offset, Deno.SeekMode.Start);
    let at = 0;
    while (at < pixels.length) {
      const n = await f.read(pixels.subarray(at));
      if (n === null) throw new DataFileError(path, `truncated after ${h.offset + at} bytes`);
      at += n;
    }
  }
  return scope(() =>
    new TensorDataset(
      tensor(pixels, { shape: h.shape }),
      h.labels ? tensor(Int32Array.from(h.labels), { dtype: "int64" }) : null,
      classes,
    )
  );
}
