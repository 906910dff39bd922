/**
 * Tensor shards: a uint8 image tensor [N, C, H, W] (and optional labels) in one file, written
 * atomically (temporary file + rename) so that a crash never leaves a half-written shard.
 *
 * Layout: the 8 ASCII bytes `UGSHARD1`, a little-endian uint32 L, L bytes of JSON
 * `{"shape": [N, C, H, W], "dtype": "uint8", "labels": [...] | null}` padded with spaces so the
 * data starts at a multiple of 64 bytes, then N·C·H·W bytes of pixels, row-major.
 *
 * @module
 */
import { scope, tensor } from "../torch/mod.ts";
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
}

/** Writes `path` atomically; the data is written to a temporary file in the same folder, then renamed. */
export async function writeAtomic(path: string, parts: readonly Uint8Array[]): Promise<void> {
  const tmp = `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  try {
    {
      using f = await Deno.open(tmp, { write: true, create: true, truncate: true });
      for (const p of parts) {
        let at = 0;
        while (at < p.length) at += await f.write(p.subarray(at));
      }
      await f.syncData();
    }
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
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
  const json = JSON.stringify({ shape, dtype: "uint8", labels });
  const pad = (64 - ((12 + new TextEncoder().encode(json).length) % 64)) % 64;
  const body = new TextEncoder().encode(json + " ".repeat(pad));
  const head = new Uint8Array(12);
  head.set(new TextEncoder().encode(MAGIC));
  new DataView(head.buffer).setUint32(8, body.length, true);
  await writeAtomic(path, [head, body, images]);
}

/**
 * Reads and checks a shard's header: magic, JSON, and a file size that matches the shape.
 *
 * @throws {DataFileError} For a missing file, a wrong magic, a bad header or a size that does not match it.
 */
export async function readShardHeader(path: string): Promise<ShardHeader> {
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
  let meta: { shape?: unknown; dtype?: unknown; labels?: unknown };
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
  const offset = 12 + length;
  const want = offset + shape.reduce((a: number, b: number) => a * b, 1);
  if (size !== want) {
    throw new DataFileError(path, `size ${size} bytes does not match the header's shape [${shape}] (${want} bytes)`);
  }
  return { shape: shape as ShardHeader["shape"], labels: labels as number[] | null, offset };
}

/**
 * Reads a whole shard into a `TensorDataset` on the CPU.
 *
 * @param path The shard file.
 * @param classes Class names to attach. @default null
 * @throws {DataFileError} For a missing, truncated or malformed shard.
 */
export async function readShard(path: string, classes: readonly string[] | null = null): Promise<TensorDataset> {
  const h = await readShardHeader(path);
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
