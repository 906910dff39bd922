/**
 * The unified gradient framework (src/ssl): seven methods, each giving, for the normalised online
 * features u1, u2 and target features v1, v2, the gradient g = −positive + λ·negative with respect to
 * u1, u2; the typed registry of methods and of the paper's Table 1 rows; the method state; the target
 * branch; the encoder; the trainer; multi-view steps; and the communicator a distributed run hands in.
 *
 * @module
 */
export {
  type CommonOptions,
  type FeatureName,
  type Features,
  gradientInputs,
  type GradientOptions,
  type GradientResult,
  type GradientSpace,
  type GradientStats,
  type Method,
  readStats,
  type Reference,
  TARGET_KINDS,
  type TargetKind,
} from "./method.ts";
export {
  createMethod,
  createPreset,
  findPreset,
  type MethodEntry,
  type MethodName,
  methodName,
  type MethodOptions,
  METHODS,
  TABLE1,
  TABLE1_FAMILIES,
  type Table1Family,
  type Table1Row,
  TABLE2,
  UNIT_NORM_LAMBDA,
  widthScaledLambda,
} from "./registry.ts";
export { unigrad, type UnigradOptions } from "./unigrad.ts";
export { moco, type MocoOptions } from "./moco.ts";
export { simclr, type SimclrOptions } from "./simclr.ts";
export { byol, type ByolOptions } from "./byol.ts";
export { asymmetricMethod, type AsymmetricOptions, type AsymmetricSpec } from "./asymmetric.ts";
export { directPredPredictor } from "./directpred.ts";
export { simsiam, type SimsiamOptions } from "./simsiam.ts";
export { barlowTwins, type BarlowTwinsOptions } from "./barlow_twins.ts";
export { vicreg, type VicregOptions } from "./vicreg.ts";
export { disposeState, type MethodState, type SavedState, type StateOptions } from "./state.ts";
export { type Communicator, localComm } from "./comm.ts";
export { type TargetBranch, targetBranch, type TargetOptions } from "./target.ts";
export { type Arch, ARCHS, type Backbone, Encoder, siameseEncoder, type SiameseEncoderOptions } from "./encoder.ts";
export {
  type DataParallel,
  type StepOptions,
  type StepResult,
  Trainer,
  type TrainerOptions,
  type TrainerParts,
} from "./trainer.ts";
export { type NonFiniteCounts, NonFiniteGuard } from "./guard.ts";
export {
  type CutMixTarget,
  type MultiViewFeatures,
  multiViewGradient,
  type MultiViewOptions,
  type MultiViewResult,
  multiViewSupport,
} from "./multiview.ts";
