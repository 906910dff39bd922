/**
 * `Conv2d`: 2-D convolution with square kernels, initialised as torchvision's ResNet does.
 *
 * @module
 */
import { conv2d, empty, type Tensor } from "../torch/mod.ts";
import { Module } from "./module.ts";
import { fans, kaimingNormal_, kaimingUniform_, uniform_ } from "./init.ts";

/** Options of the `Conv2d` layer. */
export interface Conv2dLayerOptions {
  /** Step of the kernel. @default 1 */
  stride?: number;
  /** Zero padding on each side. @default 0 */
  padding?: number;
  /** Spacing of the kernel taps. @default 1 */
  dilation?: number;
  /** Channel groups (in and out channels must divide by it). @default 1 */
  groups?: number;
  /** Add a learnable bias. Off by default, unlike `torch.nn.Conv2d`: ResNet convs feed a BatchNorm. @default false */
  bias?: boolean;
  /**
   * Weight initialisation: "kaiming_normal" is torchvision ResNet's `kaiming_normal_(mode="fan_out",
   * nonlinearity="relu")`, N(0, 2/fan_out); "torch" is `nn.Conv2d`'s default, kaiming_uniform(a = √5).
   * @default "kaiming_normal"
   */
  init?: "kaiming_normal" | "torch";
}

/**
 * 2-D convolution x [N, C, H, W] → [N, O, H', W'] with `weight` [O, C/groups, k, k] (and `bias` [O]).
 * Works on NCHW and channels_last inputs alike.
 *
 * @example Usage
 * ```ts
 * import { Conv2d } from "@unigrad/unigrad/nn";
 * import { randn, scope } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const conv = new Conv2d(3, 8, 3, { stride: 2, padding: 1 });
 * assert.deepEqual(scope(() => conv.forward(randn([2, 3, 32, 32])).shape), [2, 8, 16, 16]);
 * assert.equal(conv.numParameters(), 8 * 3 * 3 * 3);
 * conv.dispose();
 * ```
 */
export class Conv2d extends Module {
  /** Weight [O, C/groups, k, k]. */
  readonly weight: Tensor;
  /** Bias [O], or null. */
  readonly bias: Tensor | null;
  readonly #options: { stride: number; padding: number; dilation: number; groups: number };

  /**
   * Makes a convolution layer (torch argument order).
   *
   * @param inChannels C.
   * @param outChannels O.
   * @param kernelSize k (square kernel).
   * @throws {RangeError} When a size is not a positive integer or the channels do not divide by `groups`.
   */
  constructor(inChannels: number, outChannels: number, kernelSize: number, options: Conv2dLayerOptions = {}) {
    super();
    const { stride = 1, padding = 0, dilation = 1, groups = 1, bias = false, init = "kaiming_normal" } = options;
    const sizes = { inChannels, outChannels, kernelSize, stride, dilation, groups };
    for (const [name, v] of Object.entries(sizes)) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`Conv2d ${name} must be a positive integer, got ${v}`);
    }
    if (!Number.isInteger(padding) || padding < 0) {
      throw new RangeError(`Conv2d padding must be a non-negative integer, got ${padding}`);
    }
    if (inChannels % groups || outChannels % groups) {
      throw new RangeError(`Conv2d channels ${inChannels} → ${outChannels} do not divide by groups = ${groups}`);
    }
    this.#options = { stride, padding, dilation, groups };
    const w = empty([outChannels, inChannels / groups, kernelSize, kernelSize]);
    if (init === "torch") kaimingUniform_(w, { a: Math.sqrt(5) });
    else kaimingNormal_(w, { mode: "fan_out" });
    this.weight = this.registerParameter("weight", w);
    const bound = 1 / Math.sqrt(fans(w).fanIn);
    this.bias = bias ? this.registerParameter("bias", uniform_(empty([outChannels]), -bound, bound)) : null;
  }

  /** x [N, C, H, W] → [N, O, H', W']. */
  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, this.#options);
  }
}
