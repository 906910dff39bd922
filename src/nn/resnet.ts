/**
 * The ResNet family with torchvision's parameter names (`conv1`, `bn1`, `layer1.0.conv1`,
 * `layer1.0.downsample.0`, `fc`) and initialisation, so state dicts load into torchvision as they
 * are: `resnet18`, `resnet34`, `resnet50`, and `resnet20` (the small CIFAR-style network of the CPU
 * default run). Options add a small-image stem, custom widths, input channels and an optional `fc`.
 *
 * @module
 */
import { maxPool2d, noGrad, type Tensor } from "../torch/mod.ts";
import { BatchNorm2d } from "./batchnorm.ts";
import { Conv2d } from "./conv.ts";
import { kaimingNormal_ } from "./init.ts";
import { Linear } from "./linear.ts";
import { Module, Sequential } from "./module.ts";
import { BasicBlock, Bottleneck, downsample } from "./resnet_blocks.ts";

/** Options shared by every ResNet factory. */
export interface ResNetOptions {
  /** Classes of the final `fc`; 0 omits it (an SSL backbone: `forward` = `features`). @default 1000 */
  numClasses?: number;
  /** Input channels (1 for Fashion-MNIST). @default 3 */
  inChannels?: number;
  /**
   * "imagenet": 7×7 stride-2 conv + 3×3 stride-2 max-pool; "small": 3×3 stride-1 conv, no max-pool
   * (32² or 28² images). @default "imagenet"
   */
  stem?: "imagenet" | "small";
  /** Width of the first stage; stage i has baseWidth·2^i "planes". @default 64 */
  baseWidth?: number;
  /** Planes of every stage (overrides baseWidth; its length must equal the number of stages). */
  widths?: readonly number[];
  /** Start the last BN γ of every residual block at 0 (torchvision's `zero_init_residual`). @default false */
  zeroInitResidual?: boolean;
  /**
   * Conv weights: "kaiming_normal" re-initialises them as torchvision's ResNet, N(0, 2/fan_out);
   * "torch" keeps `nn.Conv2d`'s default, kaiming_uniform(a = √5), about 2.4× smaller: with BN after
   * every conv the output is the same, but the effective learning rate of the convs is larger.
   * @default "kaiming_normal"
   */
  convInit?: "kaiming_normal" | "torch";
}

/** Full description of a ResNet: the block type and the number of blocks per stage, plus options. */
export interface ResNetConfig extends ResNetOptions {
  /** Residual block type. */
  block: "basic" | "bottleneck";
  /** Blocks per stage, e.g. [2, 2, 2, 2] for ResNet-18. */
  layers: readonly number[];
}

type Block = BasicBlock | Bottleneck;

/**
 * A ResNet (He et al. 2016) laid out as torchvision's: `conv1`, `bn1`, `layer1` … `layerK`
 * (Sequentials of blocks), `fc`. Initialisation replays torchvision's: every layer's default init at
 * construction (shortcut before its block), then kaiming_normal(fan_out, relu) on every conv, BN γ = 1,
 * β = 0, and with `zeroInitResidual` the last BN γ of each block = 0. So from the same seed the weights
 * equal torchvision's bit for bit (on the same libtorch build).
 *
 * @example Usage
 * ```ts
 * import { manualSeed, randn, resnet20, scope } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * manualSeed(0);
 * const net = resnet20({ inChannels: 1, numClasses: 0 });
 * assert.equal(net.featureDim, 64);
 * const shape = scope(() => net.forward(randn([2, 1, 28, 28])).shape);
 * assert.deepEqual(shape, [2, 64]);
 * net.dispose();
 * ```
 */
export class ResNet extends Module {
  /** Stem convolution. */
  readonly conv1: Conv2d;
  /** Stem BN. */
  readonly bn1: BatchNorm2d;
  /** The stages `layer1` … `layerK`. */
  readonly stages: readonly Sequential[];
  /** Classifier, or null when `numClasses` is 0. */
  readonly fc: Linear | null;
  /** Width C of `features(x)` (512 for ResNet-18/34, 2048 for ResNet-50). */
  readonly featureDim: number;
  readonly #maxPool: boolean;

  /**
   * Builds the network and initialises it as torchvision does.
   *
   * @throws {RangeError} On invalid sizes or a `widths` list of the wrong length.
   */
  constructor(config: ResNetConfig) {
    super();
    const { block, layers, numClasses = 1000, inChannels = 3, stem = "imagenet", baseWidth = 64 } = config;
    const widths = config.widths ?? layers.map((_, i) => baseWidth * 2 ** i);
    if (widths.length !== layers.length || layers.length === 0) {
      throw new RangeError(`ResNet needs one width per stage: got ${widths.length} widths for ${layers.length} stages`);
    }
    if (!layers.every((n) => Number.isInteger(n) && n >= 1)) {
      throw new RangeError(`ResNet stages need at least one block each, got [${layers.join(", ")}]`);
    }
    if (!Number.isInteger(numClasses) || numClasses < 0) {
      throw new RangeError(`ResNet numClasses must be a non-negative integer, got ${numClasses}`);
    }
    const Block = block === "basic" ? BasicBlock : Bottleneck;
    const small = stem === "small";
    this.#maxPool = !small;
    const stemConv = small
      ? { stride: 1, padding: 1, init: "torch" } as const
      : { stride: 2, padding: 3, init: "torch" } as const;
    this.conv1 = this.registerModule("conv1", new Conv2d(inChannels, widths[0], small ? 3 : 7, stemConv));
    this.bn1 = this.registerModule("bn1", new BatchNorm2d(widths[0]));
    let channels = widths[0];
    this.stages = layers.map((n, i) => {
      const planes = widths[i];
      const stride = i === 0 ? 1 : 2;
      const out = planes * Block.expansion;
      const blocks: Block[] = [];
      const shortcut = stride !== 1 || channels !== out ? downsample(channels, out, stride) : null;
      blocks.push(new Block(channels, planes, { stride, downsample: shortcut }));
      for (let j = 1; j < n; j++) blocks.push(new Block(out, planes));
      channels = out;
      return this.registerModule(`layer${i + 1}`, new Sequential(blocks));
    });
    this.featureDim = channels;
    this.fc = numClasses > 0 ? this.registerModule("fc", new Linear(channels, numClasses)) : null;
    this.#initialise(config.zeroInitResidual ?? false, config.convInit ?? "kaiming_normal");
  }

  #initialise(zeroInitResidual: boolean, convInit: "kaiming_normal" | "torch"): void {
    for (const m of this.modules()) {
      if (m instanceof Conv2d && convInit === "kaiming_normal") kaimingNormal_(m.weight, { mode: "fan_out" });
      if (zeroInitResidual && (m instanceof BasicBlock || m instanceof Bottleneck)) {
        noGrad(() => m.lastBn.weight.zero_());
      }
    }
  }

  /** Backbone features: x [N, Cin, H, W] → globally average-pooled [N, featureDim]. */
  features(x: Tensor): Tensor {
    const a = this.conv1.forward(x);
    let t = this.bn1.forward(a).relu_();
    a.dispose();
    if (this.#maxPool) {
      const p = maxPool2d(t, 3, 2, 1);
      t.dispose();
      t = p;
    }
    for (const stage of this.stages) {
      const next = stage.forward(t);
      t.dispose();
      t = next;
    }
    const pooled = t.mean([-2, -1]); // [N, C]
    t.dispose();
    return pooled;
  }

  /** Logits [N, numClasses], or the features [N, featureDim] when there is no `fc`. */
  forward(x: Tensor): Tensor {
    const f = this.features(x);
    if (this.fc === null) return f;
    const y = this.fc.forward(f);
    f.dispose();
    return y;
  }
}

/**
 * ResNet-18: BasicBlock × [2, 2, 2, 2], 11,689,512 parameters with the 1000-class fc.
 *
 * @example Usage
 * ```ts
 * import { resnet18 } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const net = resnet18({ numClasses: 10 });
 * assert.ok(net.namedParameters().some(([k]) => k === "layer4.1.bn2.weight")); // torchvision's names
 * net.dispose();
 * ```
 */
export function resnet18(options: ResNetOptions = {}): ResNet {
  return new ResNet({ ...options, block: "basic", layers: [2, 2, 2, 2] });
}

/**
 * ResNet-34: BasicBlock × [3, 4, 6, 3].
 *
 * @example Usage
 * ```ts
 * import { resnet34 } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const net = resnet34({ numClasses: 0 }); // a backbone: forward gives the pooled features
 * assert.equal(net.featureDim, 512);
 * net.dispose();
 * ```
 */
export function resnet34(options: ResNetOptions = {}): ResNet {
  return new ResNet({ ...options, block: "basic", layers: [3, 4, 6, 3] });
}

/**
 * ResNet-50: Bottleneck × [3, 4, 6, 3], 25,557,032 parameters with the 1000-class fc.
 *
 * @example Usage
 * ```ts
 * import { resnet50 } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const net = resnet50({ numClasses: 0 });
 * assert.equal(net.featureDim, 2048);
 * net.dispose();
 * ```
 */
export function resnet50(options: ResNetOptions = {}): ResNet {
  return new ResNet({ ...options, block: "bottleneck", layers: [3, 4, 6, 3] });
}

/**
 * The CIFAR-style ResNet-20 (He et al. 2016, Sec. 4.2): small stem, BasicBlock × [3, 3, 3] with widths
 * 16/32/64, 1×1-conv shortcuts (option B, so torchvision-style keys) — about 0.27 M parameters. The
 * CPU default backbone. Defaults differ from the ImageNet factories: `stem: "small"`, `numClasses: 10`.
 *
 * @example Usage
 * ```ts
 * import { randn, resnet20, scope } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const net = resnet20({ inChannels: 1, numClasses: 0 }); // the small CIFAR-style network
 * assert.deepEqual(scope(() => net.features(randn([2, 1, 28, 28])).shape), [2, 64]);
 * net.dispose();
 * ```
 */
export function resnet20(options: ResNetOptions = {}): ResNet {
  const widths = options.widths ?? [1, 2, 4].map((k) => (options.baseWidth ?? 16) * k);
  return new ResNet({ stem: "small", numClasses: 10, ...options, widths, block: "basic", layers: [3, 3, 3] });
}
