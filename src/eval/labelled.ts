/**
 * `LabelledFeatures`: the input of the kNN monitor and the linear probe, features with one class label
 * per row.
 *
 * @module
 */
import type { Tensor } from "../torch/mod.ts";

/** Features with one class label per row. */
export interface LabelledFeatures {
  /** Features [N, D] (any floating dtype; compared in float32). */
  features: Tensor;
  /** Class labels, int64 [N], on the features' device or the CPU. */
  labels: Tensor;
}
