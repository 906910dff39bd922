/**
 * `Linear`: y = x·Wᵀ + b, initialised as `torch.nn.Linear`.
 *
 * @module
 */
import { empty, linear, type Tensor } from "../torch/mod.ts";
import { Module } from "./module.ts";
import { kaimingUniform_, uniform_ } from "./init.ts";

/** Options of `Linear`. */
export interface LinearOptions {
  /** Add a learnable bias (drop it when a BatchNorm follows). @default true */
  bias?: boolean;
}

/**
 * A fully connected layer: x [N, I] → [N, O], with parameters `weight` [O, I] and `bias` [O].
 *
 * Initialisation is PyTorch's default: weight from kaiming_uniform(a = √5), i.e. U(−1/√I, 1/√I),
 * and bias from U(−1/√I, 1/√I).
 *
 * @example Usage
 * ```ts
 * import { Linear, manualSeed, randn, scope } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * manualSeed(0);
 * const fc = new Linear(4, 3);
 * const shape = scope(() => fc.forward(randn([2, 4])).shape);
 * assert.deepEqual(shape, [2, 3]);
 * assert.equal(fc.numParameters(), 4 * 3 + 3);
 * fc.dispose();
 * ```
 */
export class Linear extends Module {
  /** Weight [O, I]. */
  readonly weight: Tensor;
  /** Bias [O], or null. */
  readonly bias: Tensor | null;

  /**
   * Makes a fully connected layer.
   *
   * @param inFeatures I, the input width.
   * @param outFeatures O, the output width.
   * @throws {RangeError} When a width is not a positive integer.
   */
  constructor(inFeatures: number, outFeatures: number, options: LinearOptions = {}) {
    super();
    for (const [name, v] of [["inFeatures", inFeatures], ["outFeatures", outFeatures]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`Linear ${name} must be a positive integer, got ${v}`);
    }
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = this.registerParameter(
      "weight",
      kaimingUniform_(empty([outFeatures, inFeatures]), { a: Math.sqrt(5) }),
    );
    this.bias = options.bias ?? true
      ? this.registerParameter("bias", uniform_(empty([outFeatures]), -bound, bound))
      : null;
  }

  /** x [.., I] → [.., O]. */
  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}
