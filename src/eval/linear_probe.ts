/**
 * Linear probe: a softmax-regression classifier trained on frozen features, the standard measure of
 * a self-supervised representation (the paper trains it for 90 epochs on ImageNet).
 *
 * Shapes: N training rows, M test rows, D feature width, C classes, B minibatch rows.
 *
 * @module
 */
import {
  crossEntropy,
  type Device,
  linear,
  noGrad,
  scope,
  stack,
  type Tensor,
  tensor,
  zeros,
  zerosLike,
} from "../torch/mod.ts";
import { checkSameWidth, positiveInt } from "./_check.ts";
import type { LabelledFeatures } from "./labelled.ts";

/** Options of `linearProbe`. */
export interface LinearProbeOptions {
  /** Passes over the training features. @default 30 */
  epochs?: number;
  /** Rows per SGD step. @default 1024 */
  batchSize?: number;
  /** Peak learning rate, cosine-decayed to 0 over all steps. @default 0.1 */
  lr?: number;
  /** SGD momentum. @default 0.9 */
  momentum?: number;
  /** L2 weight decay on the weights (not the bias). @default 0 */
  weightDecay?: number;
  /** Seed of the minibatch shuffling (a private generator: the global ones are not touched). @default 0 */
  seed?: number;
  /** Number of classes. @default the largest training label + 1 */
  numClasses?: number;
  /** Divide the centred features by their standard deviation (else only centre them). @default true */
  standardize?: boolean;
  /**
   * Device the classifier trains on. The features may stay on the host (CPU): each minibatch is
   * gathered there and moved, and statistics and accuracies are computed `chunkSize` rows at a time,
   * so device memory holds the classifier, one minibatch and one chunk.
   * @default the training features' device
   */
  device?: Device;
  /** Rows per chunk of the statistics and accuracy passes. @default 8192 */
  chunkSize?: number;
  /** Polled between chunks: a computation it aborts throws what `throwIfAborted` throws (an `AbortSignal` works). @default none */
  signal?: { throwIfAborted(): void };
}

/** What `linearProbe` measured. */
export interface LinearProbeResult {
  /** Top-1 accuracy on the training features, in [0, 1]. */
  trainAccuracy: number;
  /** Top-1 accuracy on the test features, in [0, 1]. */
  testAccuracy: number;
  /** Top-5 accuracy on the test features (the label among the 5 highest scores), in [0, 1]. */
  testTop5: number;
  /** Mean cross-entropy of the last epoch's minibatches. */
  loss: number;
}

/** Calls `fn` on chunks of `chunk` rows of x [N, D], each moved to `device` as float32 [B, D]. */
function eachChunk(x: Tensor, chunk: number, device: Device, fn: (rows: Tensor, start: number) => void): void {
  const n = x.size(0);
  for (let s = 0; s < n; s += chunk) {
    scope(() => fn(x.narrow(0, s, Math.min(chunk, n - s)).to({ dtype: "float32", device }), s));
  }
}

/**
 * (x − mean) / std with the training set's per-dimension statistics (std clamped at 1e-6), or
 * x − mean; both computed in two chunked passes on `device` (float64 sums).
 */
function standardiser(train: Tensor, scale: boolean, chunk: number, device: Device): (x: Tensor) => Tensor {
  const n = train.size(0);
  const sum = zeros([1, train.size(1)], { dtype: "float64", device }); // [1, D]
  eachChunk(train, chunk, device, (rows) => sum.add_(rows.sum(0, true, "float64")));
  const mean = sum.div(n).to({ dtype: "float32" }); // [1, D]
  let std: Tensor | null = null;
  if (scale) {
    const squares = zeros([1, train.size(1)], { dtype: "float64", device }); // [1, D]
    eachChunk(train, chunk, device, (rows) => squares.add_(rows.sub(mean).square().sum(0, true, "float64")));
    std = squares.div(n).sqrt().to({ dtype: "float32" }).clamp(1e-6); // population std, as std(unbiased=false)
  }
  return (x) => {
    const centred = x.to({ dtype: "float32", device }).sub(mean); // [N, D]
    return std === null ? centred : centred.div(std);
  };
}

/** Top-1 and top-5 accuracy of the classifier on raw features x, standardised and scored chunk by chunk. */
function accuracy(
  x: Tensor,
  labels: Tensor,
  model: { weight: Tensor; bias: Tensor; standardise: (x: Tensor) => Tensor },
  chunk: number,
): [number, number] {
  return scope(() => {
    const device = model.weight.device;
    const hits = zeros([2], { dtype: "float64", device });
    const k = Math.min(5, model.weight.size(0));
    eachChunk(x, chunk, device, (rows, s) => {
      const y = labels.narrow(0, s, rows.size(0)).to({ device }).view([-1, 1]); // [B, 1]
      const ranked = linear(model.standardise(rows), model.weight, model.bias).topk(k, 1).indices; // [B, 5]
      const right = ranked.eq(y).to({ dtype: "float64" }); // [B, 5]
      hits.add_(stack([right.narrow(1, 0, 1).sum(), right.sum()])); // [2]
    });
    const [top1, top5] = hits.toArray() as number[];
    return [top1 / labels.numel, top5 / labels.numel];
  });
}

type SgdSettings =
  & Required<Pick<LinearProbeOptions, "epochs" | "batchSize" | "lr" | "momentum" | "weightDecay" | "seed">>
  & Pick<LinearProbeOptions, "signal">;

/** Fisher–Yates shuffles of 0..n−1 from a seeded mulberry32 generator, so no global generator is touched. */
function shuffler(n: number, seed: number): () => BigInt64Array {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const order = Array.from({ length: n }, (_, i) => i);
  return () => {
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    return BigInt64Array.from(order, BigInt);
  };
}

/**
 * Minibatch SGD with momentum and cosine decay on [weight, bias]; returns the last epoch's mean loss.
 * x and y stay where they are (host or device): each minibatch is gathered there, then moved to the
 * parameters' device and standardised.
 */
function fitSgd(
  x: Tensor,
  y: Tensor,
  params: [Tensor, Tensor],
  standardise: (x: Tensor) => Tensor,
  o: SgdSettings,
): number {
  const n = x.size(0);
  const device = params[0].device;
  const steps = Math.ceil(n / o.batchSize);
  const bufs = params.map((p) => zerosLike(p));
  const lossSum = zeros([], { dtype: "float64", device });
  const shuffle = shuffler(n, o.seed);
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    if (epoch === o.epochs - 1) lossSum.zero_();
    const perm = scope(() => tensor(shuffle()).to({ device: x.device })); // [N]
    for (let i = 0; i < steps; i++) {
      o.signal?.throwIfAborted();
      const lr = o.lr * 0.5 * (1 + Math.cos((Math.PI * (epoch * steps + i)) / (o.epochs * steps)));
      scope(() => {
        const idx = perm.narrow(0, i * o.batchSize, Math.min(o.batchSize, n - i * o.batchSize)); // [B]
        const rows = standardise(x.indexSelect(0, idx)); // [B, D] on the parameters' device
        const loss = crossEntropy(linear(rows, params[0], params[1]), y.indexSelect(0, idx).to({ device }));
        loss.backward();
        noGrad(() => {
          lossSum.add_(loss.detach().to({ dtype: "float64" }));
          params.forEach((p, j) => {
            const g = p.grad!;
            if (j === 0 && o.weightDecay > 0) g.add_(p, o.weightDecay);
            bufs[j].mul_(o.momentum).add_(g);
            p.sub_(bufs[j], lr);
            p.setGrad(null);
          });
        });
      });
    }
    perm.dispose();
  }
  const mean = lossSum.item() / steps;
  for (const t of [...bufs, lossSum]) t.dispose();
  return mean;
}

/**
 * Trains a linear classifier (weights [C, D] and bias [C], zero-initialised) on standardised frozen
 * features with minibatch SGD, momentum and a cosine learning-rate decay, and reports its accuracy.
 *
 * Features are standardised with the training set's mean and standard deviation. The run is
 * deterministic for a given seed and draws its shuffles from a private generator, so a probe
 * in the middle of training does not change the training run.
 *
 * At scale (ImageNet: 1.28 M × 2048 float32 features, 10.5 GB) keep the features on the host and
 * set `device`: minibatches are gathered on the host and moved, statistics and accuracies go
 * `chunkSize` rows at a time, so device memory holds the classifier [C, D], one minibatch and one
 * chunk (8192 × 2048 float32 = 64 MB, plus its logits).
 *
 * @param train Training features [N, D] and int64 labels [N] (host or device).
 * @param test Test features [M, D] and int64 labels [M].
 * @param options Epochs, batch size, learning rate, momentum, weight decay, seed, device, chunk size.
 * @returns Train and test top-1 accuracy, test top-5 accuracy and the last epoch's mean loss.
 * @throws {TypeError} On malformed shapes or non-int64 labels.
 * @throws {RangeError} On a non-positive epoch count, batch size or learning rate.
 *
 * @example Usage
 * ```ts
 * import { linearProbe, tensor } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * using x = tensor([[0, 1], [0.2, 0.9], [1, 0], [0.9, 0.1]]);
 * using y = tensor([0n, 0n, 1n, 1n]);
 * const r = linearProbe({ features: x, labels: y }, { features: x, labels: y }, { epochs: 20, batchSize: 2 });
 * assert.equal(r.testAccuracy, 1);
 * ```
 */
export function linearProbe(
  train: LabelledFeatures,
  test: LabelledFeatures,
  options: LinearProbeOptions = {},
): LinearProbeResult {
  const { epochs = 30, batchSize = 1024, lr = 0.1, momentum = 0.9, weightDecay = 0, seed = 0 } = options;
  checkSameWidth(train, test, "linear probe");
  positiveInt(epochs, "Linear probe epochs");
  positiveInt(batchSize, "Linear probe batch size");
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new RangeError(`Linear probe seed must be a non-negative integer, got ${seed}`);
  }
  if (!(lr > 0)) throw new RangeError(`Linear probe learning rate must be positive, got ${lr}`);
  if (!(momentum >= 0 && momentum < 1)) {
    throw new RangeError(`Linear probe momentum must be in [0, 1), got ${momentum}`);
  }
  const chunk = positiveInt(options.chunkSize ?? 8192, "Linear probe chunk size");
  const device = options.device ?? train.features.device;
  return scope(() => {
    const x = train.features; // [N, D], wherever it lives
    const standardise = noGrad(() => standardiser(x, options.standardize ?? true, chunk, device));
    const y = train.labels.to({ device: x.device }); // [N]
    const classes = options.numClasses ?? y.amax().item() + 1;
    const weight = zeros([classes, x.size(1)], { device, requiresGrad: true }); // [C, D]
    const bias = zeros([classes], { device, requiresGrad: true }); // [C]
    const sgd = { epochs, batchSize, lr, momentum, weightDecay, seed, signal: options.signal };
    const loss = fitSgd(x, y, [weight, bias], standardise, sgd);
    return noGrad(() => {
      const model = { weight, bias, standardise };
      const [trainAccuracy] = accuracy(x, y, model, chunk);
      const [testAccuracy, testTop5] = accuracy(test.features, test.labels, model, chunk);
      return { trainAccuracy, testAccuracy, testTop5, loss };
    });
  });
}
