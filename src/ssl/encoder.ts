/**
 * `Encoder`: a backbone followed by a projector, the network each branch of a Siamese method runs.
 * Its state-dict names are `backbone.*` (torchvision's ResNet names underneath) and `projector.*`.
 *
 * @module
 */
import { Module } from "../nn/module.ts";
import { resnet18, resnet20, resnet34, resnet50 } from "../nn/resnet.ts";
import { unigradProjector } from "../nn/heads.ts";
import type { Tensor } from "../torch/mod.ts";

/** The backbones `siameseEncoder` builds (the run's `--arch`). */
export const ARCHS = ["resnet20", "resnet18", "resnet34", "resnet50"] as const;
/** A backbone name. */
export type Arch = typeof ARCHS[number];

/** A backbone with a pooled-feature output (a ResNet without `fc`). */
export interface Backbone extends Module {
  /** Width of `features(x)`. */
  readonly featureDim: number;
  /** Pooled features [N, featureDim]. */
  features(x: Tensor): Tensor;
}

/**
 * Backbone + projector. `forward(x)` gives the projector output z [N, D]; `features(x)` the backbone's
 * [N, C] (what kNN and the linear probe evaluate).
 *
 * @example Usage
 * ```ts
 * import { Encoder, randn, resnet20, scope, unigradProjector } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const enc = new Encoder(resnet20({ inChannels: 1, numClasses: 0 }), unigradProjector({ inDim: 64, hiddenDim: 32, outDim: 16 }));
 * assert.deepEqual(scope(() => enc.forward(randn([2, 1, 28, 28])).shape), [2, 16]);
 * enc.dispose();
 * ```
 */
export class Encoder extends Module {
  /** The feature extractor. */
  readonly backbone: Backbone;
  /** The projection head. */
  readonly projector: Module;

  /**
   * Joins a backbone and a projector (the encoder owns both).
   *
   * @param backbone A network with `features(x)`, e.g. `resnet18({ numClasses: 0 })`.
   * @param projector A head taking `backbone.featureDim` inputs.
   */
  constructor(backbone: Backbone, projector: Module) {
    super();
    this.backbone = this.registerModule("backbone", backbone);
    this.projector = this.registerModule("projector", projector);
  }

  /** Backbone features [N, C]. */
  features(x: Tensor): Tensor {
    return this.backbone.features(x);
  }

  /** Projector output z [N, D]; the backbone features are freed. */
  forward(x: Tensor): Tensor {
    using h = this.backbone.features(x); // [N, C]
    return this.projector.forward(h); // [N, D]
  }
}

/** Options of `siameseEncoder`. */
export interface SiameseEncoderOptions {
  /** Backbone. */
  arch: Arch;
  /** Image channels. */
  inChannels: number;
  /** Image side: 64 or less gets the small stem (3×3 conv, no max-pool), larger the ImageNet stem. */
  imageSize: number;
  /** Width of the first stage; 0 keeps the architecture's own. @default 0 */
  width?: number;
  /** Projector hidden width. */
  projHidden: number;
  /** Projector output width d. */
  projDim: number;
  /** Projector Linear layers. */
  projDepth: number;
  /** Start the last BN γ of every residual block at 0 (the paper's ResNet-50). @default false */
  zeroInitResidual?: boolean;
  /** Conv weight initialisation of the backbone (see `ResNetOptions.convInit`). @default "kaiming_normal" */
  convInit?: "kaiming_normal" | "torch";
}

/**
 * The encoder a run trains: a ResNet without `fc` and a UniGrad projector (as `train.ts` builds it).
 *
 * @example Usage
 * ```ts
 * import { siameseEncoder } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const enc = siameseEncoder({ arch: "resnet20", inChannels: 1, imageSize: 28, projHidden: 32, projDim: 16, projDepth: 2 });
 * assert.equal(enc.backbone.featureDim, 64);
 * enc.dispose();
 * ```
 */
export function siameseEncoder(o: SiameseEncoderOptions): Encoder {
  const stem = o.imageSize <= 64 ? "small" as const : "imagenet" as const;
  const width = o.width ?? 0;
  const options = {
    numClasses: 0,
    inChannels: o.inChannels,
    stem,
    zeroInitResidual: o.zeroInitResidual ?? false,
    convInit: o.convInit,
    ...(width > 0 ? { baseWidth: width } : {}),
  };
  const net = { resnet20, resnet18, resnet34, resnet50 }[o.arch](options);
  const projector = unigradProjector({
    inDim: net.featureDim,
    hiddenDim: o.projHidden,
    outDim: o.projDim,
    depth: o.projDepth,
  });
  return new Encoder(net, projector);
}
