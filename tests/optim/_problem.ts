/** The tiny problem of tests/optim/golden/make_optim.py, and trajectory comparison. */
import assert from "node:assert/strict";
import { scope, type Tensor, tensor } from "../../mod.ts";

/** Golden file contents. */
export interface OptimGolden {
  lrs: number[];
  init: Record<string, number[]>;
  init_lars: Record<string, number[]>;
  sgd: Record<string, { options: Record<string, number | boolean>; trajectory: number[][][] }>;
  lars: Record<string, { trajectory: number[][][] }>;
}

/** Reads optim.json. */
export const G: OptimGolden = JSON.parse(
  Deno.readTextFileSync(new URL("./golden/optim.json", import.meta.url)),
);

/** x, t and the parameters W1 [5, 4], b1 [5], W2 [3, 5] of the problem, as leaves of `dtype`. */
export function problem(init: Record<string, number[]>, dtype: "float32" | "float64"): {
  x: Tensor;
  t: Tensor;
  params: [string, Tensor][];
} {
  const make = (k: string, shape: number[], grad = false) =>
    tensor(init[k], { dtype, shape, requiresGrad: grad }) as Tensor;
  return {
    x: make("x", [6, 4]),
    t: make("t", [6, 3]),
    params: [["W1", make("W1", [5, 4], true)], ["b1", make("b1", [5], true)], ["W2", make("W2", [3, 5], true)]],
  };
}

/** mean((tanh(x·W1ᵀ + b1)·W2ᵀ − t)²), backpropagated into the parameters' .grad. */
export function backwardLoss(x: Tensor, t: Tensor, params: [string, Tensor][]): void {
  const [[, W1], [, b1], [, W2]] = params;
  scope(() => x.matmul(W1.t()).add(b1).tanh().matmul(W2.t()).sub(t).square().mean().backward());
}

/** Asserts every parameter equals the expected flat values within atol. */
export function assertParams(params: [string, Tensor][], expected: number[][], atol: number): void {
  params.forEach(([name, p], i) => {
    const got = p.data();
    expected[i].forEach((e, j) => {
      if (!(Math.abs(Number(got[j]) - e) <= atol)) assert.fail(`${name}[${j}]: got ${got[j]}, expected ${e}`);
    });
  });
}
