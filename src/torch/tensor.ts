/**
 * `Tensor`: a libtorch tensor (CPU or CUDA) held through the shim, with PyTorch-shaped methods.
 *
 * Every method that makes a tensor returns a new one, registered with the innermost `scope()`;
 * methods ending in `_` work in place and return `this`. Shapes are `number[]`, dims may be negative.
 *
 * @module
 */
import { check, checkHandle, dims, HANDLE, optHandle, outPointer, sym } from "./_handle.ts";
import { track } from "./scope.ts";
import {
  checkDType,
  type DType,
  DTYPE_CODE,
  dtypeFromCode,
  DTYPES,
  type HostArray,
  hostDType,
  newHostArray,
} from "./dtype.ts";
import { type Device, deviceCode, deviceName } from "./device.ts";
import { TorchError } from "./errors.ts";

const META = new BigInt64Array(24);
const OUT = new BigUint64Array(2);
const ITEM = new Float64Array(1);
const NO_DIMS = new BigInt64Array(0);

/** Options of `Tensor.to()`. */
export interface ToOptions {
  /** Target dtype. @default the tensor's dtype */
  dtype?: DType;
  /** Target device. @default the tensor's device */
  device?: Device;
  /** Copy asynchronously (pinned host memory ↔ CUDA). @default false */
  nonBlocking?: boolean;
  /** Always return a new storage, even when nothing changes. @default false */
  copy?: boolean;
}

/** Memory layout of a 4-D tensor. */
export type MemoryFormat = "contiguous" | "channels_last";

/** A tensor or a plain number (broadcast as a scalar). */
export type Operand = Tensor | number;

function toDevice(target: string): Device {
  if (target === "cpu" || /^cuda(:\d+)?$/.test(target)) return target as Device;
  throw new TypeError(
    `Unknown dtype or device "${target}": expected one of ${DTYPES.join(", ")}, or "cpu", "cuda", "cuda:<index>"`,
  );
}

function dimList(dim: number | readonly number[] | undefined): BigInt64Array {
  return dim === undefined ? NO_DIMS : dims(typeof dim === "number" ? [dim] : dim);
}

/**
 * A tensor held by libtorch. Free it with `dispose()` (or `using`), or create it inside `scope()`.
 *
 * @example Usage
 * ```ts
 * import { tensor } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * using a = tensor([[1, 2], [3, 4]]);
 * using b = a.matmul(a).add(1);
 * assert.deepEqual(b.shape, [2, 2]);
 * assert.deepEqual(b.toArray(), [[8, 11], [16, 23]]);
 * ```
 */
export class Tensor {
  #h: Deno.PointerObject | null;
  #shape: number[] | null = null;
  #dtype: DType | null = null;
  #device: Device | null = null;

  /** Wraps a new owned handle (internal: use the creation functions). */
  constructor(handle: Deno.PointerObject) {
    this.#h = handle;
    track(this);
  }

  /** The live native handle (internal to src/torch). */
  get [HANDLE](): Deno.PointerObject {
    if (this.#h === null) throw new TorchError("tensor", "Cannot use a tensor after dispose()");
    return this.#h;
  }

  #meta(): void {
    check(sym.ts_info(this[HANDLE], META), "info");
    this.#dtype = dtypeFromCode(Number(META[0]));
    this.#device = deviceName(Number(META[1]));
    const n = Number(META[2]);
    const shape = new Array<number>(n);
    for (let i = 0; i < n; i++) shape[i] = Number(META[8 + i]);
    this.#shape = shape;
  }

  /** The sizes of every dimension (a fresh copy). */
  get shape(): number[] {
    if (this.#shape === null) this.#meta();
    return this.#shape!.slice();
  }
  /** The element type. */
  get dtype(): DType {
    if (this.#dtype === null) this.#meta();
    return this.#dtype!;
  }
  /** The device: "cpu" or "cuda:k". */
  get device(): Device {
    if (this.#device === null) this.#meta();
    return this.#device!;
  }
  /** Number of dimensions. */
  get ndim(): number {
    if (this.#shape === null) this.#meta();
    return this.#shape!.length;
  }
  /** Number of elements. */
  get numel(): number {
    if (this.#shape === null) this.#meta();
    return this.#shape!.reduce((a, b) => a * b, 1);
  }
  /** Size of one dimension (negative counts from the end). */
  size(dim: number): number {
    const s = this.shape;
    const d = dim < 0 ? dim + s.length : dim;
    if (d < 0 || d >= s.length) throw new RangeError(`Dimension ${dim} out of range for a ${s.length}-D tensor`);
    return s[d];
  }
  /** Whether autograd records operations on this tensor. */
  get requiresGrad(): boolean {
    check(sym.ts_info(this[HANDLE], META), "info");
    return META[3] !== 0n;
  }
  /** Whether this is a leaf of the autograd graph. */
  get isLeaf(): boolean {
    check(sym.ts_info(this[HANDLE], META), "info");
    return META[4] !== 0n;
  }
  /** Whether the memory is contiguous in the given format. */
  isContiguous(format: MemoryFormat = "contiguous"): boolean {
    check(sym.ts_info(this[HANDLE], META), "info");
    return META[format === "channels_last" ? 7 : 6] !== 0n;
  }
  /** Element strides. */
  strides(): number[] {
    const out = new BigInt64Array(this.ndim);
    check(sym.ts_strides(this[HANDLE], out), "strides");
    return Array.from(out, Number);
  }
  /** True once `dispose()` has run. */
  get isDisposed(): boolean {
    return this.#h === null;
  }

  /** Frees the native tensor now; later use throws. A second call does nothing. */
  dispose(): void {
    if (this.#h !== null) {
      sym.ts_free(this.#h);
      this.#h = null;
    }
  }
  /** Frees the tensor at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  #wrap(p: Deno.PointerValue, op: string): Tensor {
    return new Tensor(checkHandle(p, op));
  }

  // ------------------------------------------------------------ conversion and host data

  /** Converts dtype and/or device: `to("float64")`, `to("cuda")`, or `to({ dtype, device })`. */
  to(target: DType | Device | ToOptions): Tensor {
    const o: ToOptions = typeof target === "string"
      ? (Object.hasOwn(DTYPE_CODE, target) ? { dtype: target as DType } : { device: toDevice(target) })
      : target;
    const dtype = o.dtype === undefined ? -1 : DTYPE_CODE[checkDType(o.dtype)];
    const device = o.device === undefined ? -2 : deviceCode(o.device);
    return this.#wrap(sym.ts_to(this[HANDLE], dtype, device, o.nonBlocking ? 1 : 0, o.copy ? 1 : 0), "to");
  }
  /** Copy on the CPU (or this tensor's data under a new handle when already there). */
  cpu(): Tensor {
    return this.to({ device: "cpu" });
  }
  /** Copy on a CUDA device. */
  cuda(index = 0): Tensor {
    return this.to({ device: `cuda:${index}` });
  }
  /** Contiguous copy (or a new handle to this one when already contiguous) in the given layout. */
  contiguous(format: MemoryFormat = "contiguous"): Tensor {
    return this.#wrap(sym.ts_contiguous(this[HANDLE], format === "channels_last" ? 1 : 0), "contiguous");
  }
  /**
   * Re-lays out this tensor's data in place in the given layout (a no-op when it already is): the
   * handle, its autograd identity and anything holding it (an optimizer, a gradient hook) stay valid,
   * as PyTorch's `Module.to(memory_format=…)` does for parameters. Values are unchanged.
   *
   * @example Usage
   * ```ts
   * import { randn } from "@unigrad/unigrad";
   * import assert from "node:assert/strict";
   *
   * const w = randn([8, 1, 3, 3]);
   * const before = w.toArray();
   * w.setMemoryFormat_("channels_last");
   * assert.ok(w.isContiguous("channels_last"));
   * assert.deepEqual(w.toArray(), before);
   * w.dispose();
   * ```
   */
  setMemoryFormat_(format: MemoryFormat): this {
    check(sym.ts_set_memory_format_(this[HANDLE], format === "channels_last" ? 1 : 0), "setMemoryFormat_");
    return this;
  }
  /** Copy with its own storage; keeps the autograd history. */
  clone(): Tensor {
    return this.#wrap(sym.ts_clone(this[HANDLE]), "clone");
  }
  /** Same data, cut from the autograd graph. */
  detach(): Tensor {
    return this.#wrap(sym.ts_detach(this[HANDLE]), "detach");
  }
  /** A second handle to the same tensor (same data, same autograd identity), owned separately. */
  share(): Tensor {
    return this.#wrap(sym.ts_shallow_clone(this[HANDLE]), "share");
  }

  /** Copies the elements to a flat host array (float16/bfloat16 widen to float32, bool reads as uint8). */
  data(): HostArray {
    const host = hostDType(this.dtype);
    if (host !== this.dtype) {
      using wide = this.to({ dtype: host });
      return wide.data();
    }
    const out = newHostArray(host, this.numel);
    check(sym.ts_copy_to_host(this[HANDLE], out, BigInt(out.byteLength)), "data");
    return out;
  }
  /** Copies the elements into nested arrays of numbers (booleans for bool tensors). */
  toArray(): unknown {
    const flat: ArrayLike<number | bigint> = this.data();
    const isBool = this.dtype === "bool";
    const read = (i: number) => isBool ? flat[i] !== 0 : Number(flat[i]);
    const shape = this.shape;
    if (shape.length === 0) return read(0);
    let pos = 0;
    const build = (d: number): unknown[] => {
      const out = new Array(shape[d]);
      for (let i = 0; i < shape[d]; i++) out[i] = d === shape.length - 1 ? read(pos++) : build(d + 1);
      return out;
    };
    return build(0);
  }
  /** The value of a one-element tensor as a number. */
  item(): number {
    check(sym.ts_item(this[HANDLE], ITEM), "item");
    return ITEM[0];
  }
  /** A short description: shape, dtype and device. */
  toString(): string {
    return this.isDisposed
      ? "Tensor(disposed)"
      : `Tensor(shape=[${this.shape}], dtype=${this.dtype}, device=${this.device})`;
  }

  // ------------------------------------------------------------ elementwise math

  /** this + alpha·other. */
  add(other: Operand, alpha = 1): Tensor {
    return typeof other === "number"
      ? this.#wrap(sym.ts_add_scalar(this[HANDLE], other * alpha), "add")
      : this.#wrap(sym.ts_add(this[HANDLE], other[HANDLE], alpha), "add");
  }
  /** this − alpha·other. */
  sub(other: Operand, alpha = 1): Tensor {
    return typeof other === "number"
      ? this.#wrap(sym.ts_add_scalar(this[HANDLE], -other * alpha), "sub")
      : this.#wrap(sym.ts_sub(this[HANDLE], other[HANDLE], alpha), "sub");
  }
  /** other − this, for a number. */
  rsub(other: number): Tensor {
    return this.#wrap(sym.ts_rsub_scalar(this[HANDLE], other), "rsub");
  }
  /** this · other. */
  mul(other: Operand): Tensor {
    return typeof other === "number"
      ? this.#wrap(sym.ts_mul_scalar(this[HANDLE], other), "mul")
      : this.#wrap(sym.ts_mul(this[HANDLE], other[HANDLE]), "mul");
  }
  /** this / other (true division). */
  div(other: Operand): Tensor {
    return typeof other === "number"
      ? this.#wrap(sym.ts_div_scalar(this[HANDLE], other), "div")
      : this.#wrap(sym.ts_div(this[HANDLE], other[HANDLE]), "div");
  }
  /** this ^ exponent. */
  pow(exponent: Operand): Tensor {
    return typeof exponent === "number"
      ? this.#wrap(sym.ts_pow_scalar(this[HANDLE], exponent), "pow")
      : this.#wrap(sym.ts_pow(this[HANDLE], exponent[HANDLE]), "pow");
  }
  /** Python-style modulo. */
  remainder(other: Operand): Tensor {
    return typeof other === "number"
      ? this.#wrap(sym.ts_remainder_scalar(this[HANDLE], other), "remainder")
      : this.#wrap(sym.ts_remainder(this[HANDLE], other[HANDLE]), "remainder");
  }
  /** Elementwise maximum. */
  maximum(other: Tensor): Tensor {
    return this.#wrap(sym.ts_maximum(this[HANDLE], other[HANDLE]), "maximum");
  }
  /** Elementwise minimum. */
  minimum(other: Tensor): Tensor {
    return this.#wrap(sym.ts_minimum(this[HANDLE], other[HANDLE]), "minimum");
  }
  /** atan2(this, other). */
  atan2(other: Tensor): Tensor {
    return this.#wrap(sym.ts_atan2(this[HANDLE], other[HANDLE]), "atan2");
  }
  /** −this. */
  neg(): Tensor {
    return this.#wrap(sym.ts_neg(this[HANDLE]), "neg");
  }
  /** |this|. */
  abs(): Tensor {
    return this.#wrap(sym.ts_abs(this[HANDLE]), "abs");
  }
  /** e^this. */
  exp(): Tensor {
    return this.#wrap(sym.ts_exp(this[HANDLE]), "exp");
  }
  /** Natural logarithm. */
  log(): Tensor {
    return this.#wrap(sym.ts_log(this[HANDLE]), "log");
  }
  /** log(1 + this). */
  log1p(): Tensor {
    return this.#wrap(sym.ts_log1p(this[HANDLE]), "log1p");
  }
  /** e^this − 1. */
  expm1(): Tensor {
    return this.#wrap(sym.ts_expm1(this[HANDLE]), "expm1");
  }
  /** Square root. */
  sqrt(): Tensor {
    return this.#wrap(sym.ts_sqrt(this[HANDLE]), "sqrt");
  }
  /** 1 / sqrt(this). */
  rsqrt(): Tensor {
    return this.#wrap(sym.ts_rsqrt(this[HANDLE]), "rsqrt");
  }
  /** this². */
  square(): Tensor {
    return this.#wrap(sym.ts_square(this[HANDLE]), "square");
  }
  /** 1 / this. */
  reciprocal(): Tensor {
    return this.#wrap(sym.ts_reciprocal(this[HANDLE]), "reciprocal");
  }
  /** Sine. */
  sin(): Tensor {
    return this.#wrap(sym.ts_sin(this[HANDLE]), "sin");
  }
  /** Cosine. */
  cos(): Tensor {
    return this.#wrap(sym.ts_cos(this[HANDLE]), "cos");
  }
  /** Hyperbolic tangent. */
  tanh(): Tensor {
    return this.#wrap(sym.ts_tanh(this[HANDLE]), "tanh");
  }
  /** Logistic sigmoid. */
  sigmoid(): Tensor {
    return this.#wrap(sym.ts_sigmoid(this[HANDLE]), "sigmoid");
  }
  /** max(this, 0). */
  relu(): Tensor {
    return this.#wrap(sym.ts_relu(this[HANDLE]), "relu");
  }
  /** GELU (exact, erf form). */
  gelu(): Tensor {
    return this.#wrap(sym.ts_gelu(this[HANDLE]), "gelu");
  }
  /** this · sigmoid(this). */
  silu(): Tensor {
    return this.#wrap(sym.ts_silu(this[HANDLE]), "silu");
  }
  /** Error function. */
  erf(): Tensor {
    return this.#wrap(sym.ts_erf(this[HANDLE]), "erf");
  }
  /** −1, 0 or 1. */
  sign(): Tensor {
    return this.#wrap(sym.ts_sign(this[HANDLE]), "sign");
  }
  /** Rounds down. */
  floor(): Tensor {
    return this.#wrap(sym.ts_floor(this[HANDLE]), "floor");
  }
  /** Rounds up. */
  ceil(): Tensor {
    return this.#wrap(sym.ts_ceil(this[HANDLE]), "ceil");
  }
  /** Rounds half to even. */
  round(): Tensor {
    return this.#wrap(sym.ts_round(this[HANDLE]), "round");
  }
  /** Rounds toward zero. */
  trunc(): Tensor {
    return this.#wrap(sym.ts_trunc(this[HANDLE]), "trunc");
  }
  /** Clamps into [min, max]; leave a bound undefined for none. */
  clamp(min?: number, max?: number): Tensor {
    return this.#wrap(sym.ts_clamp(this[HANDLE], min ?? NaN, max ?? NaN), "clamp");
  }
  /** this + weight·(end − this). */
  lerp(end: Tensor, weight: number): Tensor {
    return this.#wrap(sym.ts_lerp(this[HANDLE], end[HANDLE], weight), "lerp");
  }
  /** this + value·a·b. */
  addcmul(a: Tensor, b: Tensor, value = 1): Tensor {
    return this.#wrap(sym.ts_addcmul(this[HANDLE], a[HANDLE], b[HANDLE], value), "addcmul");
  }
  /** Copy with `value` where `mask` is true. */
  maskedFill(mask: Tensor, value: number): Tensor {
    return this.#wrap(sym.ts_masked_fill(this[HANDLE], mask[HANDLE], value), "maskedFill");
  }
  /** Elementwise `condition ? this : other`. */
  where(condition: Tensor, other: Tensor): Tensor {
    return this.#wrap(sym.ts_where(condition[HANDLE], this[HANDLE], other[HANDLE]), "where");
  }

  // ------------------------------------------------------------ comparisons (bool results)

  /** this == other. */
  eq(other: Operand): Tensor {
    return typeof other === "number"
      ? this.#wrap(sym.ts_eq_scalar(this[HANDLE], other), "eq")
      : this.#wrap(sym.ts_eq(this[HANDLE], other[HANDLE]), "eq");
  }
  /** this != other. */
  ne(other: Operand): Tensor {
    return typeof other === "number"
      ? this.#wrap(sym.ts_ne_scalar(this[HANDLE], other), "ne")
      : this.#wrap(sym.ts_ne(this[HANDLE], other[HANDLE]), "ne");
  }
  /** this < other. */
  lt(other: Operand): Tensor {
    return typeof other === "number"
      ? this.#wrap(sym.ts_lt_scalar(this[HANDLE], other), "lt")
      : this.#wrap(sym.ts_lt(this[HANDLE], other[HANDLE]), "lt");
  }
  /** this <= other. */
  le(other: Operand): Tensor {
    return typeof other === "number"
      ? this.#wrap(sym.ts_le_scalar(this[HANDLE], other), "le")
      : this.#wrap(sym.ts_le(this[HANDLE], other[HANDLE]), "le");
  }
  /** this > other. */
  gt(other: Operand): Tensor {
    return typeof other === "number"
      ? this.#wrap(sym.ts_gt_scalar(this[HANDLE], other), "gt")
      : this.#wrap(sym.ts_gt(this[HANDLE], other[HANDLE]), "gt");
  }
  /** this >= other. */
  ge(other: Operand): Tensor {
    return typeof other === "number"
      ? this.#wrap(sym.ts_ge_scalar(this[HANDLE], other), "ge")
      : this.#wrap(sym.ts_ge(this[HANDLE], other[HANDLE]), "ge");
  }
  /** Logical and. */
  logicalAnd(other: Tensor): Tensor {
    return this.#wrap(sym.ts_logical_and(this[HANDLE], other[HANDLE]), "logicalAnd");
  }
  /** Logical or. */
  logicalOr(other: Tensor): Tensor {
    return this.#wrap(sym.ts_logical_or(this[HANDLE], other[HANDLE]), "logicalOr");
  }
  /** Logical xor. */
  logicalXor(other: Tensor): Tensor {
    return this.#wrap(sym.ts_logical_xor(this[HANDLE], other[HANDLE]), "logicalXor");
  }
  /** Logical not. */
  logicalNot(): Tensor {
    return this.#wrap(sym.ts_logical_not(this[HANDLE]), "logicalNot");
  }
  /** True where NaN. */
  isnan(): Tensor {
    return this.#wrap(sym.ts_isnan(this[HANDLE]), "isnan");
  }
  /** True where ±Inf. */
  isinf(): Tensor {
    return this.#wrap(sym.ts_isinf(this[HANDLE]), "isinf");
  }
  /** True where finite. */
  isfinite(): Tensor {
    return this.#wrap(sym.ts_isfinite(this[HANDLE]), "isfinite");
  }
  // ------------------------------------------------------------ reductions

  /** Sum over `dim` (all dims when omitted); `dtype` sets the accumulation/result type. */
  sum(dim?: number | readonly number[], keepdim = false, dtype?: DType): Tensor {
    const code = dtype === undefined ? -1 : DTYPE_CODE[checkDType(dtype)];
    const d = dimList(dim);
    return this.#wrap(sym.ts_sum(this[HANDLE], d, d.length, keepdim ? 1 : 0, code), "sum");
  }
  /** Mean over `dim` (all dims when omitted). */
  mean(dim?: number | readonly number[], keepdim = false): Tensor {
    const d = dimList(dim);
    return this.#wrap(sym.ts_mean(this[HANDLE], d, d.length, keepdim ? 1 : 0), "mean");
  }
  /** Product of all elements. */
  prod(): Tensor {
    return this.#wrap(sym.ts_prod(this[HANDLE]), "prod");
  }
  /** Maximum over `dim` (all dims when omitted). */
  amax(dim?: number | readonly number[], keepdim = false): Tensor {
    const d = dimList(dim);
    return this.#wrap(sym.ts_amax(this[HANDLE], d, d.length, keepdim ? 1 : 0), "amax");
  }
  /** Minimum over `dim` (all dims when omitted). */
  amin(dim?: number | readonly number[], keepdim = false): Tensor {
    const d = dimList(dim);
    return this.#wrap(sym.ts_amin(this[HANDLE], d, d.length, keepdim ? 1 : 0), "amin");
  }
  /** Maximum of all elements, as a 0-d tensor. */
  max(): Tensor {
    return this.amax();
  }
  /** Minimum of all elements, as a 0-d tensor. */
  min(): Tensor {
    return this.amin();
  }
  /** Values and indices of the maximum along `dim`. */
  maxDim(dim: number, keepdim = false): { values: Tensor; indices: Tensor } {
    check(sym.ts_max_dim(this[HANDLE], dim, keepdim ? 1 : 0, OUT), "maxDim");
    return this.#pair();
  }
  /** Index of the maximum along `dim` (int64). */
  argmax(dim: number, keepdim = false): Tensor {
    return this.#wrap(sym.ts_argmax(this[HANDLE], dim, keepdim ? 1 : 0), "argmax");
  }
  /** Index of the minimum along `dim` (int64). */
  argmin(dim: number, keepdim = false): Tensor {
    return this.#wrap(sym.ts_argmin(this[HANDLE], dim, keepdim ? 1 : 0), "argmin");
  }
  /** Variance over `dim` (all when omitted), with Bessel's correction unless `unbiased` is false. */
  var(dim?: number | readonly number[], unbiased = true, keepdim = false): Tensor {
    const d = dimList(dim);
    return this.#wrap(sym.ts_var(this[HANDLE], d, d.length, unbiased ? 1 : 0, keepdim ? 1 : 0), "var");
  }
  /** Standard deviation over `dim` (all when omitted), with Bessel's correction unless `unbiased` is false. */
  std(dim?: number | readonly number[], unbiased = true, keepdim = false): Tensor {
    const d = dimList(dim);
    return this.#wrap(sym.ts_std(this[HANDLE], d, d.length, unbiased ? 1 : 0, keepdim ? 1 : 0), "std");
  }
  /** log Σ exp over `dim`. */
  logsumexp(dim: number | readonly number[], keepdim = false): Tensor {
    const d = dimList(dim);
    return this.#wrap(sym.ts_logsumexp(this[HANDLE], d, d.length, keepdim ? 1 : 0), "logsumexp");
  }
  /** p-norm over `dim` (all elements when omitted). */
  norm(p = 2, dim?: number | readonly number[], keepdim = false): Tensor {
    const d = dimList(dim);
    return this.#wrap(sym.ts_linalg_vector_norm(this[HANDLE], p, d, d.length, keepdim ? 1 : 0), "norm");
  }
  /** Cumulative sum along `dim`. */
  cumsum(dim: number): Tensor {
    return this.#wrap(sym.ts_cumsum(this[HANDLE], dim), "cumsum");
  }
  /** True (0-d bool) when every element is non-zero. */
  all(): Tensor {
    return this.#wrap(sym.ts_all(this[HANDLE]), "all");
  }
  /** True (0-d bool) when any element is non-zero. */
  any(): Tensor {
    return this.#wrap(sym.ts_any(this[HANDLE]), "any");
  }
  /** The `k` largest (or smallest) entries along `dim` and their indices. */
  topk(k: number, dim = -1, largest = true, sorted = true): { values: Tensor; indices: Tensor } {
    check(sym.ts_topk(this[HANDLE], k, dim, largest ? 1 : 0, sorted ? 1 : 0, OUT), "topk");
    return this.#pair();
  }
  /** Sorted values along `dim` and the permutation that sorts them. */
  sort(dim = -1, descending = false): { values: Tensor; indices: Tensor } {
    check(sym.ts_sort(this[HANDLE], dim, descending ? 1 : 0, OUT), "sort");
    return this.#pair();
  }
  /** Indices that sort along `dim`. */
  argsort(dim = -1, descending = false): Tensor {
    const { values, indices } = this.sort(dim, descending);
    values.dispose();
    return indices;
  }
  #pair(): { values: Tensor; indices: Tensor } {
    return { values: new Tensor(outPointer(OUT, 0)!), indices: new Tensor(outPointer(OUT, 1)!) };
  }

  // ------------------------------------------------------------ shape (views share storage)

  /** Same data in a new shape (a view when possible); one size may be -1. */
  reshape(shape: readonly number[]): Tensor {
    const d = dims(shape);
    return this.#wrap(sym.ts_reshape(this[HANDLE], d, d.length), "reshape");
  }
  /** A view with a new shape; fails when the strides do not allow one. */
  view(shape: readonly number[]): Tensor {
    const d = dims(shape);
    return this.#wrap(sym.ts_view(this[HANDLE], d, d.length), "view");
  }
  /** Swaps two dims (view). */
  transpose(dim0: number, dim1: number): Tensor {
    return this.#wrap(sym.ts_transpose(this[HANDLE], dim0, dim1), "transpose");
  }
  /** Transpose of a 2-D tensor (view). */
  t(): Tensor {
    return this.transpose(0, 1);
  }
  /** Reorders the dims (view). */
  permute(order: readonly number[]): Tensor {
    const d = dims(order);
    return this.#wrap(sym.ts_permute(this[HANDLE], d, d.length), "permute");
  }
  /** Removes a size-1 dim (every size-1 dim when omitted). */
  squeeze(dim?: number): Tensor {
    return this.#wrap(sym.ts_squeeze(this[HANDLE], dim ?? -0x80000000), "squeeze");
  }
  /** Inserts a size-1 dim. */
  unsqueeze(dim: number): Tensor {
    return this.#wrap(sym.ts_unsqueeze(this[HANDLE], dim), "unsqueeze");
  }
  /** `length` entries along `dim` from `start` (view). */
  narrow(dim: number, start: number, length: number): Tensor {
    return this.#wrap(sym.ts_narrow(this[HANDLE], dim, start, length), "narrow");
  }
  /** Entries `start, start + step, …` before `end` along `dim` (view). */
  slice(dim: number, start: number, end: number, step = 1): Tensor {
    return this.#wrap(sym.ts_slice(this[HANDLE], dim, start, end, step), "slice");
  }
  /** Entry `index` along `dim`, dropping that dim (view). */
  select(dim: number, index: number): Tensor {
    return this.#wrap(sym.ts_select(this[HANDLE], dim, index), "select");
  }
  /** Broadcasts to `shape` (-1 keeps a size; view). */
  expand(shape: readonly number[]): Tensor {
    const d = dims(shape);
    return this.#wrap(sym.ts_expand(this[HANDLE], d, d.length), "expand");
  }
  /** Tiles the tensor `repeats[i]` times along each dim. */
  repeat(repeats: readonly number[]): Tensor {
    const d = dims(repeats);
    return this.#wrap(sym.ts_repeat(this[HANDLE], d, d.length), "repeat");
  }
  /** Merges dims `start..end` into one. */
  flatten(start = 0, end = -1): Tensor {
    return this.#wrap(sym.ts_flatten(this[HANDLE], start, end), "flatten");
  }
  /** Reverses the order along `dims`. */
  flip(dimsToFlip: readonly number[]): Tensor {
    const d = dims(dimsToFlip);
    return this.#wrap(sym.ts_flip(this[HANDLE], d, d.length), "flip");
  }
  /** Rolls entries along `dims` by `shifts`. */
  roll(shifts: readonly number[], dimsToRoll: readonly number[]): Tensor {
    if (shifts.length !== dimsToRoll.length) {
      throw new TypeError(`roll needs one shift per dim, got ${shifts.length} shifts and ${dimsToRoll.length} dims`);
    }
    return this.#wrap(sym.ts_roll(this[HANDLE], dims(shifts), dims(dimsToRoll), shifts.length), "roll");
  }
  /** Entries at `index` (int64, 1-D) along `dim`. */
  indexSelect(dim: number, index: Tensor): Tensor {
    return this.#wrap(sym.ts_index_select(this[HANDLE], dim, index[HANDLE]), "indexSelect");
  }
  /** out[i][j] = this[index[i][j]][j] along `dim` (shape of `index`). */
  gather(dim: number, index: Tensor): Tensor {
    return this.#wrap(sym.ts_gather(this[HANDLE], dim, index[HANDLE]), "gather");
  }
  /** Copy with `src` added at `index` along `dim`. */
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor {
    return this.#wrap(sym.ts_scatter_add(this[HANDLE], dim, index[HANDLE], src[HANDLE]), "scatterAdd");
  }
  /** Copy with `src` written at `index` along `dim`. */
  scatter(dim: number, index: Tensor, src: Tensor): Tensor {
    return this.#wrap(sym.ts_scatter(this[HANDLE], dim, index[HANDLE], src[HANDLE]), "scatter");
  }
  /** 1-D tensor of the entries where `mask` is true. */
  maskedSelect(mask: Tensor): Tensor {
    return this.#wrap(sym.ts_masked_select(this[HANDLE], mask[HANDLE]), "maskedSelect");
  }
  /** Indices of the non-zero entries, [K, ndim]. */
  nonzero(): Tensor {
    return this.#wrap(sym.ts_nonzero(this[HANDLE]), "nonzero");
  }
  /** Lower triangle (diagonal offset `k`). */
  tril(k = 0): Tensor {
    return this.#wrap(sym.ts_tril(this[HANDLE], k), "tril");
  }
  /** Upper triangle (diagonal offset `k`). */
  triu(k = 0): Tensor {
    return this.#wrap(sym.ts_triu(this[HANDLE], k), "triu");
  }
  /** Vector → diagonal matrix; matrix → its diagonal. */
  diag(k = 0): Tensor {
    return this.#wrap(sym.ts_diag(this[HANDLE], k), "diag");
  }
  /** Splits into `chunks` pieces along `dim` (views). */
  chunk(chunks: number, dim = 0): Tensor[] {
    const list = checkHandle(sym.ts_chunk(this[HANDLE], chunks, dim), "chunk");
    try {
      const n = sym.ts_list_len(list);
      return Array.from({ length: n }, (_, i) => new Tensor(checkHandle(sym.ts_list_get(list, i), "chunk")));
    } finally {
      sym.ts_list_free(list);
    }
  }

  // ------------------------------------------------------------ linear algebra and softmax

  /** Matrix product with broadcasting (as `torch.matmul`). */
  matmul(other: Tensor): Tensor {
    return this.#wrap(sym.ts_matmul(this[HANDLE], other[HANDLE]), "matmul");
  }
  /** [N, K] · [K, M] → [N, M]. */
  mm(other: Tensor): Tensor {
    return this.#wrap(sym.ts_mm(this[HANDLE], other[HANDLE]), "mm");
  }
  /** [B, N, K] · [B, K, M] → [B, N, M]. */
  bmm(other: Tensor): Tensor {
    return this.#wrap(sym.ts_bmm(this[HANDLE], other[HANDLE]), "bmm");
  }
  /** [N] ⊗ [M] → [N, M]. */
  outer(other: Tensor): Tensor {
    return this.#wrap(sym.ts_outer(this[HANDLE], other[HANDLE]), "outer");
  }
  /** Softmax along `dim`. */
  softmax(dim: number): Tensor {
    return this.#wrap(sym.ts_softmax(this[HANDLE], dim), "softmax");
  }
  /** Log-softmax along `dim`. */
  logSoftmax(dim: number): Tensor {
    return this.#wrap(sym.ts_log_softmax(this[HANDLE], dim), "logSoftmax");
  }

  // ------------------------------------------------------------ in place (return this)

  /** this += alpha·other. */
  add_(other: Operand, alpha = 1): this {
    check(
      typeof other === "number"
        ? sym.ts_add_scalar_(this[HANDLE], other * alpha)
        : sym.ts_add_(this[HANDLE], other[HANDLE], alpha),
      "add_",
    );
    return this;
  }
  /** this −= alpha·other. */
  sub_(other: Operand, alpha = 1): this {
    check(
      typeof other === "number"
        ? sym.ts_add_scalar_(this[HANDLE], -other * alpha)
        : sym.ts_sub_(this[HANDLE], other[HANDLE], alpha),
      "sub_",
    );
    return this;
  }
  /** this *= other. */
  mul_(other: Operand): this {
    check(
      typeof other === "number" ? sym.ts_mul_scalar_(this[HANDLE], other) : sym.ts_mul_(this[HANDLE], other[HANDLE]),
      "mul_",
    );
    return this;
  }
  /** this /= other. */
  div_(other: Operand): this {
    check(
      typeof other === "number" ? sym.ts_div_scalar_(this[HANDLE], other) : sym.ts_div_(this[HANDLE], other[HANDLE]),
      "div_",
    );
    return this;
  }
  /** Every entry = value. */
  fill_(value: number): this {
    check(sym.ts_fill_(this[HANDLE], value), "fill_");
    return this;
  }
  /** Every entry = 0. */
  zero_(): this {
    check(sym.ts_zero_(this[HANDLE]), "zero_");
    return this;
  }
  /** Copies `src` in (broadcast; any dtype or device). */
  copy_(src: Tensor): this {
    check(sym.ts_copy_(this[HANDLE], src[HANDLE]), "copy_");
    return this;
  }
  /** Clamps in place; leave a bound undefined for none. */
  clamp_(min?: number, max?: number): this {
    check(sym.ts_clamp_(this[HANDLE], min ?? NaN, max ?? NaN), "clamp_");
    return this;
  }
  /** this += value·a·b. */
  addcmul_(a: Tensor, b: Tensor, value = 1): this {
    check(sym.ts_addcmul_(this[HANDLE], a[HANDLE], b[HANDLE], value), "addcmul_");
    return this;
  }
  /** this += value·a/b. */
  addcdiv_(a: Tensor, b: Tensor, value = 1): this {
    check(sym.ts_addcdiv_(this[HANDLE], a[HANDLE], b[HANDLE], value), "addcdiv_");
    return this;
  }
  /** this += weight·(end − this). */
  lerp_(end: Tensor, weight: number): this {
    check(sym.ts_lerp_(this[HANDLE], end[HANDLE], weight), "lerp_");
    return this;
  }
  /** Entries where `mask` is true = value. */
  maskedFill_(mask: Tensor, value: number): this {
    check(sym.ts_masked_fill_(this[HANDLE], mask[HANDLE], value), "maskedFill_");
    return this;
  }
  /** Rows `index` along `dim` = `src`. */
  indexCopy_(dim: number, index: Tensor, src: Tensor): this {
    check(sym.ts_index_copy_(this[HANDLE], dim, index[HANDLE], src[HANDLE]), "indexCopy_");
    return this;
  }
  /** Fills with uniform samples in [low, high). */
  uniform_(low = 0, high = 1): this {
    check(sym.ts_uniform_(this[HANDLE], low, high), "uniform_");
    return this;
  }
  /** Fills with normal samples. */
  normal_(mean = 0, std = 1): this {
    check(sym.ts_normal_(this[HANDLE], mean, std), "normal_");
    return this;
  }
  /** max(this, 0) in place. */
  relu_(): this {
    check(sym.ts_relu_(this[HANDLE]), "relu_");
    return this;
  }

  // ------------------------------------------------------------ autograd

  /** Turns gradient recording for this leaf on or off. */
  requiresGrad_(on = true): this {
    check(sym.ts_requires_grad_(this[HANDLE], on ? 1 : 0), "requiresGrad_");
    return this;
  }
  /** The accumulated gradient as a new tensor (a new handle each call), or null. */
  get grad(): Tensor | null {
    check(sym.ts_grad(this[HANDLE], OUT), "grad");
    const p = outPointer(OUT, 0);
    return p === null ? null : new Tensor(p);
  }
  /** Replaces the gradient (null clears it). @throws {TypeError} When its shape, dtype or device differ. */
  setGrad(grad: Tensor | null): void {
    if (
      grad !== null && (grad.dtype !== this.dtype || grad.device !== this.device || `${grad.shape}` !== `${this.shape}`)
    ) {
      throw new TypeError(
        `Cannot set a gradient of shape [${grad.shape}] (${grad.dtype}, ${grad.device}) on a tensor of shape ` +
          `[${this.shape}] (${this.dtype}, ${this.device})`,
      );
    }
    check(sym.ts_set_grad(this[HANDLE], optHandle(grad)), "setGrad");
  }
  /** Keeps `.grad` on this non-leaf during backward. */
  retainGrad(): this {
    check(sym.ts_retain_grad(this[HANDLE]), "retainGrad");
    return this;
  }
  /** Backpropagates from this tensor (a scalar, or any shape with `grad` as the seed). */
  backward(grad?: Tensor, options: { retainGraph?: boolean; createGraph?: boolean } = {}): void {
    const t = new BigUint64Array([BigInt(Deno.UnsafePointer.value(this[HANDLE]))]);
    const g = grad ? new BigUint64Array([BigInt(Deno.UnsafePointer.value(grad[HANDLE]))]) : null;
    check(sym.ts_backward(t, g, 1, options.retainGraph ? 1 : 0, options.createGraph ? 1 : 0), "backward");
  }
}
