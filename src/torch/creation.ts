/**
 * Tensor creation, PyTorch-shaped: `tensor`, `zeros`, `ones`, `full`, `empty`, `eye`, `arange`,
 * `linspace`, `randn`, `rand`, `randint`, `randperm` and the `*Like` forms.
 *
 * @module
 */
import { checkHandle, HANDLE, shapeDims, sym } from "./_handle.ts";
import { checkDType, type DType, DTYPE_CODE, dtypeOfArray, type HostArray } from "./dtype.ts";
import { type Device, deviceCode } from "./device.ts";
import { Tensor } from "./tensor.ts";

/** Where and how a new tensor is made. */
export interface TensorOptions {
  /** Element type. @default "float32" (int64 for randint and randperm) */
  dtype?: DType;
  /** Device. @default "cpu" */
  device?: Device;
  /** Record operations for autograd (leaf tensor). @default false */
  requiresGrad?: boolean;
}

/** Nested arrays of numbers or booleans, or a typed array. */
export type TensorData = number | boolean | bigint | HostArray | NestedArray;
/** A nested JavaScript array of numbers, booleans or bigints. */
export interface NestedArray extends ReadonlyArray<number | boolean | bigint | NestedArray> {}

function finish(t: Tensor, o: TensorOptions): Tensor {
  try {
    if (o.requiresGrad) t.requiresGrad_(true);
  } catch (e) {
    t.dispose();
    throw e;
  }
  return t;
}

function codes(o: TensorOptions, dtype: DType = "float32"): [number, number] {
  return [DTYPE_CODE[checkDType(o.dtype ?? dtype)], deviceCode(o.device ?? "cpu")];
}

function inferShape(data: TensorData): number[] {
  const shape: number[] = [];
  let cur: unknown = data;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = cur[0];
  }
  return shape;
}

function flattenInto(data: unknown, shape: number[], d: number, out: unknown[]): void {
  if (d === shape.length) {
    out.push(data);
    return;
  }
  if (!Array.isArray(data) || data.length !== shape[d]) {
    throw new TypeError(`Cannot make a tensor from ragged nested arrays: expected length ${shape[d]} at depth ${d}`);
  }
  for (const x of data) flattenInto(x, shape, d + 1, out);
}

/**
 * A tensor holding a copy of `data`: a number, nested arrays, or a typed array (its dtype is kept
 * unless `dtype` says otherwise). JavaScript numbers become float32 by default.
 *
 * @param data The values.
 * @param options dtype, device, requiresGrad, and `shape` to reshape a flat typed array.
 * @returns A new tensor.
 * @throws {TypeError} On ragged arrays or a `shape` that does not match the data.
 *
 * @example Usage
 * ```ts
 * import { tensor } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * using t = tensor([[1, 2, 3], [4, 5, 6]], { dtype: "float64" });
 * assert.deepEqual(t.shape, [2, 3]);
 * assert.equal(t.dtype, "float64");
 * using u = tensor(new Int32Array([1, 2, 3, 4]), { shape: [2, 2] });
 * assert.deepEqual(u.toArray(), [[1, 2], [3, 4]]);
 * ```
 */
export function tensor(data: TensorData, options: TensorOptions & { shape?: readonly number[] } = {}): Tensor {
  if (options.dtype !== undefined) checkDType(options.dtype);
  let host: HostArray;
  let shape: number[];
  const typed = dtypeOfArray(data);
  if (typed !== undefined) {
    host = data as HostArray;
    shape = [host.length];
  } else {
    shape = inferShape(data);
    const flat: unknown[] = [];
    flattenInto(data, shape, 0, flat);
    const kind = typeof flat[0];
    if (flat.some((x) => typeof x !== typeof flat[0])) {
      throw new TypeError("Cannot make a tensor from mixed element types");
    }
    if (flat.length > 0 && kind !== "number" && kind !== "boolean" && kind !== "bigint") {
      throw new TypeError(`Cannot make a tensor from elements of type ${kind}: expected numbers, booleans or bigints`);
    }
    if (kind === "boolean") host = Uint8Array.from(flat as boolean[], (b) => (b ? 1 : 0));
    else if (kind === "bigint") host = BigInt64Array.from(flat as bigint[]);
    else if ((options.dtype ?? "float32") === "float32") host = Float32Array.from(flat as number[]);
    else host = Float64Array.from(flat as number[]);
  }
  const natural: DType = typed ??
    (host instanceof Uint8Array
      ? "bool"
      : host instanceof BigInt64Array
      ? "int64"
      : host instanceof Float32Array
      ? "float32"
      : "float64");
  if (options.shape) {
    const n = options.shape.reduce((a, b) => a * b, 1);
    if (n !== host.length) throw new TypeError(`Cannot view ${host.length} values as shape [${options.shape}]`);
    shape = [...options.shape];
  }
  const target = options.dtype ?? (typed === undefined && natural === "float64" ? "float32" : natural);
  const d = shapeDims(shape);
  const [code, dev] = codes({ ...options, dtype: natural });
  let t = new Tensor(checkHandle(sym.ts_from_blob(host, BigInt(host.byteLength), d, d.length, code, dev), "tensor"));
  if (target !== natural) {
    const uncast = t;
    try {
      t = uncast.to({ dtype: target });
    } finally {
      uncast.dispose();
    }
  }
  return finish(t, options);
}

/**
 * Uninitialised tensor of the given shape.
 *
 * @example Usage
 * ```ts
 * import { empty } from "@unigrad/unigrad/torch";
 * import { scope } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(scope(() => empty([2, 3]).shape), [2, 3]); // values undefined until written
 * ```
 */
export function empty(shape: readonly number[], options: TensorOptions = {}): Tensor {
  const d = shapeDims(shape);
  return finish(new Tensor(checkHandle(sym.ts_empty(d, d.length, ...codes(options)), "empty")), options);
}

/**
 * Tensor filled with `value`.
 *
 * @example Usage
 * ```ts
 * import { full } from "@unigrad/unigrad/torch";
 * import assert from "node:assert/strict";
 *
 * using t = full([2], 7, { dtype: "int64" });
 * assert.deepEqual(t.toArray(), [7, 7]);
 * ```
 */
export function full(shape: readonly number[], value: number, options: TensorOptions = {}): Tensor {
  const d = shapeDims(shape);
  return finish(new Tensor(checkHandle(sym.ts_full(d, d.length, value, ...codes(options)), "full")), options);
}

/**
 * Tensor of zeros.
 *
 * @example Usage
 * ```ts
 * import { scope, zeros } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(scope(() => zeros([2, 2]).toArray()), [[0, 0], [0, 0]]);
 * ```
 */
export function zeros(shape: readonly number[], options: TensorOptions = {}): Tensor {
  return full(shape, 0, options);
}

/**
 * Tensor of ones.
 *
 * @example Usage
 * ```ts
 * import { ones, scope } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(scope(() => ones([3], { dtype: "int64" }).toArray()), [1, 1, 1]);
 * ```
 */
export function ones(shape: readonly number[], options: TensorOptions = {}): Tensor {
  return full(shape, 1, options);
}

/**
 * Identity matrix [n, m] (m defaults to n).
 *
 * @example Usage
 * ```ts
 * import { eye } from "@unigrad/unigrad/torch";
 * import { scope } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(scope(() => eye(2, 3).toArray()), [[1, 0, 0], [0, 1, 0]]);
 * ```
 */
export function eye(n: number, m: number = n, options: TensorOptions = {}): Tensor {
  return finish(new Tensor(checkHandle(sym.ts_eye(n, m, ...codes(options)), "eye")), options);
}

/**
 * Values `start, start + step, …` below `end`.
 *
 * @example Usage
 * ```ts
 * import { arange } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * using t = arange(0, 5);
 * assert.deepEqual(t.toArray(), [0, 1, 2, 3, 4]);
 * ```
 */
export function arange(start: number, end: number, step = 1, options: TensorOptions = {}): Tensor {
  return finish(new Tensor(checkHandle(sym.ts_arange(start, end, step, ...codes(options)), "arange")), options);
}

/**
 * `steps` values evenly spaced from `start` to `end` inclusive.
 *
 * @example Usage
 * ```ts
 * import { linspace } from "@unigrad/unigrad/torch";
 * import { scope } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(scope(() => linspace(0, 1, 5).toArray()), [0, 0.25, 0.5, 0.75, 1]);
 * ```
 */
export function linspace(start: number, end: number, steps: number, options: TensorOptions = {}): Tensor {
  return finish(new Tensor(checkHandle(sym.ts_linspace(start, end, steps, ...codes(options)), "linspace")), options);
}

/**
 * Standard normal samples (from the seeded global generator).
 *
 * @example Usage
 * ```ts
 * import { manualSeed, randn, scope } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * manualSeed(0);
 * const x = scope(() => randn([1000]).std().item());
 * assert.ok(Math.abs(x - 1) < 0.1);
 * ```
 */
export function randn(shape: readonly number[], options: TensorOptions = {}): Tensor {
  const d = shapeDims(shape);
  return finish(new Tensor(checkHandle(sym.ts_randn(d, d.length, ...codes(options)), "randn")), options);
}

/**
 * Uniform samples in [0, 1).
 *
 * @example Usage
 * ```ts
 * import { manualSeed, rand, scope } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * manualSeed(0);
 * const [lo, hi] = scope(() => {
 *   const x = rand([1000]);
 *   return [x.min().item(), x.max().item()];
 * });
 * assert.ok(lo >= 0 && hi < 1);
 * ```
 */
export function rand(shape: readonly number[], options: TensorOptions = {}): Tensor {
  const d = shapeDims(shape);
  return finish(new Tensor(checkHandle(sym.ts_rand(d, d.length, ...codes(options)), "rand")), options);
}

/**
 * Integers uniform in [low, high); int64 by default.
 *
 * @example Usage
 * ```ts
 * import { manualSeed, scope } from "@unigrad/unigrad";
 * import { randint } from "@unigrad/unigrad/torch";
 * import assert from "node:assert/strict";
 *
 * manualSeed(0);
 * const x = scope(() => randint(0, 10, [100]).data() as BigInt64Array);
 * assert.ok(x.every((v) => v >= 0n && v < 10n));
 * ```
 */
export function randint(low: number, high: number, shape: readonly number[], options: TensorOptions = {}): Tensor {
  const d = shapeDims(shape);
  const [code, dev] = codes(options, "int64");
  return new Tensor(checkHandle(sym.ts_randint(BigInt(low), BigInt(high), d, d.length, code, dev), "randint"));
}

/**
 * A random permutation of 0..n−1; int64 by default.
 *
 * @example Usage
 * ```ts
 * import { manualSeed, scope } from "@unigrad/unigrad";
 * import { randperm } from "@unigrad/unigrad/torch";
 * import assert from "node:assert/strict";
 *
 * manualSeed(0);
 * const p = scope(() => [...(randperm(5).data() as BigInt64Array)]);
 * assert.deepEqual(p.toSorted((a, b) => Number(a - b)), [0n, 1n, 2n, 3n, 4n]);
 * ```
 */
export function randperm(n: number, options: TensorOptions = {}): Tensor {
  return new Tensor(checkHandle(sym.ts_randperm(n, ...codes(options, "int64")), "randperm"));
}

/**
 * Same shape, dtype and device as `t`, filled with `value` (optionally another dtype).
 *
 * @example Usage
 * ```ts
 * import { fullLike } from "@unigrad/unigrad/torch";
 * import { scope, zeros } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(scope(() => fullLike(zeros([2]), 7).toArray()), [7, 7]);
 * ```
 */
export function fullLike(t: Tensor, value: number, dtype?: DType): Tensor {
  const code = dtype === undefined ? -1 : DTYPE_CODE[checkDType(dtype)];
  return new Tensor(checkHandle(sym.ts_full_like(t[HANDLE], value, code), "fullLike"));
}

/**
 * Zeros shaped like `t`.
 *
 * @example Usage
 * ```ts
 * import { ones, scope } from "@unigrad/unigrad";
 * import { zerosLike } from "@unigrad/unigrad/torch";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(scope(() => zerosLike(ones([2])).toArray()), [0, 0]);
 * ```
 */
export function zerosLike(t: Tensor, dtype?: DType): Tensor {
  return fullLike(t, 0, dtype);
}

/**
 * Ones shaped like `t`.
 *
 * @example Usage
 * ```ts
 * import { onesLike } from "@unigrad/unigrad/torch";
 * import { scope, zeros } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(scope(() => onesLike(zeros([2]), "int32").toArray()), [1, 1]);
 * ```
 */
export function onesLike(t: Tensor, dtype?: DType): Tensor {
  return fullLike(t, 1, dtype);
}

/**
 * Standard normal samples shaped like `t`.
 *
 * @example Usage
 * ```ts
 * import { randnLike } from "@unigrad/unigrad/torch";
 * import { scope, zeros } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(scope(() => randnLike(zeros([2, 3])).shape), [2, 3]);
 * ```
 */
export function randnLike(t: Tensor): Tensor {
  return new Tensor(checkHandle(sym.ts_randn_like(t[HANDLE]), "randnLike"));
}

/**
 * Uniform [0, 1) samples shaped like `t`.
 *
 * @example Usage
 * ```ts
 * import { randLike } from "@unigrad/unigrad/torch";
 * import { scope, zeros } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(scope(() => randLike(zeros([4], { dtype: "float64" })).dtype), "float64");
 * ```
 */
export function randLike(t: Tensor): Tensor {
  return new Tensor(checkHandle(sym.ts_rand_like(t[HANDLE]), "randLike"));
}
