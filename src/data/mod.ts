/**
 * Data at device speed: dataset readers (MNIST/Fashion-MNIST IDX, CIFAR-10/100, STL-10, image
 * folders decoded by worker threads, whole images letterboxed), a seeded, resumable `Loader`, and augmentation of whole batches
 * as tensor ops on the batch's device (crops, flips, colour jitter, grayscale, blur, solarisation,
 * multi-crop, CutMix), with named augmentations.
 *
 * @module
 */
export { DataFileError, type HostBatch, type StreamingDataset, TensorDataset } from "./dataset.ts";
export { fashionMnist, IDX_IMAGES, IDX_LABELS, type IdxArray, mnist, type MnistOptions, readIdx } from "./idx.ts";
export { cifar10, cifar100, type CifarOptions } from "./cifar.ts";
export { stl10, type Stl10Options, stl10Stream } from "./stl10.ts";
export { RecordDataset, type RecordDatasetOptions, type RecordFile } from "./records.ts";
export { readShard, readShardHeader, type ShardHeader, writeShard } from "./shard.ts";
export {
  imageFolder,
  ImageFolderDataset,
  type ImageFolderOptions,
  type ImageFolderSplits,
  imageFolderSplits,
} from "./image_folder.ts";
export { type Batch, Loader, type LoaderOptions, type LoaderState, permutation } from "./loader.ts";
export { type CropOptions, type CropParams, randomResizedCrop, resizedCrop, sampleCrops } from "./geometry.ts";
export {
  adjustBrightness,
  adjustContrast,
  adjustHue,
  adjustSaturation,
  colorJitter,
  grayscale,
  type JitterOptions,
  normalizeImages,
  randomGrayscale,
  randomSolarize,
} from "./color.ts";
export { type BlurOptions, gaussianBlur } from "./blur.ts";
export {
  augment,
  Augmentation,
  FASHION_MNIST_STATS,
  IMAGENET_STATS,
  multiCrop,
  type MultiCropOptions,
  type Normalization,
  parseMultiCrop,
  toFloatImages,
  type ViewOptions,
} from "./pipeline.ts";
export {
  augmentation,
  type AugmentationName,
  type AugmentationOptions,
  AUGMENTATIONS,
  Recipe,
  recipe,
  type RecipeName,
  type RecipeOptions,
  RECIPES,
} from "./augmentations.ts";
export { cutmix, type CutMixOptions, type CutMixResult } from "./cutmix.ts";
export { canonicalName } from "./names.ts";
