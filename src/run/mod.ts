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
  checkSetting,
  configChanges,
  CONV_INITS,
  DATASET_AUGMENT,
  type DatasetName,
  DATASETS,
  DEFAULT_CONFIG,
  flagOf,
  IMAGE_STORAGES,
  type MethodOptions as ConfigMethodOptions,
  OPTIMIZERS,
  PRECISIONS,
  type Setting,
  type SettingKind,
  type SettingName,
  SETTINGS,
  type TrainConfig,
} from "./settings.ts";
export { extraViews, readConfigFile, resumeConfig, validateConfig } from "./config.ts";
export { buildMethod, lambdaRule, resolvedMethodOptions, runMethodOptions } from "./method_options.ts";
export { recipeConfig, TRAIN_RECIPES, type TrainRecipe } from "./recipes.ts";
export { buildTrainer, type BuildTrainerOptions, type BuiltTrainer, type TrainerSetup } from "./setup.ts";
export { chooseNumerics, type Numerics, type Precision } from "./numerics.ts";
export { type EpochBudget, epochsWithin, resolveEpochs } from "./budget.ts";
export { type RunResult, type StoppedRun, train, type TrainOptions } from "./training.ts";
export { openResume, type ResumePoint } from "./resume.ts";
export {
  interruptionOf,
  type SignalStop,
  StopFlag,
  stopOnSignals,
  type StopRequest,
  StopRequested,
} from "./signals.ts";
export { type LockOwner, RunLock } from "./lock.ts";
export { checkFitsMemory, estimateParameters, type ParameterEstimate } from "./memory.ts";
export { findRuns, MAX_POINTS, seriesOf, type WatchOptions, watchRuns, type WatchServer } from "./watch.ts";
