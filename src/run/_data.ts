/**
 * The data of a run (internal to train.ts): the training set the loader reads and the two labelled
 * sets of the evaluation (the kNN bank / probe training set, and the test set). Small datasets are
 * held whole on the training device, and the bank is the training set itself. Image folders stream:
 * the training split letterboxed whole into `imageCanvas`² canvases (crops are drawn on the device),
 * the evaluation splits as `imageSize`² centre crops, each decoded by its own pool of worker threads.
 *
 * @module
 */
import type { Device } from "../torch/mod.ts";
import {
  cifar10,
  cifar100,
  fashionMnist,
  imageFolder,
  type ImageFolderDataset,
  type ImageFolderOptions,
  imageFolderSplits,
  mnist,
  stl10,
  type StreamingDataset,
  TensorDataset,
} from "../data/mod.ts";
import type { TrainConfig } from "./settings.ts";

/** A dataset held on the device or streamed from disk. */
export type RunDataset = TensorDataset | StreamingDataset;

/** What a run trains and evaluates on. */
export interface RunData {
  /** What the loader reads (uint8 [N, C, H, W]; labels unused). */
  train: RunDataset;
  /** Labelled training images for the kNN bank and the probe (the training set, or its centre crops). */
  evalTrain: RunDataset;
  /** Labelled test images. */
  test: RunDataset;
  /** Image channels. */
  channels: number;
  /** Side of the global views (the native size, or `imageSize` for image folders). */
  viewSize: number;
  /** Frees the tensors and stops the decoding threads. */
  dispose(): void;
}

function loadSplit(c: TrainConfig, split: "train" | "test"): Promise<TensorDataset> {
  const limit = (split === "train" ? c.limitTrain : c.limitTest) || undefined;
  const dir = c.dataDir ?? undefined;
  const o = { split, limit };
  switch (c.dataset) {
    case "fashion-mnist":
      return fashionMnist({ ...o, dir });
    case "mnist":
      return mnist({ ...o, dir: dir ?? "/usr/share/datasets/mnist" });
    case "cifar10":
      return cifar10({ ...o, dir: dir ?? "data/cifar-10-batches-bin" });
    case "cifar100":
      return cifar100({ ...o, dir: dir ?? "data/cifar-100-binary" });
    case "stl10":
      return stl10({ ...o, dir: dir ?? "data/stl10_binary" });
    case "image-folder":
      throw new TypeError("Image folders stream: use loadImageFolders");
  }
}

/** The smallest image side a run accepts (the ResNets downsample by 4 before their stages). */
const MIN_SIDE = 8;

/** An error when the splits' images differ in shape or are too small to train on, else null. */
function shapeProblem(c: TrainConfig, train: readonly number[], test: readonly number[]): Error | null {
  const where = `${c.dataset}${c.dataDir ? ` in ${c.dataDir}` : ""}`;
  if (train.join() !== test.join()) {
    return new RangeError(
      `Cannot train on ${where}: training images are [${train.join(", ")}] but test images are [${test.join(", ")}]`,
    );
  }
  if (Math.min(train[1], train[2]) < MIN_SIDE) {
    return new RangeError(
      `Cannot train on ${where}: images of [${train.join(", ")}] are smaller than ${MIN_SIDE}×${MIN_SIDE}`,
    );
  }
  return null;
}

/** Reads both splits and moves them to `device` once (on the CPU the tensors are only shared). */
async function loadTensors(c: TrainConfig, device: Device): Promise<RunData> {
  const settled = await Promise.allSettled([loadSplit(c, "train"), loadSplit(c, "test")]);
  const loaded = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  const problem = failed?.reason ?? shapeProblem(c, loaded[0].imageShape, loaded[1].imageShape);
  if (problem) {
    loaded.forEach((d) => d.dispose());
    throw problem;
  }
  const [train, test] = loaded.map((d) => {
    const moved = d.to(device);
    d.dispose();
    return moved;
  });
  const [channels, viewSize] = train.imageShape;
  return {
    train,
    evalTrain: train,
    test,
    channels,
    viewSize,
    dispose: () => [train, test].forEach((d) => d.dispose()),
  };
}

async function isFolder(path: string): Promise<boolean> {
  return await Deno.stat(path).then((s) => s.isDirectory, () => false);
}

/**
 * An image folder: `dataDir` (its `train/` when there is one) letterboxed for training; the
 * labelled `train/` and `val/` of `evalDataDir` (or of `dataDir`) as centre crops for evaluation.
 */
async function loadImageFolders(c: TrainConfig): Promise<RunData> {
  const dir = c.dataDir!;
  if (c.imageSize < MIN_SIDE) {
    throw new RangeError(`Cannot train on image-folder: --image-size ${c.imageSize} is smaller than ${MIN_SIDE}`);
  }
  const common: ImageFolderOptions = { workers: c.decodeWorkers || navigator.hardwareConcurrency || 2 };
  const canvas = c.imageCanvas || Math.round((c.imageSize * 8) / 7);
  using stack = new DisposableStack();
  const trainDir = (await isFolder(`${dir}/train`)) ? `${dir}/train` : dir;
  const train = stack.adopt(
    await imageFolder(trainDir, { ...common, side: canvas, storage: c.imageStorage, limit: c.limitTrain }),
    (d) => d.close(),
  );
  const labelled = c.evalDataDir ?? dir;
  const centre = { ...common, side: c.imageSize, fit: "centre" as const };
  const splits = await imageFolderSplits(labelled, {
    train: { ...centre, limit: c.limitTrain },
    val: { ...centre, limit: c.limitTest },
  });
  const evalSets: ImageFolderDataset[] = [splits.train, ...(splits.val ? [splits.val] : [])];
  stack.defer(() => evalSets.forEach((d) => d.close()));
  const hint = c.evalDataDir === null ? " (or give --eval-data-dir, a labelled folder with train/ and val/)" : "";
  if (splits.train.classes === null) {
    throw new RangeError(`Cannot evaluate on ${labelled}: its images have no class folders${hint}`);
  }
  if (splits.val === null) {
    throw new RangeError(`Cannot evaluate on ${labelled}: it needs val/<class>/* next to train/<class>/*${hint}`);
  }
  const owned = stack.move();
  return {
    train,
    evalTrain: splits.train,
    test: splits.val,
    channels: 3,
    viewSize: c.imageSize,
    dispose: () => owned.dispose(),
  };
}

/** The run's data: image folders streamed, other datasets read whole and moved to `device` once. */
export function loadData(c: TrainConfig, device: Device): Promise<RunData> {
  return c.dataset === "image-folder" ? loadImageFolders(c) : loadTensors(c, device);
}

/** Whether the dataset is held in memory. */
export function inMemory(d: RunDataset): d is TensorDataset {
  return d instanceof TensorDataset;
}
