/**
 * unigrad: Siamese self-supervised learning on the unified gradient framework of Tao et al.
 * (CVPR 2022), with libtorch tensors (CPU or CUDA) driven from TypeScript.
 *
 * This entry point holds what a user of the methods, the trainer and `train()` needs; each folder has
 * its own entry point with everything it exports: `@unigrad/unigrad/torch` (tensors, autograd, CUDA),
 * `/nn`, `/optim`, `/distributed`, `/data`, `/ssl`, `/eval`, `/io`, `/run`, and `/build` (builds the
 * shim). The tensor core is PyTorch-shaped: create tensors, compute, and free them with `scope()`,
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

// Tensors, autograd and scopes (everything else: @unigrad/unigrad/torch)
export {
  arange,
  backward,
  cat,
  cpuCapabilities,
  cuda,
  type Device,
  type DType,
  getNumThreads,
  init,
  linear,
  liveTensors,
  manualSeed,
  noGrad,
  normalize,
  ones,
  rand,
  randn,
  scope,
  setNumThreads,
  stack,
  Tensor,
  tensor,
  TorchError,
  torchVersion,
  zeros,
} from "./src/torch/mod.ts";
// Networks (@unigrad/unigrad/nn)
export {
  Linear,
  Module,
  ResNet,
  resnet18,
  resnet20,
  resnet34,
  resnet50,
  type ResNetOptions,
  unigradProjector,
} from "./src/nn/mod.ts";
// Optimizers and schedules (@unigrad/unigrad/optim)
export { emaMomentum, LARS, type Optimizer, SGD, warmupCosine } from "./src/optim/mod.ts";
// Data parallelism (@unigrad/unigrad/distributed)
export { initDistributed, launchLocal, ProcessGroup, processGroupComm, syncBatchNorm } from "./src/distributed/mod.ts";
// Datasets, the loader and augmentation (@unigrad/unigrad/data)
export {
  Augmentation,
  augmentation,
  type AugmentationName,
  AUGMENTATIONS,
  cifar10,
  cifar100,
  cutmix,
  DataFileError,
  fashionMnist,
  imageFolder,
  Loader,
  mnist,
  multiCrop,
  Recipe,
  recipe,
  RECIPES,
  stl10,
  TensorDataset,
} from "./src/data/mod.ts";
// The unified gradient framework (@unigrad/unigrad/ssl)
export {
  barlowTwins,
  byol,
  createMethod,
  createPreset,
  Encoder,
  findPreset,
  type Method,
  type MethodName,
  METHODS,
  type MethodState,
  moco,
  siameseEncoder,
  simclr,
  simsiam,
  TABLE1,
  TABLE2,
  TARGET_KINDS,
  targetBranch,
  type TargetKind,
  Trainer,
  type TrainerOptions,
  type TrainerParts,
  unigrad,
  vicreg,
  widthScaledLambda,
} from "./src/ssl/mod.ts";
// Evaluation (@unigrad/unigrad/eval)
export { effectiveRank, extractFeatures, knnAccuracy, linearProbe } from "./src/eval/mod.ts";
// Files (@unigrad/unigrad/io)
export { loadCheckpoint, loadSafetensors, MetricsLog, saveCheckpoint, saveSafetensors } from "./src/io/mod.ts";
// Runs (@unigrad/unigrad/run)
export {
  buildMethod,
  buildTrainer,
  type BuiltTrainer,
  DEFAULT_CONFIG,
  openResume,
  readConfigFile,
  recipeConfig,
  resolvedMethodOptions,
  resumeConfig,
  runMethodOptions,
  type RunResult,
  SETTINGS,
  train,
  TRAIN_RECIPES,
  type TrainConfig,
  type TrainerSetup,
  type TrainOptions,
  validateConfig,
} from "./src/run/mod.ts";
