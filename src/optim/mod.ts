/**
 * Optimizers and schedules (src/optim): SGD with momentum, LARS, the warm-up + cosine learning rate and
 * the momentum encoder's EMA coefficient.
 *
 * @module
 */
export { Optimizer, type OptimizerOptions, type ParamGroup, type ParamsInput } from "./optimizer.ts";
export { SGD, type SGDOptions } from "./sgd.ts";
export { LARS, type LARSOptions } from "./lars.ts";
export { emaMomentum, warmupCosine, type WarmupCosineOptions } from "./schedule.ts";
