/**
 * Element types, with their libtorch codes (`c10::ScalarType`) and their JavaScript views.
 *
 * @module
 */

/** An element type, named as in PyTorch. */
export type DType =
  | "uint8"
  | "int8"
  | "int16"
  | "int32"
  | "int64"
  | "float16"
  | "float32"
  | "float64"
  | "bool"
  | "bfloat16";

/** `c10::ScalarType` code of each dtype (stable across libtorch 1.13 and 2.x). */
export const DTYPE_CODE: Readonly<Record<DType, number>> = {
  uint8: 0,
  int8: 1,
  int16: 2,
  int32: 3,
  int64: 4,
  float16: 5,
  float32: 6,
  float64: 7,
  bool: 11,
  bfloat16: 15,
};

const BY_CODE = new Map<number, DType>(Object.entries(DTYPE_CODE).map(([k, v]) => [v, k as DType]));

/** Every supported dtype name, for messages and validation. */
export const DTYPES: readonly DType[] = Object.keys(DTYPE_CODE) as DType[];

/** Host array type that `Tensor.data()` returns for each dtype (half types come back as float32). */
export type HostArray = Uint8Array | Int8Array | Int16Array | Int32Array | BigInt64Array | Float32Array | Float64Array;

/** The dtype named by a libtorch code; throws a RangeError for a type unigrad does not expose. */
export function dtypeFromCode(code: number): DType {
  const d = BY_CODE.get(code);
  if (d === undefined) throw new RangeError(`Unsupported libtorch scalar type code ${code}`);
  return d;
}

/**
 * Checks a user-supplied dtype name.
 *
 * @example Usage
 * ```ts
 * import { checkDType } from "@unigrad/unigrad/torch";
 * import assert from "node:assert/strict";
 *
 * assert.equal(checkDType("float32"), "float32");
 * assert.throws(() => checkDType("float8"), TypeError);
 * ```
 */
export function checkDType(dtype: string): DType {
  if (!Object.hasOwn(DTYPE_CODE, dtype)) {
    throw new TypeError(`Unknown dtype "${dtype}": expected one of ${DTYPES.join(", ")}`);
  }
  return dtype as DType;
}

/**
 * True for float16, bfloat16, float32 and float64.
 *
 * @example Usage
 * ```ts
 * import { isFloating } from "@unigrad/unigrad/torch";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isFloating("bfloat16"), true);
 * assert.equal(isFloating("int64"), false);
 * ```
 */
export function isFloating(dtype: DType): boolean {
  return dtype === "float32" || dtype === "float64" || dtype === "float16" || dtype === "bfloat16";
}

/** The host dtype a `data()` copy uses: half types widen to float32, bool reads as uint8. */
export function hostDType(dtype: DType): DType {
  if (dtype === "float16" || dtype === "bfloat16") return "float32";
  if (dtype === "bool") return "uint8";
  return dtype;
}

/** A new host array of `n` elements for a host dtype (see `hostDType`). */
export function newHostArray(dtype: DType, n: number): HostArray {
  switch (dtype) {
    case "uint8":
      return new Uint8Array(n);
    case "int8":
      return new Int8Array(n);
    case "int16":
      return new Int16Array(n);
    case "int32":
      return new Int32Array(n);
    case "int64":
      return new BigInt64Array(n);
    case "float64":
      return new Float64Array(n);
    case "float32":
      return new Float32Array(n);
    default:
      throw new RangeError(`No host array for dtype ${dtype}`);
  }
}

/** The dtype matching a typed array, or undefined for other inputs. */
export function dtypeOfArray(data: unknown): DType | undefined {
  if (data instanceof Float32Array) return "float32";
  if (data instanceof Float64Array) return "float64";
  if (data instanceof Int32Array) return "int32";
  if (data instanceof BigInt64Array) return "int64";
  if (data instanceof Uint8Array) return "uint8";
  if (data instanceof Int8Array) return "int8";
  if (data instanceof Int16Array) return "int16";
  return undefined;
}
