/**
 * `BatchNorm1d` and `BatchNorm2d`, with PyTorch's parameter and buffer names (`weight`, `bias`,
 * `running_mean`, `running_var`, `num_batches_tracked`) so state dicts load into torchvision.
 *
 * @module
 */
import { batchNorm, type BatchNormOptions, full, noGrad, type Tensor, zeros } from "../torch/mod.ts";
import { Module } from "./module.ts";

/**
 * A training-mode batch normalisation with `batchNorm`'s signature: libtorch's by default, or one whose
 * statistics span several processes (`syncBatchNorm` of a process group).
 */
export type BatchNormFn = (x: Tensor, options: BatchNormOptions) => Tensor;

/** Options of the `BatchNorm1d` and `BatchNorm2d` layers. */
export interface BatchNormLayerOptions {
  /** Running-statistics update: running ← (1 − momentum)·running + momentum·batch. @default 0.1 */
  momentum?: number;
  /** Added to the variance. @default 1e-5 */
  eps?: number;
  /** Start γ (`weight`) at 0 instead of 1, e.g. the last BN of a residual block. @default false */
  zeroInit?: boolean;
}

/**
 * The base of `BatchNorm1d` and `BatchNorm2d`: training uses batch statistics and updates the running ones
 * in place; eval uses the running ones.
 *
 * @example Usage
 * ```ts
 * import { BatchNorm, BatchNorm1d } from "@unigrad/unigrad/nn";
 * import assert from "node:assert/strict";
 *
 * const bn = new BatchNorm1d(4); // BatchNorm1d and BatchNorm2d are the concrete layers
 * assert.ok(bn instanceof BatchNorm);
 * assert.deepEqual(bn.namedParameters().map(([k]) => k), ["weight", "bias"]);
 * bn.dispose();
 * ```
 */
export abstract class BatchNorm extends Module {
  /** γ [C]. */
  readonly weight: Tensor;
  /** β [C]. */
  readonly bias: Tensor;
  /** Running mean [C]. */
  readonly running_mean: Tensor;
  /** Running (unbiased) variance [C]. */
  readonly running_var: Tensor;
  /** Number of training batches seen (int64 scalar). */
  readonly num_batches_tracked: Tensor;
  /** Channels C. */
  readonly numFeatures: number;
  /**
   * Whether training-mode forwards update the running statistics and the batch counter (as PyTorch's
   * `track_running_stats`, but eval mode still normalises with the running statistics). A momentum
   * encoder turns it off: its running statistics are overwritten by the online ones at every update,
   * so updating them would be work thrown away. @default true
   */
  updateRunningStats = true;
  readonly #momentum: number;
  readonly #eps: number;
  #training: BatchNormFn = batchNorm;

  /**
   * Registers γ = 1 (0 with `zeroInit`), β = 0, running mean 0, running variance 1 and the batch counter.
   *
   * @param numFeatures C, the channel count.
   * @throws {RangeError} On a non-positive C, a momentum outside [0, 1] or a non-positive eps.
   */
  constructor(numFeatures: number, options: BatchNormLayerOptions) {
    super();
    const { momentum = 0.1, eps = 1e-5, zeroInit = false } = options;
    if (!Number.isInteger(numFeatures) || numFeatures < 1) {
      throw new RangeError(`BatchNorm numFeatures must be a positive integer, got ${numFeatures}`);
    }
    if (!(momentum >= 0 && momentum <= 1)) {
      throw new RangeError(`BatchNorm momentum must be in [0, 1], got ${momentum}`);
    }
    if (!(eps > 0)) throw new RangeError(`BatchNorm eps must be positive, got ${eps}`);
    this.numFeatures = numFeatures;
    this.#momentum = momentum;
    this.#eps = eps;
    this.weight = this.registerParameter("weight", full([numFeatures], zeroInit ? 0 : 1));
    this.bias = this.registerParameter("bias", zeros([numFeatures]));
    this.running_mean = this.registerBuffer("running_mean", zeros([numFeatures]));
    this.running_var = this.registerBuffer("running_var", full([numFeatures], 1));
    this.num_batches_tracked = this.registerBuffer("num_batches_tracked", zeros([], { dtype: "int64" }));
  }

  /**
   * Replaces the training-mode normalisation, e.g. with synchronised batch norm across processes
   * (`(x, o) => syncBatchNorm(group, x, o)`); null restores libtorch's. Eval mode always uses libtorch's
   * with the running statistics.
   */
  setTrainingNorm(fn: BatchNormFn | null): void {
    this.#training = fn ?? batchNorm;
  }

  /** Whether an input of this shape has the rank the layer expects. */
  protected abstract checkInput(shape: number[]): boolean;

  /** Normalises x [N, C, ...]: batch statistics in training (updating the running ones), running ones in eval. */
  forward(x: Tensor): Tensor {
    const shape = x.shape;
    if (!this.checkInput(shape) || shape[1] !== this.numFeatures) {
      throw new TypeError(
        `Cannot apply ${this.constructor.name}(${this.numFeatures}): input has shape [${shape.join(", ")}]`,
      );
    }
    const training = this.training;
    const update = !training || this.updateRunningStats;
    if (training && update) noGrad(() => this.num_batches_tracked.add_(1));
    return (training ? this.#training : batchNorm)(x, {
      weight: this.weight,
      bias: this.bias,
      runningMean: update ? this.running_mean : null,
      runningVar: update ? this.running_var : null,
      training,
      momentum: this.#momentum,
      eps: this.#eps,
    });
  }
}

/**
 * Batch normalisation over [N, C] or [N, C, L] (as `torch.nn.BatchNorm1d`), used in projector and
 * predictor heads.
 *
 * @example Usage
 * ```ts
 * import { BatchNorm1d } from "@unigrad/unigrad/nn";
 * import { scope, tensor } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const bn = new BatchNorm1d(1);
 * const y = scope(() => bn.forward(tensor([[1], [3]])).toArray()) as number[][];
 * assert.ok(Math.abs(y[0][0] + 1) < 1e-4 && Math.abs(y[1][0] - 1) < 1e-4);
 * assert.ok(Math.abs(bn.running_mean.item() - 0.2) < 1e-6); // 0.9·0 + 0.1·2
 * bn.dispose();
 * ```
 */
export class BatchNorm1d extends BatchNorm {
  /**
   * Makes a BatchNorm1d layer.
   *
   * @param numFeatures C, the channel count.
   */
  constructor(numFeatures: number, options: BatchNormLayerOptions = {}) {
    super(numFeatures, options);
  }

  /** Accepts [N, C] and [N, C, L]. */
  protected checkInput(shape: number[]): boolean {
    return shape.length === 2 || shape.length === 3;
  }
}

/**
 * Batch normalisation over [N, C, H, W] (as `torch.nn.BatchNorm2d`); any memory layout
 * (channels_last included).
 *
 * @example Usage
 * ```ts
 * import { BatchNorm2d } from "@unigrad/unigrad/nn";
 * import { rand, scope } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const bn = new BatchNorm2d(3);
 * const mean = scope(() => bn.forward(rand([8, 3, 4, 4])).mean().item());
 * assert.ok(Math.abs(mean) < 1e-5); // training mode: batch statistics
 * bn.dispose();
 * ```
 */
export class BatchNorm2d extends BatchNorm {
  /**
   * Makes a BatchNorm2d layer.
   *
   * @param numFeatures C, the channel count.
   */
  constructor(numFeatures: number, options: BatchNormLayerOptions = {}) {
    super(numFeatures, options);
  }

  /** Accepts [N, C, H, W]. */
  protected checkInput(shape: number[]): boolean {
    return shape.length === 4;
  }
}
