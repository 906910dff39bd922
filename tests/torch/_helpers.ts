/**
 * Shared helpers of the tensor-core tests: closeness checks, leak checks, golden files and
 * finite-difference gradient checks. Not a test file itself (no `_test` suffix).
 *
 * @module
 */
import assert from "node:assert/strict";
import { autograd, liveLists, type TensorOptions } from "../../src/torch/mod.ts";
import { liveTensors, scope, type Tensor, tensor } from "../../mod.ts";

/** Flat numbers of a tensor (bigint and half types converted). */
export function flat(t: Tensor): number[] {
  return Array.from(t.data() as ArrayLike<number | bigint>, Number);
}

function flatten(x: unknown): number[] {
  if (Array.isArray(x)) return x.flatMap(flatten);
  if (typeof x === "boolean") return [x ? 1 : 0];
  return [Number(x)];
}

/**
 * Asserts that a tensor (or numbers) matches the expected values within `atol + rtol·|expected|`.
 * The shape is compared too when both sides are tensors or a golden entry.
 */
export function assertClose(
  actual: Tensor | number | readonly unknown[],
  expected: Tensor | number | readonly unknown[] | Golden,
  tol: { atol?: number; rtol?: number } = {},
  what = "tensor",
): void {
  const { atol = 1e-6, rtol = 1e-6 } = tol;
  const isTensor = (v: unknown): v is Tensor => typeof v === "object" && v !== null && "dtype" in v;
  const isGolden = (v: unknown): v is Golden => typeof v === "object" && v !== null && "shape" in v && "data" in v;
  if (isTensor(actual) && (isTensor(expected) || isGolden(expected))) {
    assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  }
  const a = isTensor(actual) ? flat(actual) : flatten(actual);
  const e = isTensor(expected) ? flat(expected) : isGolden(expected) ? expected.data : flatten(expected);
  assert.equal(a.length, e.length, `${what}: ${a.length} values, expected ${e.length}`);
  for (let i = 0; i < a.length; i++) {
    const ok = (Number.isNaN(a[i]) && Number.isNaN(e[i])) || a[i] === e[i] ||
      Math.abs(a[i] - e[i]) <= atol + rtol * Math.abs(e[i]);
    if (!ok) assert.fail(`${what}: element ${i} is ${a[i]}, expected ${e[i]} (atol ${atol}, rtol ${rtol})`);
  }
}

/**
 * Runs `fn` and asserts that it left exactly as many live tensor and list handles as it found.
 * Use as `Deno.test("…", noLeaks(() => { … }))`.
 */
export function noLeaks(fn: () => void | Promise<void>): () => Promise<void> {
  return async () => {
    const tensors = liveTensors();
    const lists = liveLists();
    await fn();
    assert.equal(liveTensors(), tensors, "live tensor handles after the test");
    assert.equal(liveLists(), lists, "live tensor lists after the test");
  };
}

/** A golden entry: a flat row-major array with its shape. */
export interface Golden {
  /** Sizes. */
  shape: number[];
  /** Values, row-major. */
  data: number[];
}

/** Loads tests/torch/golden/<name>.json (written by make_golden.py from PyTorch). */
export function loadGolden(name: string): Record<string, Record<string, Golden & number & number[]>> {
  return JSON.parse(Deno.readTextFileSync(new URL(`./golden/${name}.json`, import.meta.url)));
}

/** A tensor made from a golden entry (float64 unless told otherwise). */
export function fromGolden(g: Golden, options: TensorOptions = {}): Tensor {
  return tensor(Float64Array.from(g.data), { shape: g.shape, ...options, dtype: options.dtype ?? "float64" });
}

/**
 * Checks the autograd gradient of the scalar `f(inputs)` against central finite differences for
 * every input element. Inputs must be float64 leaves with requiresGrad; they are not modified.
 */
export function gradcheck(
  f: (xs: Tensor[]) => Tensor,
  inputs: Tensor[],
  tol: { atol?: number; rtol?: number; eps?: number } = {},
): void {
  const { atol = 1e-6, rtol = 1e-5, eps = 1e-6 } = tol;
  scope(() => {
    const analytic = autograd.grad([f(inputs)], inputs);
    const values = inputs.map((x) => flat(x));
    const evalAt = (k: number, i: number, v: number): number =>
      scope(() => {
        const data = values[k].slice();
        data[i] = v;
        const xs = inputs.map((x, j) =>
          j === k ? tensor(Float64Array.from(data), { shape: x.shape, dtype: "float64" }) : x.detach()
        );
        return f(xs).item();
      });
    inputs.forEach((_, k) => {
      const numeric = values[k].map((v, i) => (evalAt(k, i, v + eps) - evalAt(k, i, v - eps)) / (2 * eps));
      assertClose(analytic[k]!, numeric, { atol, rtol }, `gradient of input ${k}`);
    });
  });
}
