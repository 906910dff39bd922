/**
 * Functions over several tensors and the neural-network ops (as `torch.*` and
 * `torch.nn.functional.*`): joining, convolution, normalisation, pooling, losses, sampling grids,
 * resizing and linear algebra.
 *
 * @module
 */
import { check, checkHandle, dims, HANDLE, handles, optHandle, outPointer, sym } from "./_handle.ts";
import { Tensor } from "./tensor.ts";

const OUT = new BigUint64Array(2);

function wrap(p: Deno.PointerValue, op: string): Tensor {
  return new Tensor(checkHandle(p, op));
}

function nonEmpty(ts: readonly Tensor[], op: string): void {
  if (ts.length === 0) throw new TypeError(`Cannot ${op} an empty list of tensors`);
}

/**
 * Concatenates tensors along an existing dim.
 *
 * @example Usage
 * ```ts
 * import { cat, ones, zeros } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * using a = zeros([1, 2]);
 * using b = ones([1, 2]);
 * using c = cat([a, b], 0);
 * assert.deepEqual(c.toArray(), [[0, 0], [1, 1]]);
 * ```
 */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  nonEmpty(tensors, "cat");
  return wrap(sym.ts_cat(handles(tensors), tensors.length, dim), "cat");
}

/**
 * Stacks same-shaped tensors along a new dim.
 *
 * @example Usage
 * ```ts
 * import { scope, stack, tensor } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(scope(() => stack([tensor([1, 2]), tensor([3, 4])], 1).toArray()), [[1, 3], [2, 4]]);
 * ```
 */
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  nonEmpty(tensors, "stack");
  return wrap(sym.ts_stack(handles(tensors), tensors.length, dim), "stack");
}

/**
 * Elementwise `condition ? a : b` (broadcast).
 *
 * @example Usage
 * ```ts
 * import { scope, tensor } from "@unigrad/unigrad";
 * import { where } from "@unigrad/unigrad/torch";
 * import assert from "node:assert/strict";
 *
 * const r = scope(() => where(tensor([true, false]), tensor([1, 2]), tensor([9, 9])).toArray());
 * assert.deepEqual(r, [1, 9]);
 * ```
 */
export function where(condition: Tensor, a: Tensor, b: Tensor): Tensor {
  return wrap(sym.ts_where(condition[HANDLE], a[HANDLE], b[HANDLE]), "where");
}

/** Options of `conv2d` (square kernels: one number per setting). */
export interface Conv2dOptions {
  /** Step of the kernel. @default 1 */
  stride?: number;
  /** Zero padding on every side. @default 0 */
  padding?: number;
  /** Spacing of the kernel taps. @default 1 */
  dilation?: number;
  /** Channel groups (C for depthwise). @default 1 */
  groups?: number;
}

/**
 * 2-D convolution: x [N, C, H, W], weight [O, C/groups, k, k], bias [O] → [N, O, H', W'].
 *
 * @example Usage
 * ```ts
 * import { conv2d } from "@unigrad/unigrad/torch";
 * import { ones, scope } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const y = scope(() => conv2d(ones([1, 1, 4, 4]), ones([2, 1, 3, 3]), null, { padding: 1 }));
 * assert.deepEqual(y.shape, [1, 2, 4, 4]);
 * assert.equal(scope(() => y.max().item()), 9);
 * y.dispose();
 * ```
 */
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, options: Conv2dOptions = {}): Tensor {
  const { stride = 1, padding = 0, dilation = 1, groups = 1 } = options;
  return wrap(sym.ts_conv2d(x[HANDLE], weight[HANDLE], optHandle(bias), stride, padding, dilation, groups), "conv2d");
}

/** Options of `batchNorm`. */
export interface BatchNormOptions {
  /** Per-channel scale [C]. @default null */
  weight?: Tensor | null;
  /** Per-channel shift [C]. @default null */
  bias?: Tensor | null;
  /** Running mean [C], updated in place when training. @default null */
  runningMean?: Tensor | null;
  /** Running variance [C], updated in place when training. @default null */
  runningVar?: Tensor | null;
  /** Use batch statistics (and update the running ones). @default true */
  training?: boolean;
  /** Running-statistics momentum (PyTorch convention). @default 0.1 */
  momentum?: number;
  /** Added to the variance. @default 1e-5 */
  eps?: number;
}

/**
 * Batch normalisation over [N, C, ...]; updates the running statistics in place in training.
 *
 * @example Usage
 * ```ts
 * import { batchNorm } from "@unigrad/unigrad/torch";
 * import { scope, tensor } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const y = scope(() => batchNorm(tensor([[1], [3]]), { eps: 0 }).toArray());
 * assert.deepEqual(y, [[-1], [1]]); // (x − mean) / std over the batch
 * ```
 */
export function batchNorm(x: Tensor, options: BatchNormOptions = {}): Tensor {
  const { training = true, momentum = 0.1, eps = 1e-5 } = options;
  return wrap(
    sym.ts_batch_norm(
      x[HANDLE],
      optHandle(options.weight),
      optHandle(options.bias),
      optHandle(options.runningMean),
      optHandle(options.runningVar),
      training ? 1 : 0,
      momentum,
      eps,
    ),
    "batchNorm",
  );
}

/**
 * Layer normalisation over the trailing `shape` dims.
 *
 * @example Usage
 * ```ts
 * import { layerNorm } from "@unigrad/unigrad/torch";
 * import { scope, tensor } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const y = scope(() => layerNorm(tensor([[1, 3]]), [2], null, null, 0).toArray());
 * assert.deepEqual(y, [[-1, 1]]);
 * ```
 */
export function layerNorm(
  x: Tensor,
  shape: readonly number[],
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  eps = 1e-5,
): Tensor {
  const d = dims(shape);
  return wrap(sym.ts_layer_norm(x[HANDLE], d, d.length, optHandle(weight), optHandle(bias), eps), "layerNorm");
}

/**
 * Max pooling with a square window (stride defaults to the kernel size).
 *
 * @example Usage
 * ```ts
 * import { maxPool2d } from "@unigrad/unigrad/torch";
 * import { scope, tensor } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const y = scope(() => maxPool2d(tensor([[[[1, 2], [3, 4]]]]), 2).toArray());
 * assert.deepEqual(y, [[[[4]]]]);
 * ```
 */
export function maxPool2d(x: Tensor, kernel: number, stride = kernel, padding = 0, ceilMode = false): Tensor {
  return wrap(sym.ts_max_pool2d(x[HANDLE], kernel, stride, padding, ceilMode ? 1 : 0), "maxPool2d");
}

/**
 * Average pooling with a square window (stride defaults to the kernel size).
 *
 * @example Usage
 * ```ts
 * import { avgPool2d } from "@unigrad/unigrad/torch";
 * import { scope, tensor } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const y = scope(() => avgPool2d(tensor([[[[1, 2], [3, 4]]]]), 2).toArray());
 * assert.deepEqual(y, [[[[2.5]]]]);
 * ```
 */
export function avgPool2d(x: Tensor, kernel: number, stride = kernel, padding = 0): Tensor {
  return wrap(sym.ts_avg_pool2d(x[HANDLE], kernel, stride, padding), "avgPool2d");
}

/**
 * Adaptive average pooling to an output of [h, w] (w defaults to h).
 *
 * @example Usage
 * ```ts
 * import { adaptiveAvgPool2d } from "@unigrad/unigrad/torch";
 * import { ones, scope } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(scope(() => adaptiveAvgPool2d(ones([2, 3, 7, 7]), 1).shape), [2, 3, 1, 1]);
 * ```
 */
export function adaptiveAvgPool2d(x: Tensor, h: number, w: number = h): Tensor {
  return wrap(sym.ts_adaptive_avg_pool2d(x[HANDLE], h, w), "adaptiveAvgPool2d");
}

/**
 * x [.., I] · weightᵀ [I, O] (+ bias [O]) → [.., O].
 *
 * @example Usage
 * ```ts
 * import { linear, scope, tensor } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const y = scope(() => linear(tensor([[1, 2]]), tensor([[1, 1], [0, 1]]), tensor([0, 10])).toArray());
 * assert.deepEqual(y, [[3, 12]]); // x·Wᵀ + b
 * ```
 */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  return wrap(sym.ts_linear(x[HANDLE], weight[HANDLE], optHandle(bias)), "linear");
}

/**
 * max(x, 0).
 *
 * @example Usage
 * ```ts
 * import { relu } from "@unigrad/unigrad/torch";
 * import { scope, tensor } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(scope(() => relu(tensor([-1, 2])).toArray()), [0, 2]);
 * ```
 */
export function relu(x: Tensor): Tensor {
  return x.relu();
}

/**
 * Softmax along `dim`.
 *
 * @example Usage
 * ```ts
 * import { scope, tensor } from "@unigrad/unigrad";
 * import { softmax } from "@unigrad/unigrad/torch";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(scope(() => softmax(tensor([[0, 0]]), 1).toArray()), [[0.5, 0.5]]);
 * ```
 */
export function softmax(x: Tensor, dim: number): Tensor {
  return x.softmax(dim);
}

/**
 * Log-softmax along `dim`.
 *
 * @example Usage
 * ```ts
 * import { logSoftmax } from "@unigrad/unigrad/torch";
 * import { scope, tensor } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const y = scope(() => logSoftmax(tensor([[0, 0]], { dtype: "float64" }), 1).toArray()) as number[][];
 * assert.ok(Math.abs(y[0][0] - Math.log(0.5)) < 1e-12);
 * ```
 */
export function logSoftmax(x: Tensor, dim: number): Tensor {
  return x.logSoftmax(dim);
}

/** How a loss reduces over the batch. */
export type Reduction = "none" | "mean" | "sum";
const REDUCTION: Record<Reduction, number> = { none: 0, mean: 1, sum: 2 };

/**
 * Cross entropy of logits [N, C] against int64 class targets [N].
 *
 * @example Usage
 * ```ts
 * import { crossEntropy } from "@unigrad/unigrad/torch";
 * import { tensor } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * using logits = tensor([[0, 0]]);
 * using target = tensor([1], { dtype: "int64" });
 * using loss = crossEntropy(logits, target);
 * assert.ok(Math.abs(loss.item() - Math.log(2)) < 1e-6);
 * ```
 */
export function crossEntropy(
  logits: Tensor,
  target: Tensor,
  reduction: Reduction = "mean",
  labelSmoothing = 0,
): Tensor {
  return wrap(
    sym.ts_cross_entropy_loss(logits[HANDLE], target[HANDLE], REDUCTION[reduction], labelSmoothing),
    "crossEntropy",
  );
}

/**
 * Mean squared error.
 *
 * @example Usage
 * ```ts
 * import { mseLoss } from "@unigrad/unigrad/torch";
 * import { scope, tensor } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * assert.equal(scope(() => mseLoss(tensor([1, 3]), tensor([0, 0])).item()), 5);
 * ```
 */
export function mseLoss(x: Tensor, target: Tensor, reduction: Reduction = "mean"): Tensor {
  return wrap(sym.ts_mse_loss(x[HANDLE], target[HANDLE], REDUCTION[reduction]), "mseLoss");
}

/**
 * x / max(‖x‖_p, eps) along `dim` (as `torch.nn.functional.normalize`).
 *
 * @example Usage
 * ```ts
 * import { normalize, scope, tensor } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const n = scope(() => normalize(tensor([[3, 4]]), 1).toArray());
 * assert.deepEqual(n, [[0.6000000238418579, 0.800000011920929]]);
 * ```
 */
export function normalize(x: Tensor, dim = 1, p = 2, eps = 1e-12): Tensor {
  using norm = x.norm(p, dim, true);
  using denom = norm.clamp(eps);
  return x.div(denom);
}

/**
 * Sampling grid [N, H, W, 2] for affine matrices theta [N, 2, 3] and an output size [N, C, H, W].
 *
 * @example Usage
 * ```ts
 * import { affineGrid } from "@unigrad/unigrad/torch";
 * import { scope, tensor } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const theta = tensor([[[1, 0, 0], [0, 1, 0]]]); // the identity transform
 * assert.deepEqual(scope(() => affineGrid(theta, [1, 1, 4, 4]).shape), [1, 4, 4, 2]);
 * theta.dispose();
 * ```
 */
export function affineGrid(theta: Tensor, size: readonly number[], alignCorners = false): Tensor {
  const d = dims(size);
  return wrap(sym.ts_affine_grid_generator(theta[HANDLE], d, d.length, alignCorners ? 1 : 0), "affineGrid");
}

const GRID_MODE = { bilinear: 0, nearest: 1 } as const;
const GRID_PADDING = { zeros: 0, border: 1, reflection: 2 } as const;

/** Options of `gridSample`. */
export interface GridSampleOptions {
  /** Interpolation. @default "bilinear" */
  mode?: "bilinear" | "nearest";
  /** Value outside the input. @default "zeros" */
  padding?: "zeros" | "border" | "reflection";
  /** Whether ±1 are the centres (true) or the outer edges (false) of the corner pixels. @default false */
  alignCorners?: boolean;
}

/**
 * Samples x [N, C, H, W] at normalised grid points [N, h, w, 2] → [N, C, h, w].
 *
 * @example Usage
 * ```ts
 * import { affineGrid, gridSample } from "@unigrad/unigrad/torch";
 * import { rand, scope, tensor } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const same = scope(() => {
 *   const x = rand([1, 1, 4, 4]);
 *   const grid = affineGrid(tensor([[[1, 0, 0], [0, 1, 0]]]), [1, 1, 4, 4]); // identity
 *   return gridSample(x, grid).sub(x).abs().max().item();
 * });
 * assert.ok(same < 1e-6);
 * ```
 */
export function gridSample(x: Tensor, grid: Tensor, options: GridSampleOptions = {}): Tensor {
  const { mode = "bilinear", padding = "zeros", alignCorners = false } = options;
  return wrap(
    sym.ts_grid_sampler(x[HANDLE], grid[HANDLE], GRID_MODE[mode], GRID_PADDING[padding], alignCorners ? 1 : 0),
    "gridSample",
  );
}

/**
 * Resizes [N, C, H, W] to [N, C, h, w] with bilinear or nearest interpolation.
 *
 * @example Usage
 * ```ts
 * import { interpolate } from "@unigrad/unigrad/torch";
 * import { ones, scope } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(scope(() => interpolate(ones([1, 3, 8, 8]), [4, 6]).shape), [1, 3, 4, 6]);
 * ```
 */
export function interpolate(
  x: Tensor,
  size: readonly [number, number],
  mode: "bilinear" | "nearest" = "bilinear",
  alignCorners = false,
): Tensor {
  return mode === "nearest"
    ? wrap(sym.ts_upsample_nearest2d(x[HANDLE], size[0], size[1]), "interpolate")
    : wrap(sym.ts_upsample_bilinear2d(x[HANDLE], size[0], size[1], alignCorners ? 1 : 0), "interpolate");
}

/**
 * Zeroes entries with probability p and scales the rest by 1/(1−p) when training.
 *
 * @example Usage
 * ```ts
 * import { dropout } from "@unigrad/unigrad/torch";
 * import { ones, scope } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(scope(() => dropout(ones([3]), 0.5, false).toArray()), [1, 1, 1]); // identity in eval
 * ```
 */
export function dropout(x: Tensor, p = 0.5, training = true): Tensor {
  return wrap(sym.ts_dropout(x[HANDLE], p, training ? 1 : 0), "dropout");
}

/**
 * One-hot encoding of int64 class indices → int64 [.., classes].
 *
 * @example Usage
 * ```ts
 * import { oneHot } from "@unigrad/unigrad/torch";
 * import { scope, tensor } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const y = scope(() => oneHot(tensor([2, 0], { dtype: "int64" }), 3).toArray());
 * assert.deepEqual(y, [[0, 0, 1], [1, 0, 0]]);
 * ```
 */
export function oneHot(x: Tensor, classes: number): Tensor {
  return wrap(sym.ts_one_hot(x[HANDLE], classes), "oneHot");
}

/**
 * Pads the trailing dims with a constant; `pad` lists (before, after) pairs from the last dim.
 *
 * @example Usage
 * ```ts
 * import { ones, scope } from "@unigrad/unigrad";
 * import { pad } from "@unigrad/unigrad/torch";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(scope(() => pad(ones([1, 2]), [1, 0]).toArray()), [[0, 1, 1]]);
 * ```
 */
export function pad(x: Tensor, padding: readonly number[], value = 0): Tensor {
  const d = dims(padding);
  return wrap(sym.ts_constant_pad_nd(x[HANDLE], d, d.length, value), "pad");
}

/**
 * Eigen-decomposition of a symmetric matrix: ascending eigenvalues and eigenvector columns.
 *
 * @example Usage
 * ```ts
 * import { eigh } from "@unigrad/unigrad/torch";
 * import { scope, tensor } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const values = scope(() => eigh(tensor([[2, 0], [0, 1]], { dtype: "float64" })).values.toArray());
 * assert.deepEqual(values, [1, 2]); // ascending
 * ```
 */
export function eigh(x: Tensor): { values: Tensor; vectors: Tensor } {
  check(sym.ts_linalg_eigh(x[HANDLE], OUT), "eigh");
  return { values: new Tensor(outPointer(OUT, 0)!), vectors: new Tensor(outPointer(OUT, 1)!) };
}

/**
 * Singular values, descending.
 *
 * @example Usage
 * ```ts
 * import { scope, tensor } from "@unigrad/unigrad";
 * import { svdvals } from "@unigrad/unigrad/torch";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(scope(() => svdvals(tensor([[3, 0], [0, -4]], { dtype: "float64" })).toArray()), [4, 3]);
 * ```
 */
export function svdvals(x: Tensor): Tensor {
  return wrap(sym.ts_linalg_svdvals(x[HANDLE]), "svdvals");
}

/**
 * Inverse of a square matrix.
 *
 * @example Usage
 * ```ts
 * import { inv } from "@unigrad/unigrad/torch";
 * import { scope, tensor } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(scope(() => inv(tensor([[2, 0], [0, 4]], { dtype: "float64" })).toArray()), [[0.5, 0], [0, 0.25]]);
 * ```
 */
export function inv(x: Tensor): Tensor {
  return wrap(sym.ts_linalg_inv(x[HANDLE]), "inv");
}
