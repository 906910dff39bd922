/**
 * `Loader`: shuffled batches from a dataset, delivered on the training device. The order of epoch e
 * is a permutation drawn from (seed, e) by a small counter-free generator in TypeScript, independent
 * of libtorch's generators, so `state` ({seed, epoch, position}) is all a checkpoint needs to resume
 * the exact data order. A `TensorDataset` is copied whole to the device once and batches are
 * gathered there; a `StreamingDataset` is read `prefetch` batches ahead, in a worker thread.
 *
 * Shape letters: N samples, B batch, C/H/W image.
 *
 * @module
 */
import { type Device, keep, scope, type Tensor, tensor } from "../torch/mod.ts";
import { type StreamingDataset, TensorDataset } from "./dataset.ts";

/** A loader's position, as saved in a checkpoint. */
export interface LoaderState {
  /** Seed of the shuffling. */
  seed: number;
  /** Current epoch (0-based). */
  epoch: number;
  /** Samples of this rank's share of the epoch already yielded. */
  position: number;
}

/** Options of `Loader`. */
export interface LoaderOptions {
  /** Samples per batch (per rank). */
  batchSize: number;
  /** Seed of the shuffling. @default 0 */
  seed?: number;
  /** Shuffle each epoch (else dataset order). @default true */
  shuffle?: boolean;
  /** Drop the last incomplete batch. @default true */
  dropLast?: boolean;
  /** Device the batches are delivered on. @default "cpu" */
  device?: Device;
  /** "uint8" keeps pixels 0–255; "float32" scales them to [0, 1] on the device. @default "uint8" */
  dtype?: "uint8" | "float32";
  /** Batches read ahead from a streaming dataset. @default 2 */
  prefetch?: number;
  /** This process's rank: it takes every `worldSize`-th sample of the epoch's order. @default 0 */
  rank?: number;
  /** Number of processes sharing the data. @default 1 */
  worldSize?: number;
}

/** One batch; its tensors belong to the caller (no scope frees them): dispose the batch. */
export interface Batch {
  /** Images [B, C, H, W] on the loader's device (uint8 or float32). */
  images: Tensor;
  /** int64 labels [B], or null. */
  labels: Tensor | null;
  /**
   * int32 [B, 2]: each image's [height, width] at the top-left of its canvas (an image folder's
   * letterboxed photographs; pass it to `Augmentation.apply`), or null when every image fills [H, W].
   */
  sizes: Tensor | null;
  /** Frees the tensors. */
  dispose(): void;
  /** Frees the tensors at the end of a `using` block. */
  [Symbol.dispose](): void;
}

/** splitmix32: a 32-bit mixing step, used to seed and run the shuffling generator. */
function splitmix32(state: number): () => number {
  let a = state | 0;
  return () => {
    a = (a + 0x9e3779b9) | 0;
    let t = a ^ (a >>> 16);
    t = Math.imul(t, 0x21f0aaad);
    t ^= t >>> 15;
    t = Math.imul(t, 0x735a2d97);
    return (t ^ (t >>> 15)) >>> 0;
  };
}

/**
 * The permutation of 0..n−1 for (seed, epoch): Fisher–Yates driven by splitmix32 seeded from both.
 * Same inputs, same permutation, on every machine.
 *
 * @param n Length.
 * @param seed A non-negative integer (up to 2^53).
 * @param epoch A non-negative integer.
 * @returns The permutation.
 *
 * @example Usage
 * ```ts
 * import { permutation } from "@unigrad/unigrad/data";
 * import assert from "node:assert/strict";
 *
 * const p = permutation(5, 0, 1);
 * assert.deepEqual([...p].sort(), [0, 1, 2, 3, 4]);
 * assert.deepEqual(permutation(5, 0, 1), p); // the same (seed, epoch), the same order
 * ```
 */
export function permutation(n: number, seed: number, epoch: number): Int32Array {
  const hi = Math.floor(seed / 2 ** 32);
  const mix = splitmix32(splitmix32(splitmix32(seed >>> 0)() ^ hi)() ^ epoch);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor((mix() / 4294967296) * (i + 1));
    const t = out[i];
    out[i] = out[j];
    out[j] = t;
  }
  return out;
}

function checkInt(v: number, name: string, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new RangeError(`Loader ${name} must be an integer >= ${min}, got ${v}`);
}

/**
 * Shuffled batches, one epoch per `for await` loop; `state` / `setState` save and restore the
 * position. Call `close()` when done (it frees the device copy of a `TensorDataset`).
 *
 * @example Usage
 * ```ts
 * import { Loader, TensorDataset, arange } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * using ds = new TensorDataset(arange(0, 40).to("uint8").view([10, 1, 2, 2]));
 * using loader = new Loader(ds, { batchSize: 4, seed: 1 });
 * let batches = 0;
 * for await (using batch of loader) {
 *   assert.deepEqual(batch.images.shape, [4, 1, 2, 2]);
 *   batches++;
 * }
 * assert.equal(batches, 2);
 * assert.deepEqual(loader.state, { seed: 1, epoch: 1, position: 0 });
 * ```
 */
export class Loader {
  #source: TensorDataset | StreamingDataset;
  #onDevice: TensorDataset | null;
  #o: Required<LoaderOptions>;
  #epoch = 0;
  #position = 0;

  /**
   * A loader over `dataset`, starting at epoch 0, position 0.
   *
   * @param dataset A dataset held in memory (copied to `device` once) or streamed.
   * @param options Batch size, seed, device and the rest.
   */
  constructor(dataset: TensorDataset | StreamingDataset, options: LoaderOptions) {
    const o = {
      seed: 0,
      shuffle: true,
      dropLast: true,
      device: "cpu" as Device,
      dtype: "uint8" as const,
      prefetch: 2,
      rank: 0,
      worldSize: 1,
      ...options,
    };
    checkInt(o.batchSize, "batchSize", 1);
    checkInt(o.seed, "seed", 0);
    checkInt(o.prefetch, "prefetch", 1);
    checkInt(o.worldSize, "worldSize", 1);
    checkInt(o.rank, "rank", 0);
    if (o.rank >= o.worldSize) throw new RangeError(`Loader rank ${o.rank} must be below worldSize ${o.worldSize}`);
    this.#o = o;
    this.#source = dataset;
    this.#onDevice = dataset instanceof TensorDataset ? dataset.to(o.device) : null;
  }

  /** Samples per epoch for this rank. */
  get samplesPerEpoch(): number {
    return Math.floor(this.#source.length / this.#o.worldSize);
  }
  /** Batches per epoch. */
  get batchesPerEpoch(): number {
    const n = this.samplesPerEpoch;
    return this.#o.dropLast ? Math.floor(n / this.#o.batchSize) : Math.ceil(n / this.#o.batchSize);
  }

  /** The position to save in a checkpoint. */
  get state(): LoaderState {
    return { seed: this.#o.seed, epoch: this.#epoch, position: this.#position };
  }
  /** Restores a saved position (the seed too). */
  setState(state: LoaderState): void {
    checkInt(state.seed, "seed", 0);
    checkInt(state.epoch, "epoch", 0);
    checkInt(state.position, "position", 0);
    this.#o.seed = state.seed;
    this.#epoch = state.epoch;
    this.#position = state.position;
  }

  /** This rank's sample order for the current epoch. */
  #order(): Int32Array {
    const n = this.#source.length;
    const all = this.#o.shuffle
      ? permutation(n, this.#o.seed, this.#epoch)
      : Int32Array.from({ length: n }, (_, i) => i);
    const mine = new Int32Array(this.samplesPerEpoch);
    for (let i = 0; i < mine.length; i++) mine[i] = all[i * this.#o.worldSize + this.#o.rank];
    return mine;
  }

  /** Batch boundaries [start, end) from the current position to the end of the epoch. */
  #spans(): [number, number][] {
    const n = this.samplesPerEpoch;
    const b = this.#o.batchSize;
    const spans: [number, number][] = [];
    for (let s = this.#position; s < n; s += b) {
      if (s + b > n && this.#o.dropLast) break;
      spans.push([s, Math.min(s + b, n)]);
    }
    return spans;
  }

  #advance(end: number, last: boolean): void {
    if (last) {
      this.#epoch++;
      this.#position = 0;
    } else this.#position = end;
  }

  #finish(images: Tensor, labels: Tensor | null, sizes: Tensor | null = null): Batch {
    const x = this.#o.dtype === "float32" ? scope(() => images.to("float32").mul(1 / 255)) : images.share();
    const batch: Batch = {
      images: keep(x),
      labels: labels === null ? null : keep(labels.share()),
      sizes: sizes === null ? null : keep(sizes.share()),
      dispose() {
        batch.images.dispose();
        batch.labels?.dispose();
        batch.sizes?.dispose();
      },
      [Symbol.dispose]() {
        batch.dispose();
      },
    };
    return batch;
  }

  /** The rest of the current epoch, batch by batch; the state advances as each batch is yielded. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Batch, void, undefined> {
    const order = this.#order();
    const spans = this.#spans();
    if (spans.length === 0) {
      this.#advance(0, true);
      return;
    }
    if (this.#onDevice) {
      const ds = this.#onDevice;
      const index = keep(tensor(order, { dtype: "int64", device: this.#o.device })); // [N]: one upload per epoch
      try {
        for (const [k, [s, e]] of spans.entries()) {
          const batch = scope(() => {
            const idx = index.narrow(0, s, e - s); // [B]
            return this.#finish(ds.images.indexSelect(0, idx), ds.labels?.indexSelect(0, idx) ?? null);
          });
          this.#advance(e, k === spans.length - 1);
          yield batch;
        }
      } finally {
        index.dispose();
      }
      return;
    }
    yield* this.#stream(order, spans);
  }

  async *#stream(order: Int32Array, spans: [number, number][]): AsyncGenerator<Batch, void, undefined> {
    const src = this.#source as StreamingDataset;
    const [c, h, w] = src.imageShape;
    const reads = spans.map(([s, e]) => () => src.read(Array.from(order.subarray(s, e))));
    const queue = reads.slice(0, this.#o.prefetch).map((r) => r());
    try {
      for (const [k, [s, e]] of spans.entries()) {
        const host = await queue.shift()!;
        if (k + this.#o.prefetch < reads.length) queue.push(reads[k + this.#o.prefetch]());
        const batch = scope(() => {
          const dev = { device: this.#o.device };
          const images = host.channelsLast
            ? tensor(host.images, { shape: [e - s, h, w, c] }).permute([0, 3, 1, 2]).to(dev) // [B, C, H, W], channels-last strides
            : tensor(host.images, { shape: [e - s, c, h, w] }).to(dev);
          const labels = host.labels ? tensor(host.labels, { dtype: "int64" }).to(dev) : null;
          const sizes = host.sizes ? tensor(host.sizes, { shape: [e - s, 2] }).to(dev) : null; // [B, 2]
          return this.#finish(images, labels, sizes);
        });
        this.#advance(e, k === spans.length - 1);
        yield batch;
      }
    } finally {
      await Promise.allSettled(queue);
    }
  }

  /** Frees the device copy of an in-memory dataset (the dataset itself stays the caller's). */
  close(): void {
    this.#onDevice?.dispose();
    this.#onDevice = null;
  }
  /** Closes at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.close();
  }
}
