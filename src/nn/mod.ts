/**
 * Neural-network modules (src/nn): `Module` and `Sequential`, the layers (Linear, Conv2d, BatchNorm,
 * activations), weight initialisation, the ResNet family with torchvision's parameter names, and the
 * projector and predictor heads.
 *
 * @module
 */
export { Module, Sequential } from "./module.ts";
export { constant_, kaimingNormal_, type KaimingOptions, kaimingUniform_, uniform_ } from "./init.ts";
export { Linear, type LinearOptions } from "./linear.ts";
export { Conv2d, type Conv2dLayerOptions } from "./conv.ts";
export { BatchNorm, BatchNorm1d, BatchNorm2d, type BatchNormFn, type BatchNormLayerOptions } from "./batchnorm.ts";
export { Flatten, Identity, ReLU } from "./activation.ts";
export {
  mlp,
  type MlpBlock,
  predictorHead,
  type PredictorOptions,
  type ProjectorOptions,
  unigradProjector,
} from "./heads.ts";
export { BasicBlock, type BlockOptions, Bottleneck } from "./resnet_blocks.ts";
export { ResNet, resnet18, resnet20, resnet34, resnet50, type ResNetConfig, type ResNetOptions } from "./resnet.ts";
