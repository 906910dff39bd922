/**
 * The safetensors format (Hugging Face), read and written byte for byte as the reference library
 * does: an 8-byte little-endian header length N, N bytes of JSON (padded with spaces to a multiple
 * of 8), then the tensors' little-endian bytes, back to back, in the order of descending dtype
 * alignment and then name. Files load in PyTorch with `safetensors.torch.load_file`.
 *
 * @module
 */
import { scope, type Tensor, tensor } from "../torch/mod.ts";
import type { DType } from "../torch/mod.ts";
import { openRegularFile, readExactly, writeFileAtomic } from "../torch/files.ts";

interface Code {
  name: string;
  size: number;
  /** Position in the reference library's dtype enum (increasing alignment): files sort by it, descending. */
  rank: number;
}

const CODES: Readonly<Record<DType, Code>> = {
  bool: { name: "BOOL", size: 1, rank: 0 },
  uint8: { name: "U8", size: 1, rank: 1 },
  int8: { name: "I8", size: 1, rank: 2 },
  int16: { name: "I16", size: 2, rank: 5 },
  float16: { name: "F16", size: 2, rank: 7 },
  bfloat16: { name: "BF16", size: 2, rank: 8 },
  int32: { name: "I32", size: 4, rank: 9 },
  float32: { name: "F32", size: 4, rank: 11 },
  float64: { name: "F64", size: 8, rank: 12 },
  int64: { name: "I64", size: 8, rank: 13 },
};
const BY_NAME = new Map(Object.entries(CODES).map(([d, c]) => [c.name, d as DType]));
const MAX_HEADER = 100_000_000;

/** Tensors read from a safetensors file, and its `__metadata__` map. */
export interface SafetensorsContent {
  /** The tensors by name, in file order (new CPU tensors owned by the caller). */
  tensors: Map<string, Tensor>;
  /** The free-form string map stored under `__metadata__` (empty when absent). */
  metadata: Record<string, string>;
}

/** Little-endian bytes of a tensor's elements (half types re-encoded exactly from their float32 widening). */
function tensorBytes(t: Tensor): Uint8Array {
  const host = t.data();
  if (t.dtype === "float16") return new Uint8Array(Float16Array.from(host as Float32Array).buffer);
  if (t.dtype === "bfloat16") {
    const bits = new Uint32Array(host.buffer, host.byteOffset, host.length);
    return new Uint8Array(Uint16Array.from(bits, (b) => b >>> 16).buffer);
  }
  return new Uint8Array(host.buffer, host.byteOffset, host.byteLength);
}

/** A tensor from little-endian bytes (a fresh copy, so any alignment works). */
function fromBytes(bytes: Uint8Array, dtype: DType, shape: number[]): Tensor {
  const buf = bytes.slice().buffer;
  switch (dtype) {
    case "float32":
      return tensor(new Float32Array(buf), { shape });
    case "float64":
      return tensor(new Float64Array(buf), { shape });
    case "int64":
      return tensor(new BigInt64Array(buf), { shape });
    case "int32":
      return tensor(new Int32Array(buf), { shape });
    case "int16":
      return tensor(new Int16Array(buf), { shape });
    case "int8":
      return tensor(new Int8Array(buf), { shape });
    case "uint8":
      return tensor(new Uint8Array(buf), { shape });
    case "bool":
      return tensor(new Uint8Array(buf), { shape, dtype: "bool" });
    case "float16":
      return tensor(Float32Array.from(new Float16Array(buf)), { shape, dtype: "float16" });
    case "bfloat16": {
      const bits = Uint32Array.from(new Uint16Array(buf), (b) => b << 16);
      return tensor(new Float32Array(bits.buffer), { shape, dtype: "bfloat16" });
    }
  }
}

const utf8 = new TextEncoder();

/** Byte-wise comparison of UTF-8 names, as Rust orders strings. */
function compareNames(a: string, b: string): number {
  const x = utf8.encode(a);
  const y = utf8.encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

/**
 * Encodes tensors as a safetensors file in memory (tensors on any device; they are copied to the host).
 *
 * @param tensors The tensors by name.
 * @param metadata Optional string map stored under `__metadata__`.
 * @returns The file's bytes.
 * @throws {TypeError} On the reserved name `__metadata__` or an empty name.
 *
 * @example Usage
 * ```ts
 * import { deserializeSafetensors, serializeSafetensors } from "@unigrad/unigrad/io";
 * import { tensor } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * using w = tensor([[1, 2], [3, 4]]);
 * const bytes = serializeSafetensors(new Map([["w", w]]), { format: "pt" });
 * const { tensors, metadata } = deserializeSafetensors(bytes);
 * using back = tensors.get("w")!;
 * assert.deepEqual(back.toArray(), [[1, 2], [3, 4]]);
 * assert.deepEqual(metadata, { format: "pt" });
 * ```
 */
export function serializeSafetensors(
  tensors: ReadonlyMap<string, Tensor>,
  metadata?: Readonly<Record<string, string>>,
): Uint8Array {
  const entries = [...tensors].map(([name, t]) => {
    if (name === "" || name === "__metadata__") throw new TypeError(`Cannot save a tensor named "${name}"`);
    return { name, t, code: CODES[t.dtype] };
  });
  entries.sort((a, b) => b.code.rank - a.code.rank || compareNames(a.name, b.name));
  const parts: string[] = [];
  if (metadata !== undefined) {
    const kv = Object.entries(metadata).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(String(v))}`);
    parts.push(`"__metadata__":{${kv.join(",")}}`);
  }
  const datas: Uint8Array[] = [];
  let offset = 0;
  for (const { name, t, code } of entries) {
    const bytes = tensorBytes(t);
    datas.push(bytes);
    const info = `{"dtype":"${code.name}","shape":[${t.shape.join(",")}],"data_offsets":[${offset},${
      offset + bytes.length
    }]}`;
    parts.push(`${JSON.stringify(name)}:${info}`);
    offset += bytes.length;
  }
  let header = utf8.encode(`{${parts.join(",")}}`);
  const padded = Math.ceil(header.length / 8) * 8;
  if (padded !== header.length) {
    const h = new Uint8Array(padded).fill(0x20);
    h.set(header);
    header = h;
  }
  const out = new Uint8Array(8 + header.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(header.length), true);
  out.set(header, 8);
  let pos = 8 + header.length;
  for (const d of datas) {
    out.set(d, pos);
    pos += d.length;
  }
  return out;
}

interface Entry {
  name: string;
  dtype: DType;
  shape: number[];
  begin: number;
  end: number;
}

function isIndex(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

/** The header length N from the first 8 bytes, checked against the limit and the bytes that follow. */
function headerLength(first8: Uint8Array, fileSize: number, fail: (what: string) => never): number {
  if (fileSize < 8) fail(`the file has ${fileSize} bytes, fewer than the 8-byte header length`);
  const n = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER)) fail(`header length ${n} exceeds the 100 MB limit (corrupt or not a safetensors file)`);
  if (Number(n) > fileSize - 8) fail(`header length ${n} exceeds the ${fileSize - 8} bytes after it (truncated?)`);
  return Number(n);
}

/** Parses and validates the JSON header (the N bytes after the length); violations throw via `fail`. */
function parseHeader(
  header: Uint8Array,
  fail: (what: string) => never,
): { entries: Entry[]; metadata: Record<string, string> } {
  let text = "";
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(header);
  } catch {
    fail("the header is not valid UTF-8");
  }
  if (!text.startsWith("{")) fail("the header does not start with '{'");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    fail(`the header is not valid JSON (${(e as Error).message})`);
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) fail("the header is not a JSON object");
  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, info] of Object.entries(json as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (info === null || typeof info !== "object" || Array.isArray(info)) fail("__metadata__ is not an object");
      for (const [k, v] of Object.entries(info as Record<string, unknown>)) {
        if (typeof v !== "string") fail(`__metadata__ entry "${k}" is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    entries.push(parseEntry(name, info, fail));
  }
  return { entries, metadata };
}

/** Sorts the entries by offset and checks they cover a data section of `dataLength` bytes exactly. */
function checkLayout(entries: Entry[], dataLength: number, fail: (what: string) => never): Entry[] {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  for (const e of sorted) {
    if (e.begin > pos) fail(`bytes ${pos}..${e.begin} of the data section belong to no tensor`);
    if (e.begin < pos && e.end > e.begin) fail(`tensor "${e.name}" overlaps the previous tensor`);
    pos = Math.max(pos, e.end);
  }
  if (pos > dataLength) fail(`the tensors need ${pos} data bytes but the file holds ${dataLength} (truncated?)`);
  if (pos < dataLength) fail(`${dataLength - pos} bytes at the end belong to no tensor`);
  return sorted;
}

/** New CPU tensors from the data section, in offset order. */
function buildTensors(sorted: Entry[], data: Uint8Array): Map<string, Tensor> {
  return scope(() => {
    const tensors = new Map<string, Tensor>();
    for (const e of sorted) tensors.set(e.name, fromBytes(data.subarray(e.begin, e.end), e.dtype, e.shape));
    return tensors;
  });
}

function failer(where: string): (what: string) => never {
  return (what: string): never => {
    throw new Error(`${where}: ${what}`);
  };
}

function parseEntry(name: string, info: unknown, fail: (what: string) => never): Entry {
  const o = (info ?? {}) as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  if (typeof info !== "object" || info === null) fail(`tensor "${name}" has no {dtype, shape, data_offsets} entry`);
  const dtype = BY_NAME.get(String(o.dtype));
  if (dtype === undefined) {
    fail(`tensor "${name}" has unsupported dtype ${JSON.stringify(o.dtype)} (expected one of ${[...BY_NAME.keys()]})`);
  }
  if (!Array.isArray(o.shape) || !o.shape.every(isIndex)) {
    fail(`tensor "${name}" has an invalid shape ${JSON.stringify(o.shape)}`);
  }
  const off = o.data_offsets;
  if (!Array.isArray(off) || off.length !== 2 || !isIndex(off[0]) || !isIndex(off[1]) || off[1] < off[0]) {
    fail(`tensor "${name}" has invalid data_offsets ${JSON.stringify(off)}`);
  }
  const shape = o.shape as number[];
  const [begin, end] = off as number[];
  const expected = shape.reduce((a, b) => a * b, 1) * CODES[dtype!].size;
  if (end - begin !== expected) {
    fail(
      `tensor "${name}" (${o.dtype} [${shape}]) needs ${expected} bytes but data_offsets [${begin}, ${end}] hold ${
        end - begin
      }`,
    );
  }
  return { name, dtype: dtype!, shape, begin, end };
}

/**
 * Decodes a safetensors file held in memory, after validating it: header length within the file,
 * UTF-8 JSON object, known dtypes, byte sizes matching the shapes, and data offsets that cover the
 * data section exactly, in order, without gaps or overlaps.
 *
 * @param bytes The file's bytes.
 * @param source A name for error messages (the file path). @default "safetensors data"
 * @returns New CPU tensors (owned by the caller) and the metadata map.
 * @throws {Error} Naming `source` and what is wrong, on any violation.
 */
export function deserializeSafetensors(bytes: Uint8Array, source = "safetensors data"): SafetensorsContent {
  const fail = failer(`Cannot read ${source}`);
  const n = headerLength(bytes.subarray(0, 8), bytes.length, fail);
  const { entries, metadata } = parseHeader(bytes.subarray(8, 8 + n), fail);
  const sorted = checkLayout(entries, bytes.length - 8 - n, fail);
  return { tensors: buildTensors(sorted, bytes.subarray(8 + n)), metadata };
}

/** Options of `saveSafetensors`. */
export interface SaveSafetensorsOptions {
  /** String map stored under `__metadata__`. @default { format: "pt" } */
  metadata?: Record<string, string>;
}

/**
 * Writes tensors to a safetensors file atomically (a temporary file in the same directory, fsync,
 * rename): a crash leaves the old file or the new one, never a partial file.
 *
 * @param path The file to write; its directory must exist.
 * @param tensors The tensors by name (e.g. `model.stateDict()`).
 * @param options The `__metadata__` map.
 *
 * @example Usage
 * ```ts
 * import { loadSafetensors, saveSafetensors, tensor } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * using b = tensor([1n, 2n]);
 * await saveSafetensors(`${dir}/w.safetensors`, new Map([["b", b]]));
 * const { tensors } = await loadSafetensors(`${dir}/w.safetensors`);
 * using back = tensors.get("b")!;
 * assert.equal(back.dtype, "int64");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function saveSafetensors(
  path: string,
  tensors: ReadonlyMap<string, Tensor>,
  options: SaveSafetensorsOptions = {},
): Promise<void> {
  await writeFileAtomic(path, serializeSafetensors(tensors, options.metadata ?? { format: "pt" }));
}

/**
 * Reads and validates a safetensors file (see `deserializeSafetensors` for the checks). The file must
 * be a regular file (no device or FIFO), and its header is read and checked against the file's size
 * before the data is read.
 *
 * @param path The file.
 * @returns New CPU tensors (owned by the caller) and the metadata map.
 * @throws {Error} Naming the file and what is wrong.
 */
export async function loadSafetensors(path: string): Promise<SafetensorsContent> {
  const fail = failer(`Cannot read safetensors file "${path}"`);
  const { file, size } = await openRegularFile(path);
  try {
    const n = headerLength(size >= 8 ? await readExactly(file, path, 8) : new Uint8Array(8), size, fail);
    const { entries, metadata } = parseHeader(await readExactly(file, path, n), fail);
    const sorted = checkLayout(entries, size - 8 - n, fail);
    const data = await readExactly(file, path, size - 8 - n);
    return { tensors: buildTensors(sorted, data), metadata };
  } finally {
    file.close();
  }
}
