/**
 * Evaluation of a representation (src/eval): the kNN monitor, the linear probe on frozen features, and
 * representation metrics (alignment, uniformity, effective rank, feature spread).
 *
 * @module
 */
export type { LabelledFeatures } from "./labelled.ts";
export {
  extractFeatures,
  extractLabelledFeatures,
  type ExtractOptions,
  knnAccuracy,
  type KnnOptions,
  type KnnResult,
  knnScores,
  type LabelledBatch,
} from "./knn.ts";
export { linearProbe, type LinearProbeOptions, type LinearProbeResult } from "./linear_probe.ts";
export { alignment, effectiveRank, featureEffectiveRank, type FeatureStd, featureStd, uniformity } from "./metrics.ts";
