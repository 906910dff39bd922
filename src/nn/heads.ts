/**
 * Projector and predictor heads built from block lists (as lightly's `ProjectionHead`): one
 * `mlp(blocks)` builder and the named heads of the methods, with the papers' sizes as defaults.
 *
 * @module
 */
import { BatchNorm1d } from "./batchnorm.ts";
import { Linear } from "./linear.ts";
import { type Module, Sequential } from "./module.ts";
import { ReLU } from "./activation.ts";

/** One block of an MLP head: Linear(in → out), then optionally BatchNorm1d and an activation. */
export interface MlpBlock {
  /** Input width. */
  in: number;
  /** Output width. */
  out: number;
  /** Follow the Linear by BatchNorm1d(out). @default false */
  batchNorm?: boolean;
  /** Activation after the (normalised) linear: "relu" (in place) or none. @default "none" */
  activation?: "relu" | "none";
  /** Give the Linear a bias. @default !batchNorm (a BN right after makes a bias redundant) */
  bias?: boolean;
}

/**
 * Builds a head from blocks as one flat `Sequential`, so state-dict names count layers:
 * `0.weight` (Linear), `1.weight`/`1.running_mean` (BN), `2` is the ReLU, `3.weight`, ….
 *
 * @param blocks The blocks, input to output; consecutive widths must match.
 * @returns The head.
 * @throws {TypeError} When a block's input width differs from the previous block's output width.
 *
 * @example Usage
 * ```ts
 * import { mlp } from "@unigrad/unigrad/nn";
 * import { randn, scope } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const head = mlp([
 *   { in: 8, out: 16, batchNorm: true, activation: "relu" },
 *   { in: 16, out: 4 },
 * ]);
 * assert.deepEqual([...head.stateDict().keys()].slice(0, 2), ["0.weight", "1.weight"]);
 * assert.deepEqual(scope(() => head.forward(randn([5, 8])).shape), [5, 4]);
 * head.dispose();
 * ```
 */
export function mlp(blocks: readonly MlpBlock[]): Sequential {
  if (blocks.length === 0) throw new TypeError("Cannot build an mlp from an empty block list");
  const layers: Module[] = [];
  blocks.forEach((b, i) => {
    if (i > 0 && b.in !== blocks[i - 1].out) {
      throw new TypeError(
        `Cannot build mlp: block ${i} takes ${b.in} features but block ${i - 1} gives ${blocks[i - 1].out}`,
      );
    }
    const bn = b.batchNorm ?? false;
    layers.push(new Linear(b.in, b.out, { bias: b.bias ?? !bn }));
    if (bn) layers.push(new BatchNorm1d(b.out));
    if ((b.activation ?? "none") === "relu") layers.push(new ReLU(true));
  });
  return new Sequential(layers);
}

/** Options of `unigradProjector`. */
export interface ProjectorOptions {
  /** Input width (the backbone's feature width; 512 for ResNet-18/34). @default 2048 */
  inDim?: number;
  /** Width of the hidden layers. @default 2048 */
  hiddenDim?: number;
  /** Output width d. λ = 100 belongs to d = 2048 (the mean eigenvalue of λF is λ/d; see `widthScaledLambda`). @default 2048 */
  outDim?: number;
  /** Number of Linear layers (≥ 1); every one but the last is followed by BN + ReLU. @default 3 */
  depth?: number;
  /** Bias on the output Linear (the official code's `nn.Linear(h_dims, out_dims)` has one). @default true */
  outputBias?: boolean;
}

/**
 * UniGrad's projector. The paper's ImageNet recipe (its section 4.1): a projector of three Linear 2048
 * layers (BN + ReLU after the first two, no bias). The official code (`project/model.py`,
 * `_projection_mlp`: "3 layers, with BN applied to its hidden fc layers but no ReLU on the output fc
 * layer") builds the hidden Linears with `bias=False` and the output one as `nn.Linear(h_dims, out_dims)`,
 * i.e. with a bias; that is the default here (`outputBias: false` drops it). The official model nests
 * each block in its own Sequential (`0.0.weight`); this one is flat: Linear, BN, ReLU, Linear, BN,
 * ReLU, Linear → keys `0.weight`, `1.*`, `3.weight`, `4.*`, `6.weight`, `6.bias`.
 *
 * @throws {RangeError} When `depth` is not a positive integer.
 *
 * @example Usage
 * ```ts
 * import { randn, scope, unigradProjector } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const proj = unigradProjector({ inDim: 64, hiddenDim: 32, outDim: 16 }); // paper: 2048 → 2048 → 2048 → 2048
 * assert.deepEqual(scope(() => proj.forward(randn([4, 64])).shape), [4, 16]);
 * assert.equal(proj.length, 7); // Linear, BN, ReLU, Linear, BN, ReLU, Linear
 * proj.dispose();
 * ```
 */
export function unigradProjector(options: ProjectorOptions = {}): Sequential {
  const { inDim = 2048, hiddenDim = 2048, outDim = 2048, depth = 3, outputBias = true } = options;
  if (!Number.isInteger(depth) || depth < 1) {
    throw new RangeError(`Projector depth must be a positive integer, got ${depth}`);
  }
  const blocks: MlpBlock[] = [];
  for (let i = 0; i < depth - 1; i++) {
    blocks.push({ in: i === 0 ? inDim : hiddenDim, out: hiddenDim, batchNorm: true, activation: "relu", bias: false });
  }
  blocks.push({ in: depth === 1 ? inDim : hiddenDim, out: outDim, bias: outputBias });
  return mlp(blocks);
}

/** Options of `predictorHead`. */
export interface PredictorOptions {
  /** Input width (the projector's output). @default 2048 */
  inDim?: number;
  /** Bottleneck width: 512 for SimSiam; BYOL uses 4096 (with inDim = outDim = 256). @default 512 */
  hiddenDim?: number;
  /** Output width (equal to inDim). @default 2048 */
  outDim?: number;
}

/**
 * The BYOL/SimSiam predictor: Linear → BN → ReLU → Linear. Defaults are SimSiam's: "The prediction
 * MLP (h) has BN applied to its hidden fc layers. Its output fc does not have BN or ReLU. This MLP has
 * 2 layers. The dimension of h's input and output (z and p) is d = 2048, and h's hidden layer's
 * dimension is 512." For BYOL ("a multi-layer perceptron (MLP) with a hidden layer of size 4096 followed by
 * batch normalization (BN), rectified linear units (ReLU), and a final linear layer with output dimension
 * 256")
 * pass `{ inDim: 256, hiddenDim: 4096, outDim: 256 }`. The hidden Linear has no bias (a BN follows);
 * the output Linear has one.
 *
 * @example Usage
 * ```ts
 * import { predictorHead } from "@unigrad/unigrad/nn";
 * import { randn, scope } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const h = predictorHead({ inDim: 16, hiddenDim: 8, outDim: 16 });
 * assert.deepEqual(scope(() => h.forward(randn([4, 16])).shape), [4, 16]);
 * h.dispose();
 * ```
 */
export function predictorHead(options: PredictorOptions = {}): Sequential {
  const { inDim = 2048, hiddenDim = 512, outDim = 2048 } = options;
  return mlp([
    { in: inDim, out: hiddenDim, batchNorm: true, activation: "relu", bias: false },
    { in: hiddenDim, out: outDim, bias: true },
  ]);
}
