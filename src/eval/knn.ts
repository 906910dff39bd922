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
import { cat, type Device, noGrad, normalize, scope, stack, type Tensor, zeros } from "../torch/mod.ts";
import { Module } from "../nn/module.ts";
import { checkSameWidth, positiveInt } from "./_check.ts";
import type { LabelledFeatures } from "./labelled.ts";

/** Options of `knnAccuracy` and `knnScores`. */
export interface KnnOptions {
  /** Neighbours that vote (capped at the number of training rows). @default 200 */
  k?: number;
  /** Temperature τ of the vote weight exp(sim/τ). @default 0.1 */
  temperature?: number;
  /** Number of classes. @default the largest training label + 1 */
  numClasses?: number;
  /** Subtract the training features' mean from both sets before normalising. @default false */
  center?: boolean;
  /** Test rows compared at once: memory holds a [chunkSize, bankChunkSize] similarity block. @default 256 */
  chunkSize?: number;
  /** Training rows (the memory bank) moved to the device and compared at once. @default 65536 */
  bankChunkSize?: number;
  /** Device the comparison runs on; the features may stay on the host. @default the training features' device */
  device?: Device;
  /** Polled between chunks: a computation it aborts throws what `throwIfAborted` throws (an `AbortSignal` works). @default none */
  signal?: { throwIfAborted(): void };
}

/** Top-1 and top-5 accuracy of a kNN vote. */
export interface KnnResult {
  /** Fraction of test rows whose highest-voted class is their label, in [0, 1]. */
  top1: number;
  /** Fraction of test rows whose label is among the 5 highest-voted classes, in [0, 1]. */
  top5: number;
}

/**
 * Top-1 and top-5 accuracy of the weighted kNN vote of the training features for each test
 * feature, streamed: the training features (the memory bank) go to `device` `bankChunkSize` rows at
 * a time, each chunk compared with every test row `chunkSize` rows at a time, and each test row's k
 * best neighbours so far kept on the device. Neither set has to fit on the device: device memory
 * holds the normalised test features [M, D], one bank chunk [bankChunkSize, D], one similarity block
 * [chunkSize, bankChunkSize] and the running neighbours [M, k] (values and labels). For ImageNet
 * (M = 50,000, D = 2048, k = 200, defaults) that is about 0.4 + 0.54 + 0.07 + 0.12 GB in float32.
 *
 * Both sets are l2-normalised (after centring when `center` is set); similarity is the dot product.
 *
 * @param train Training features [N, D] and int64 labels [N] (on the host or the device).
 * @param test Test features [M, D] and int64 labels [M].
 * @param options k, temperature, centring, chunk sizes, device.
 * @returns Top-1 and top-5 accuracy.
 * @throws {TypeError} On malformed shapes or non-int64 labels.
 * @throws {RangeError} On a non-positive k, temperature or chunk size.
 *
 * @example Usage
 * ```ts
 * import { knnScores } from "@unigrad/unigrad/eval";
 * import { tensor } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * using trainX = tensor([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]]);
 * using trainY = tensor([0n, 0n, 1n, 1n]);
 * using testX = tensor([[1, 0.2], [0.2, 1]]);
 * using testY = tensor([0n, 1n]);
 * const r = knnScores({ features: trainX, labels: trainY }, { features: testX, labels: testY }, { k: 2, bankChunkSize: 3 });
 * assert.deepEqual(r, { top1: 1, top5: 1 });
 * ```
 */
export function knnScores(train: LabelledFeatures, test: LabelledFeatures, options: KnnOptions = {}): KnnResult {
  const { k = 200, temperature = 0.1, center = false, chunkSize = 256, bankChunkSize = 65536 } = options;
  const [n, m] = checkSameWidth(train, test, "kNN accuracy");
  positiveInt(k, "kNN k");
  positiveInt(chunkSize, "kNN chunk size");
  positiveInt(bankChunkSize, "kNN bank chunk size");
  if (!(temperature > 0)) throw new RangeError(`kNN temperature must be positive, got ${temperature}`);
  const kk = Math.min(k, n);
  const device = options.device ?? train.features.device;
  return noGrad(() =>
    scope(() => {
      const mean = center ? chunkedMean(train.features, bankChunkSize, device) : null; // [1, D]
      const prepare = (x: Tensor) => {
        const x32 = x.to({ dtype: "float32", device }); // [B, D]
        return normalize(mean === null ? x32 : x32.sub(mean), 1);
      };
      const queries = prepare(test.features); // [M, D]
      const bankLabels = train.labels.to({ device }); // [N]
      const classes = options.numClasses ?? bankLabels.amax().item() + 1;
      let best = { values: zeros([m, 0], { device }), labels: zeros([m, 0], { dtype: "int64", device }) }; // [M, k]
      for (let b = 0; b < n; b += bankChunkSize) {
        options.signal?.throwIfAborted();
        const nb = Math.min(bankChunkSize, n - b);
        const next = scope(() => {
          const bankT = prepare(train.features.narrow(0, b, nb)).t(); // [D, nb]
          const chunkLabels = bankLabels.narrow(0, b, nb); // [nb]
          const values: Tensor[] = [];
          const labels: Tensor[] = [];
          for (let s = 0; s < m; s += chunkSize) {
            options.signal?.throwIfAborted();
            const rows = Math.min(chunkSize, m - s);
            const sim = queries.narrow(0, s, rows).mm(bankT); // [B, nb]
            const top = sim.topk(Math.min(kk, nb), 1); // [B, k']
            const candValues = cat([best.values.narrow(0, s, rows), top.values], 1); // [B, k + k']
            const candLabels = cat([
              best.labels.narrow(0, s, rows),
              chunkLabels.indexSelect(0, top.indices.flatten()).view([rows, -1]),
            ], 1);
            const keep = candValues.topk(Math.min(kk, candValues.size(1)), 1); // [B, k]
            values.push(keep.values);
            labels.push(candLabels.gather(1, keep.indices));
          }
          return { values: cat(values, 0), labels: cat(labels, 0) }; // [M, k] each
        });
        best.values.dispose(); // free the previous neighbours now, not at the end of the outer scope
        best.labels.dispose();
        best = next;
      }
      const testLabels = test.labels.to({ device }).view([m, 1]); // [M, 1]
      const hits = zeros([2], { dtype: "float64", device }); // exact counts of top-1 and top-5 hits
      for (let s = 0; s < m; s += chunkSize) {
        const rows = Math.min(chunkSize, m - s);
        scope(() => {
          const weights = best.values.narrow(0, s, rows).div(temperature).exp(); // [B, k]
          const votes = zeros([rows, classes], { device }).scatterAdd(1, best.labels.narrow(0, s, rows), weights); // [B, C]
          const ranked = votes.topk(Math.min(5, classes), 1).indices; // [B, 5]
          const right = ranked.eq(testLabels.narrow(0, s, rows)).to({ dtype: "float64" }); // [B, 5]
          hits.add_(stack([right.narrow(1, 0, 1).sum(), right.sum()])); // [2]
        });
      }
      const [top1, top5] = hits.toArray() as number[];
      return { top1: top1 / m, top5: top5 / m };
    })
  );
}

/** The mean of the rows of x [N, D], summed on `device` `chunk` rows at a time: [1, D] float32. */
function chunkedMean(x: Tensor, chunk: number, device: Device): Tensor {
  return scope(() => {
    const n = x.size(0);
    const sum = zeros([1, x.size(1)], { dtype: "float64", device });
    for (let s = 0; s < n; s += chunk) {
      scope(() => sum.add_(x.narrow(0, s, Math.min(chunk, n - s)).to({ dtype: "float64", device }).sum(0, true)));
    }
    return sum.div(n).to({ dtype: "float32" });
  });
}

/**
 * Top-1 accuracy of the weighted kNN vote of the training features for each test feature
 * (`knnScores(...).top1`; see there for the streaming and its memory bound).
 *
 * @param train Training features [N, D] and int64 labels [N] (the memory bank).
 * @param test Test features [M, D] and int64 labels [M].
 * @param options k, temperature, centring, chunk sizes, device.
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
  return knnScores(train, test, options).top1;
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
  /** Polled between chunks: a computation it aborts throws what `throwIfAborted` throws (an `AbortSignal` works). @default none */
  signal?: { throwIfAborted(): void };
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
        o.signal?.throwIfAborted();
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

/** A batch of images with labels, as a `Loader` yields it (structurally: src/eval does not import src/data). */
export interface LabelledBatch {
  /** Inputs [B, ...]: uint8 pixels or floats. */
  images: Tensor;
  /** int64 labels [B], or null (then the features are unlabelled and this function refuses them). */
  labels: Tensor | null;
  /** Frees the batch. */
  dispose(): void;
}

/**
 * Runs a frozen network over a stream of batches (a `Loader` over a dataset too large for memory,
 * e.g. an image folder's `val` split) under `noGrad`, and gathers float32 features [N, D] and int64
 * labels [N] on the host (CPU), batch by batch: device memory holds one batch and its outputs.
 * Each batch is disposed after use. The result feeds `knnScores` and `linearProbe` with `device`
 * set, which stream the features back in chunks.
 *
 * A `Module` is switched to eval mode for the pass and restored afterwards.
 *
 * @param fn The forward function `(x) => features`, or a Module.
 * @param batches The batches, e.g. a `Loader` with `shuffle: false, dropLast: false`.
 * @param options Device each batch is moved to; transform of a batch into the network's input.
 * @returns Features and labels on the CPU; the caller owns them.
 * @throws {TypeError} When a batch has no labels.
 * @throws {RangeError} When there are no batches.
 *
 * @example Usage
 * ```ts
 * import { extractLabelledFeatures } from "@unigrad/unigrad/eval";
 * import { tensor } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * async function* batches() {
 *   for (let i = 0; i < 3; i++) {
 *     const images = tensor(new Uint8Array([i, 2 * i]), { shape: [1, 2] });
 *     const labels = tensor([BigInt(i)]);
 *     yield { images, labels, dispose: () => (images.dispose(), labels.dispose()) };
 *   }
 * }
 * const { features, labels } = await extractLabelledFeatures((x) => x.mul(255), batches());
 * assert.deepEqual(features.toArray(), [[0, 0], [1, 2], [2, 4]]);
 * assert.deepEqual(labels.toArray(), [0, 1, 2]);
 * features.dispose();
 * labels.dispose();
 * ```
 */
export async function extractLabelledFeatures(
  fn: ((x: Tensor) => Tensor) | Module,
  batches: AsyncIterable<LabelledBatch>,
  options: Omit<ExtractOptions, "batchSize"> = {},
): Promise<LabelledFeatures> {
  const { device, transform = defaultTransform } = options;
  const forward = fn instanceof Module ? (x: Tensor) => fn.forward(x) : fn;
  const wasTraining = fn instanceof Module ? fn.training : false;
  if (fn instanceof Module) fn.eval();
  const feats: Tensor[] = [];
  const labels: Tensor[] = [];
  try {
    for await (const batch of batches) {
      try {
        options.signal?.throwIfAborted();
        if (batch.labels === null) throw new TypeError("Cannot extract labelled features: a batch has no labels");
        const [f, l] = noGrad(() =>
          scope(() => {
            const x = device === undefined ? batch.images : batch.images.to({ device });
            const y = forward(transform(x));
            const f32 = (y.ndim > 2 ? y.flatten(1) : y).to({ dtype: "float32", device: "cpu" }); // [B, D]
            return [f32, batch.labels!.to({ device: "cpu" })];
          })
        );
        feats.push(f);
        labels.push(l);
      } finally {
        batch.dispose();
      }
    }
    if (feats.length === 0) throw new RangeError("Cannot extract features: there were no batches");
    return scope(() => ({ features: cat(feats, 0), labels: cat(labels, 0) })); // [N, D], [N]
  } finally {
    for (const t of [...feats, ...labels]) t.dispose();
    if (fn instanceof Module) fn.train(wasTraining);
  }
}
