/**
 * ResNet's residual blocks with torchvision's names: `BasicBlock` (two 3×3 convs) and `Bottleneck`
 * (1×1, 3×3, 1×1; stride on the 3×3 as in torchvision's "ResNet v1.5"), each with an optional
 * `downsample` (1×1 conv + BN) on the shortcut.
 *
 * @module
 */
import type { Tensor } from "../torch/mod.ts";
import { BatchNorm2d } from "./batchnorm.ts";
import { Conv2d } from "./conv.ts";
import { Module, Sequential } from "./module.ts";

/** The 1×1 conv + BN projection shortcut (`downsample.0`, `downsample.1`). */
export function downsample(inChannels: number, outChannels: number, stride: number): Sequential {
  return new Sequential([
    new Conv2d(inChannels, outChannels, 1, { stride, init: "torch" }),
    new BatchNorm2d(outChannels),
  ]);
}

/** Options of `BasicBlock` and `Bottleneck`. */
export interface BlockOptions {
  /** Stride of the block's strided conv (and of the shortcut). @default 1 */
  stride?: number;
  /** The projection shortcut (build it first, as torchvision does, to draw the same random numbers). @default null */
  downsample?: Sequential | null;
}

/** Adds the shortcut to the residual branch `out` in place, then applies ReLU in place. */
function merge(out: Tensor, x: Tensor, shortcut: Sequential | null): Tensor {
  if (shortcut === null) return out.add_(x).relu_();
  const id = shortcut.forward(x);
  out.add_(id).relu_();
  id.dispose();
  return out;
}

/**
 * conv3×3 → BN → ReLU → conv3×3 → BN, plus the shortcut, then ReLU (ResNet-18/34; expansion 1).
 * Convs start with `nn.Conv2d`'s default init: `ResNet` re-initialises them as torchvision does.
 *
 * @example Usage
 * ```ts
 * import { BasicBlock } from "@unigrad/unigrad/nn";
 * import { randn, scope } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const block = new BasicBlock(8, 8);
 * assert.deepEqual(scope(() => block.forward(randn([2, 8, 6, 6])).shape), [2, 8, 6, 6]);
 * block.dispose();
 * ```
 */
export class BasicBlock extends Module {
  /** Output channels per input "planes". */
  static readonly expansion = 1;
  /** First 3×3 conv (carries the stride). */
  readonly conv1: Conv2d;
  /** BN after conv1. */
  readonly bn1: BatchNorm2d;
  /** Second 3×3 conv. */
  readonly conv2: Conv2d;
  /** BN after conv2: the last BN of the block (zero-initialised with zeroInitResidual). */
  readonly bn2: BatchNorm2d;
  /** Projection shortcut, or null for the identity. */
  readonly downsample: Sequential | null;

  /**
   * Makes a basic block; `options.stride` applies to conv1.
   *
   * @param inChannels Input channels.
   * @param planes Output channels.
   */
  constructor(inChannels: number, planes: number, options: BlockOptions = {}) {
    super();
    const { stride = 1, downsample: shortcut = null } = options;
    this.conv1 = this.registerModule("conv1", new Conv2d(inChannels, planes, 3, { stride, padding: 1, init: "torch" }));
    this.bn1 = this.registerModule("bn1", new BatchNorm2d(planes));
    this.conv2 = this.registerModule("conv2", new Conv2d(planes, planes, 3, { padding: 1, init: "torch" }));
    this.bn2 = this.registerModule("bn2", new BatchNorm2d(planes));
    this.downsample = shortcut && this.registerModule("downsample", shortcut);
  }

  /** The BN whose γ zeroInitResidual sets to 0. */
  get lastBn(): BatchNorm2d {
    return this.bn2;
  }

  /** x [N, C, H, W] → [N, planes, H/stride, W/stride]; intermediates are freed. */
  forward(x: Tensor): Tensor {
    const a = this.conv1.forward(x);
    const b = this.bn1.forward(a).relu_();
    a.dispose();
    const c = this.conv2.forward(b);
    b.dispose();
    const out = this.bn2.forward(c);
    c.dispose();
    return merge(out, x, this.downsample);
  }
}

/**
 * conv1×1 → BN → ReLU → conv3×3 (stride) → BN → ReLU → conv1×1 → BN, plus the shortcut, then ReLU
 * (ResNet-50/101/152; expansion 4, inner width = planes).
 *
 * @example Usage
 * ```ts
 * import { Bottleneck } from "@unigrad/unigrad/nn";
 * import { randn, scope } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const block = new Bottleneck(16, 4); // planes 4, expansion 4: 16 channels out
 * assert.deepEqual(scope(() => block.forward(randn([2, 16, 5, 5])).shape), [2, 16, 5, 5]);
 * block.dispose();
 * ```
 */
export class Bottleneck extends Module {
  /** Output channels per input "planes". */
  static readonly expansion = 4;
  /** 1×1 reduction. */
  readonly conv1: Conv2d;
  /** BN after conv1. */
  readonly bn1: BatchNorm2d;
  /** 3×3 conv (carries the stride). */
  readonly conv2: Conv2d;
  /** BN after conv2. */
  readonly bn2: BatchNorm2d;
  /** 1×1 expansion to 4·planes. */
  readonly conv3: Conv2d;
  /** BN after conv3: the last BN of the block. */
  readonly bn3: BatchNorm2d;
  /** Projection shortcut, or null for the identity. */
  readonly downsample: Sequential | null;

  /**
   * Makes a bottleneck block; `options.stride` applies to conv2 (the 3×3).
   *
   * @param inChannels Input channels.
   * @param planes Inner width; the output has 4·planes channels.
   */
  constructor(inChannels: number, planes: number, options: BlockOptions = {}) {
    super();
    const { stride = 1, downsample: shortcut = null } = options;
    const out = planes * Bottleneck.expansion;
    this.conv1 = this.registerModule("conv1", new Conv2d(inChannels, planes, 1, { init: "torch" }));
    this.bn1 = this.registerModule("bn1", new BatchNorm2d(planes));
    this.conv2 = this.registerModule("conv2", new Conv2d(planes, planes, 3, { stride, padding: 1, init: "torch" }));
    this.bn2 = this.registerModule("bn2", new BatchNorm2d(planes));
    this.conv3 = this.registerModule("conv3", new Conv2d(planes, out, 1, { init: "torch" }));
    this.bn3 = this.registerModule("bn3", new BatchNorm2d(out));
    this.downsample = shortcut && this.registerModule("downsample", shortcut);
  }

  /** The BN whose γ zeroInitResidual sets to 0. */
  get lastBn(): BatchNorm2d {
    return this.bn3;
  }

  /** x [N, C, H, W] → [N, 4·planes, H/stride, W/stride]; intermediates are freed. */
  forward(x: Tensor): Tensor {
    let t = this.conv1.forward(x);
    for (const [bn, conv] of [[this.bn1, this.conv2], [this.bn2, this.conv3]] as const) {
      const u = bn.forward(t).relu_();
      t.dispose();
      t = conv.forward(u);
      u.dispose();
    }
    const out = this.bn3.forward(t);
    t.dispose();
    return merge(out, x, this.downsample);
  }
}
