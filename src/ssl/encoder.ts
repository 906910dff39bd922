/**
 * `Encoder`: a backbone followed by a projector, the network each branch of a Siamese method runs.
 * Its state-dict names are `backbone.*` (torchvision's ResNet names underneath) and `projector.*`.
 *
 * @module
 */
import { Module } from "../nn/module.ts";
import type { Tensor } from "../torch/mod.ts";

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
