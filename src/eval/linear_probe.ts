/**
 * Linear probe: a softmax-regression classifier trained on frozen features, the standard measure of
 * a self-supervised representation (the paper trains it for 90 epochs on ImageNet).
 *
 * Shapes: N training rows, M test rows, D feature width, C classes, B minibatch rows.
 *
 * @module
 */
import { crossEntropy, linear, noGrad, scope, type Tensor, tensor, zeros, zerosLike } from "../torch/mod.ts";
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
}

/** What `linearProbe` measured. */
export interface LinearProbeResult {
  /** Top-1 accuracy on the training features, in [0, 1]. */
  trainAccuracy: number;
  /** Top-1 accuracy on the test features, in [0, 1]. */
  testAccuracy: number;
  /** Mean cross-entropy of the last epoch's minibatches. */
  loss: number;
}

/** (x − mean) / std with the training set's per-dimension statistics (std clamped at 1e-6), or x − mean. */
function standardiser(train: Tensor, scale: boolean): (x: Tensor) => Tensor {
  const x32 = train.to({ dtype: "float32" }); // [N, D]
  const mean = x32.mean(0, true); // [1, D]
  const std = scale ? x32.std(0, false, true).clamp(1e-6) : null; // [1, D]
  return (x) => {
    const centred = x.to({ dtype: "float32", device: mean.device }).sub(mean); // [N, D]
    return std === null ? centred : centred.div(std);
  };
}

function accuracy(x: Tensor, labels: Tensor, weight: Tensor, bias: Tensor): number {
  return scope(() => {
    const hits = linear(x, weight, bias).argmax(1).eq(labels.to({ device: x.device })); // [N]
    return hits.sum(undefined, false, "float64").item() / labels.numel;
  });
}

type SgdSettings = Required<
  Pick<LinearProbeOptions, "epochs" | "batchSize" | "lr" | "momentum" | "weightDecay" | "seed">
>;

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

/** Minibatch SGD with momentum and cosine decay on [weight, bias]; returns the last epoch's mean loss. */
function fitSgd(x: Tensor, y: Tensor, params: [Tensor, Tensor], o: SgdSettings): number {
  const n = x.size(0);
  const steps = Math.ceil(n / o.batchSize);
  const bufs = params.map((p) => zerosLike(p));
  const lossSum = zeros([], { dtype: "float64", device: x.device });
  const shuffle = shuffler(n, o.seed);
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    if (epoch === o.epochs - 1) lossSum.zero_();
    const perm = scope(() => tensor(shuffle()).to({ device: x.device })); // [N]
    for (let i = 0; i < steps; i++) {
      const lr = o.lr * 0.5 * (1 + Math.cos((Math.PI * (epoch * steps + i)) / (o.epochs * steps)));
      scope(() => {
        const idx = perm.narrow(0, i * o.batchSize, Math.min(o.batchSize, n - i * o.batchSize)); // [B]
        const loss = crossEntropy(linear(x.indexSelect(0, idx), params[0], params[1]), y.indexSelect(0, idx));
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
 * @param train Training features [N, D] and int64 labels [N].
 * @param test Test features [M, D] and int64 labels [M].
 * @param options Epochs, batch size, learning rate, momentum, weight decay, seed.
 * @returns Train and test accuracy and the last epoch's mean loss.
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
  return scope(() => {
    const standardise = standardiser(train.features, options.standardize ?? true);
    const x = noGrad(() => standardise(train.features)); // [N, D]
    const y = train.labels.to({ device: x.device }); // [N]
    const classes = options.numClasses ?? y.amax().item() + 1;
    const weight = zeros([classes, x.size(1)], { device: x.device, requiresGrad: true }); // [C, D]
    const bias = zeros([classes], { device: x.device, requiresGrad: true }); // [C]
    const loss = fitSgd(x, y, [weight, bias], { epochs, batchSize, lr, momentum, weightDecay, seed });
    return noGrad(() => ({
      trainAccuracy: accuracy(x, y, weight, bias),
      testAccuracy: accuracy(standardise(test.features), test.labels, weight, bias),
      loss,
    }));
  });
}
