/**
 * The application layer (src/run): a run's configuration (one typed object with its defaults, read
 * from flags and JSON files, validated), the set-up of the networks, method, optimizer and trainer, and
 * `train(config)`, the whole run with its logging, evaluation, checkpoints and resume. `train.ts` is its
 * command line.
 *
 * @module
 */
export {
  AUGMENTS,
  buildMethod,
  CONV_INITS,
  type DatasetName,
  DATASETS,
  DEFAULT_CONFIG,
  extraViews,
  IMAGE_STORAGES,
  lambdaRule,
  OPTIMIZERS,
  PRECISIONS,
  readConfigFile,
  resolvedMethodOptions,
  resumeConfig,
  type TrainConfig,
  validateConfig,
} from "./config.ts";
export { recipeConfig, TRAIN_RECIPES, type TrainRecipe } from "./recipes.ts";
export { buildTrainer, type BuildTrainerOptions, type BuiltTrainer, type TrainerSetup } from "./setup.ts";
export { chooseNumerics, type Numerics, type Precision } from "./numerics.ts";
export { type EpochBudget, epochsWithin, resolveEpochs } from "./budget.ts";
export { type RunResult, type StoppedRun, train, type TrainOptions } from "./training.ts";
export { type SignalStop, StopFlag, stopOnSignals, type StopRequest } from "./signals.ts";
export { LOCK_FILE, type LockOwner, RunLock } from "./lock.ts";
