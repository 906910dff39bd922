/**
 * unigrad: Siamese self-supervised learning on the unified gradient framework of Tao et al.
 * (CVPR 2022), with libtorch tensors (CPU or CUDA) driven from TypeScript.
 *
 * The tensor core is PyTorch-shaped: create tensors, compute, and free them with `scope()`,
 * `using` or `dispose()`.
 *
 * @example Usage
 * ```ts
 * import { linear, manualSeed, randn, scope } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * manualSeed(0);
 * const w = randn([3, 4], { requiresGrad: true });
 * scope(() => {
 *   const x = randn([8, 4]);
 *   const loss = linear(x, w).square().mean();
 *   loss.backward();
 * });
 * const g = w.grad!;
 * assert.deepEqual(g.shape, [3, 4]);
 * g.dispose();
 * w.dispose();
 * ```
 *
 * @module
 */

// src/torch: tensors, autograd, scopes, CUDA runtime
export * from "./src/torch/mod.ts";

// src/nn: modules and models
export { Module, Sequential } from "./src/nn/module.ts";
export * from "./src/nn/init.ts";
export * from "./src/nn/linear.ts";
export * from "./src/nn/conv.ts";
export * from "./src/nn/batchnorm.ts";
export * from "./src/nn/activation.ts";
export * from "./src/nn/heads.ts";
export * from "./src/nn/resnet_blocks.ts";
export * from "./src/nn/resnet.ts";

// src/optim: optimizers and schedules
export * from "./src/optim/optimizer.ts";
export * from "./src/optim/sgd.ts";
export * from "./src/optim/lars.ts";
export * from "./src/optim/schedule.ts";

// src/dist: data parallelism on c10d
export * from "./src/dist/mod.ts";

// src/data: datasets, loader, batched augmentation, multi-crop, CutMix
export * from "./src/data/mod.ts";

// src/ssl: the unified gradient framework (methods, target branch, trainer, runs)
export * from "./src/ssl/mod.ts";
export { type Backbone, Encoder, siameseEncoder, type SiameseEncoderOptions } from "./src/ssl/encoder.ts";
export { type StepOptions, type StepResult, Trainer, type TrainerParts } from "./src/ssl/trainer.ts";
export {
  type Arch,
  ARCHS,
  buildMethod,
  type DatasetName,
  DATASETS,
  DEFAULT_CONFIG,
  derive,
  type DerivedNumbers,
  methodOptions,
  PRECISIONS,
  readConfigFile,
  scaledMethodOpts,
  type TrainConfig,
  validateConfig,
} from "./src/ssl/config.ts";
export { type RunResult, train } from "./src/ssl/run.ts";

// src/eval: kNN monitor, linear probe, representation metrics
export {
  extractFeatures,
  type ExtractOptions,
  knnAccuracy,
  type KnnOptions,
  type LabelledFeatures,
} from "./src/eval/knn.ts";
export { linearProbe, type LinearProbeOptions, type LinearProbeResult } from "./src/eval/linear_probe.ts";
export {
  alignment,
  effectiveRank,
  featureEffectiveRank,
  type FeatureStd,
  featureStd,
  uniformity,
} from "./src/eval/metrics.ts";

// src/io: safetensors, checkpoints, metrics log, plots, reports, progress
export {
  deserializeSafetensors,
  loadSafetensors,
  type SafetensorsContent,
  saveSafetensors,
  type SaveSafetensorsOptions,
  serializeSafetensors,
} from "./src/io/safetensors.ts";
export {
  addPrefix,
  type CheckpointData,
  latestCheckpoint,
  listCheckpoints,
  loadCheckpoint,
  type LoadedCheckpoint,
  restoreRngState,
  rngStateToBase64,
  saveCheckpoint,
  type SaveCheckpointOptions,
  selectPrefix,
} from "./src/io/checkpoint.ts";
export { MetricsLog, readMetricsLog, type TrainingRecord } from "./src/io/metrics_log.ts";
export { type Panel, type PlotOptions, plotPanels, type Series, trainingPanels } from "./src/io/plot.ts";
export { formatReport, type ReportRow, type RunReport, writeReport } from "./src/io/report.ts";
export { Progress, type ProgressOptions, type ProgressValues } from "./src/io/progress.ts";
