/**
 * The kNN monitor (Wu et al. 2018, as in the MoCo and solo-learn monitors): cosine similarity of
 * l2-normalised frozen features, the k nearest training rows vote for their class with weight
 * exp(sim/τ), and the top-1 accuracy of the vote on the test rows is reported. Plus
 * `extractFeatures`, which runs a frozen network over a dataset in batches.
 *
 * Shapes: N training rows, M test rows, D feature width, C classes, B rows per chunk.
 *
 * @module
 */
import { cat, type Device, noGrad, normalize, scope, type Tensor, zeros } from "../torch/mod.ts";
import { Module } from "../nn/module.ts";
import { checkSameWidth, positiveInt } from "./_check.ts";
import type { LabelledFeatures } from "./labelled.ts";

/** Options of `knnAccuracy`. */
export interface KnnOptions {
  /** Neighbours that vote (capped at the number of training rows). @default 200 */
  k?: number;
  /** Temperature τ of the vote weight exp(sim/τ). @default 0.1 */
  temperature?: number;
  /** Number of classes. @default the largest training label + 1 */
  numClasses?: number;
  /** Subtract the training features' mean from both sets before normalising. @default false */
  center?: boolean;
  /** Test rows per chunk: memory holds a [chunkSize, N] similarity matrix at a time. @default 256 */
  chunkSize?: number;
}

/**
 * Top-1 accuracy of the weighted kNN vote of the training features for each test feature.
 *
 * Both sets are l2-normalised (after centring when `center` is set); similarity is the dot product.
 * The test rows are processed in chunks, so memory stays at O(chunkSize·N) whatever M is.
 *
 * @param train Training features [N, D] and int64 labels [N] (the memory bank).
 * @param test Test features [M, D] and int64 labels [M].
 * @param options k, temperature, centring, chunk size.
 * @returns The fraction of test rows whose vote matches their label, in [0, 1].
 * @throws {TypeError} On malformed shapes or non-int64 labels.
 * @throws {RangeError} On a non-positive k, temperature or chunk size.
 *
 * @example Usage
 * ```ts
 * import { knnAccuracy, tensor } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * using trainX = tensor([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]]);
 * using trainY = tensor([0n, 0n, 1n, 1n]);
 * using testX = tensor([[1, 0.2], [0.2, 1]]);
 * using testY = tensor([0n, 1n]);
 * const acc = knnAccuracy({ features: trainX, labels: trainY }, { features: testX, labels: testY }, { k: 2 });
 * assert.equal(acc, 1);
 * ```
 */
export function knnAccuracy(train: LabelledFeatures, test: LabelledFeatures, options: KnnOptions = {}): number {
  const { k = 200, temperature = 0.1, center = false, chunkSize = 256 } = options;
  const [n, m] = checkSameWidth(train, test, "kNN accuracy");
  positiveInt(k, "kNN k");
  positiveInt(chunkSize, "kNN chunk size");
  if (!(temperature > 0)) throw new RangeError(`kNN temperature must be positive, got ${temperature}`);
  const kk = Math.min(k, n);
  return noGrad(() =>
    scope(() => {
      const device = train.features.device;
      const mean = center ? train.features.to({ dtype: "float32" }).mean(0, true) : null; // [1, D]
      const prepare = (x: Tensor) => {
        const x32 = x.to({ dtype: "float32", device }); // [B, D]
        return normalize(mean === null ? x32 : x32.sub(mean), 1);
      };
      const bankT = prepare(train.features).t(); // [D, N]
      const bankLabels = train.labels.to({ device }); // [N]
      const classes = options.numClasses ?? bankLabels.amax().item() + 1;
      const testLabels = test.labels.to({ device }); // [M]
      const correct = zeros([], { dtype: "float64", device }); // exact counts; int64 add_ rejects alpha
      for (let s = 0; s < m; s += chunkSize) {
        const b = Math.min(chunkSize, m - s);
        scope(() => {
          const sim = prepare(test.features.narrow(0, s, b)).mm(bankT); // [B, N]
          const { values, indices } = sim.topk(kk, 1); // [B, k]
          const votersLabels = bankLabels.indexSelect(0, indices.flatten()).view([b, kk]); // [B, k]
          const weights = values.div(temperature).exp(); // [B, k]
          const votes = zeros([b, classes], { device }).scatterAdd(1, votersLabels, weights); // [B, C]
          correct.add_(votes.argmax(1).eq(testLabels.narrow(0, s, b)).sum(undefined, false, "float64"));
        });
      }
      return correct.item() / m;
    })
  );
}

/** Options of `extractFeatures`. */
export interface ExtractOptions {
  /** Rows per forward pass. @default 256 */
  batchSize?: number;
  /** Device each batch is moved to before the forward pass. @default the images' device */
  device?: Device;
  /**
   * Turns a batch into the network's input.
   * @default uint8 → float32 in [0, 1]; a channel dim is added to [B, H, W] batches
   */
  transform?: (batch: Tensor) => Tensor;
}

function defaultTransform(batch: Tensor): Tensor {
  const x = batch.dtype === "uint8" ? batch.to({ dtype: "float32" }).div(255) : batch; // [B, ...]
  return x.ndim === 3 ? x.unsqueeze(1) : x; // [B, 1, H, W] from [B, H, W]
}

/**
 * Runs a frozen network over a dataset in batches under `noGrad` and concatenates its outputs into
 * float32 features [N, D] (outputs of more than two dims are flattened).
 *
 * A `Module` is switched to eval mode for the pass and restored to its previous mode afterwards; a
 * plain function is called as it is, so put its modules in eval mode yourself.
 *
 * @param fn The forward function `(x) => features`, or a Module.
 * @param images Inputs [N, ...]: uint8 pixels or floats, on any device.
 * @param options Batch size (a number is taken as the batch size), device, transform.
 * @returns Features [N, D] on the network's output device; the caller owns them.
 *
 * @example Usage
 * ```ts
 * import { extractFeatures, tensor } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * using images = tensor(new Uint8Array([0, 255, 51, 102, 255, 0]), { shape: [3, 2] });
 * using feats = extractFeatures((x) => x.mul(2), images, 2);
 * assert.deepEqual(feats.toArray(), [[0, 2], [0.4000000059604645, 0.800000011920929], [2, 0]]);
 * ```
 */
export function extractFeatures(
  fn: ((x: Tensor) => Tensor) | Module,
  images: Tensor,
  options: ExtractOptions | number = {},
): Tensor {
  const o = typeof options === "number" ? { batchSize: options } : options;
  const { batchSize = 256, device, transform = defaultTransform } = o;
  positiveInt(batchSize, "Feature extraction batch size");
  const n = images.size(0);
  if (n === 0) throw new RangeError("Cannot extract features: the image tensor is empty");
  const forward = fn instanceof Module ? (x: Tensor) => fn.forward(x) : fn;
  const wasTraining = fn instanceof Module ? fn.training : false;
  if (fn instanceof Module) fn.eval();
  const parts: Tensor[] = [];
  try {
    return noGrad(() => {
      for (let s = 0; s < n; s += batchSize) {
        parts.push(scope(() => {
          const batch = images.narrow(0, s, Math.min(batchSize, n - s)); // [B, ...]
          const y = forward(transform(device === undefined ? batch : batch.to({ device })));
          return (y.ndim > 2 ? y.flatten(1) : y).to({ dtype: "float32" }); // [B, D]
        }));
      }
      return cat(parts, 0); // [N, D]
    });
  } finally {
    for (const p of parts) p.dispose();
    if (fn instanceof Module) fn.train(wasTraining);
  }
}
