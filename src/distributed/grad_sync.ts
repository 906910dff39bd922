/**
 * Data parallelism's two synchronisations of the weights: the initial parameters and buffers sent
 * from rank 0, and the gradients averaged across ranks after every backward, coalesced in buckets
 * (as DDP: reverse parameter order, a small first bucket, then larger ones).
 *
 * @module
 */
import { type DType, noGrad, type Tensor, zerosLike } from "../torch/mod.ts";
import type { GradientHooks, ProcessGroup } from "./process_group.ts";

const ELEMENT_BYTES: Partial<Record<DType, number>> = {
  float64: 8,
  int64: 8,
  float32: 4,
  int32: 4,
  bfloat16: 2,
  float16: 2,
};

/** Bytes of a tensor's elements. */
export function tensorBytes(t: Tensor): number {
  return t.numel * (ELEMENT_BYTES[t.dtype] ?? 1);
}

/** Options of `GradientAverager`. */
export interface GradientAveragerOptions {
  /** Bytes of the first bucket (the last layers' gradients, ready first). @default 1 MiB */
  firstBucketBytes?: number;
  /** Bytes of every further bucket. @default 25 MiB */
  bucketBytes?: number;
  /**
   * Start each bucket's all-reduce from gradient hooks while backward still runs (DDP's overlap), instead
   * of all buckets after backward; free the averager with `dispose()` to remove the hooks. @default false
   */
  overlap?: boolean;
}

/** Splits tensors, in reverse order, into buckets of about the given sizes (every bucket non-empty). */
export function bucketize(tensors: readonly Tensor[], firstBytes: number, bytes: number): Tensor[][] {
  const buckets: Tensor[][] = [];
  let current: Tensor[] = [];
  let size = 0;
  for (let i = tensors.length - 1; i >= 0; i--) {
    const t = tensors[i];
    current.push(t);
    size += tensorBytes(t);
    if (size >= (buckets.length === 0 ? firstBytes : bytes)) {
      buckets.push(current);
      current = [];
      size = 0;
    }
  }
  if (current.length > 0) buckets.push(current);
  return buckets;
}

/**
 * Averages the gradients of a fixed parameter list across the ranks of a group, one all-reduce per
 * bucket. A parameter without a gradient on this rank counts as zero (and receives the average).
 *
 * @example Usage
 * ```ts
 * import { GradientAverager } from "@unigrad/unigrad/distributed";
 * import { ones, ProcessGroup } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const port = (listener.addr as Deno.NetAddr).port;
 * listener.close();
 * using group = ProcessGroup.join({ address: "127.0.0.1", port, rank: 0, worldSize: 1 });
 * using w = ones([3], { requiresGrad: true });
 * using loss = w.mul(2).sum();
 * loss.backward();
 * new GradientAverager(group, [w]).average();
 * using g = w.grad!;
 * assert.deepEqual(g.toArray(), [2, 2, 2]);
 * ```
 */
export class GradientAverager {
  readonly #group: ProcessGroup;
  readonly #params: readonly Tensor[];
  readonly #first: number;
  readonly #bytes: number;
  readonly #hooks: GradientHooks | null = null;
  /** Bytes all-reduced by the last `average()` call. */
  lastBytes = 0;

  /**
   * Averages the gradients of `params` across `group`.
   *
   * @param group The process group.
   * @param params The parameters, in the same order on every rank.
   * @throws {RangeError} On a non-positive bucket size.
   */
  constructor(group: ProcessGroup, params: readonly Tensor[], options: GradientAveragerOptions = {}) {
    const { firstBucketBytes = 1 << 20, bucketBytes = 25 << 20 } = options;
    if (!(firstBucketBytes > 0 && bucketBytes > 0)) {
      throw new RangeError(`Bucket sizes must be positive, got ${firstBucketBytes} and ${bucketBytes} bytes`);
    }
    this.#group = group;
    this.#params = params.filter((p) => p.requiresGrad);
    this.#first = firstBucketBytes;
    this.#bytes = bucketBytes;
    if (options.overlap) {
      const buckets = bucketize(this.#params, firstBucketBytes, bucketBytes);
      this.#hooks = group.hookGradients(buckets.flat(), buckets.map((b) => b.length));
    }
  }

  /** Replaces every gradient by its mean over the ranks (call after backward, before the optimizer step). */
  average(): void {
    if (this.#hooks !== null) {
      this.#hooks.finish(1 / this.#group.worldSize);
      this.lastBytes = this.#params.reduce((s, p) => s + tensorBytes(p), 0);
      return;
    }
    const grads: Tensor[] = [];
    try {
      for (const p of this.#params) {
        let g = p.grad;
        if (g === null) {
          g = noGrad(() => zerosLike(p));
          p.setGrad(g);
        }
        grads.push(g);
      }
      this.lastBytes = 0;
      for (const bucket of bucketize(grads, this.#first, this.#bytes)) {
        this.#group.allReduceCoalesced_(bucket, 1 / this.#group.worldSize);
        for (const g of bucket) this.lastBytes += tensorBytes(g);
      }
    } finally {
      for (const g of grads) g.dispose();
    }
  }

  /** Removes the gradient hooks (with `overlap`); nothing otherwise. */
  dispose(): void {
    this.#hooks?.dispose();
  }

  /** Removes the gradient hooks at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}

/**
 * Makes every rank's tensors equal to rank `root`'s (initial weights and buffers), in place.
 *
 * @param group The process group.
 * @param tensors Parameters and buffers, in the same order on every rank.
 * @param root The rank whose values win. @default 0
 *
 * @example Usage
 * ```ts
 * import { broadcastTensors } from "@unigrad/unigrad/distributed";
 * import { ProcessGroup, zeros } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const port = (listener.addr as Deno.NetAddr).port;
 * listener.close();
 * using group = ProcessGroup.join({ address: "127.0.0.1", port, rank: 0, worldSize: 1 });
 * using w = zeros([2]);
 * broadcastTensors(group, [w]); // with one rank, rank 0's values stay
 * assert.deepEqual(w.toArray(), [0, 0]);
 * ```
 */
export function broadcastTensors(group: ProcessGroup, tensors: readonly Tensor[], root = 0): void {
  noGrad(() => group.broadcast_(tensors, root));
}
