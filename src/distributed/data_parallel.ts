/**
 * `dataParallel`: what a trainer needs from data-parallel training over a process group — gradients
 * averaged after backward (in buckets), and a gradient-carrying all-gather for methods that work on the
 * global batch. The shape is the `DataParallel` interface of src/ssl's trainer, implemented here
 * without importing it.
 *
 * @module
 */
import type { Tensor } from "../torch/mod.ts";
import { GradientAverager, type GradientAveragerOptions } from "./grad_sync.ts";
import type { ProcessGroup } from "./process_group.ts";

/** Data-parallel operations of one rank. */
export interface DataParallelOps {
  /** Every rank's x [N, ...] → [W·N, ...]; backward all-reduces the gradient and keeps this rank's slice. */
  gatherWithGrad(x: Tensor): Tensor;
  /** Replaces every parameter gradient by its mean over the ranks. */
  averageGradients(): void;
  /** Sums a small tensor over the ranks in place (decisions every rank must share). */
  allReduceSum_(x: Tensor): void;
}

/**
 * Data-parallel operations over `group` for the parameters `params` (the optimizer's, in the same
 * order on every rank).
 *
 * @param group The process group.
 * @param params The trained parameters.
 * @returns The operations a `Trainer` takes as `parallel`.
 *
 * @example Usage
 * ```ts
 * import { dataParallel } from "@unigrad/unigrad/distributed";
 * import { ones, ProcessGroup } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const port = (listener.addr as Deno.NetAddr).port;
 * listener.close();
 * using group = ProcessGroup.join({ address: "127.0.0.1", port, rank: 0, worldSize: 1 });
 * using w = ones([2], { requiresGrad: true });
 * const parallel = dataParallel(group, [w]);
 * using all = parallel.gatherWithGrad(w);
 * using loss = all.sum();
 * loss.backward();
 * parallel.averageGradients();
 * using g = w.grad!;
 * assert.deepEqual(g.toArray(), [1, 1]);
 * ```
 */
export function dataParallel(
  group: ProcessGroup,
  params: readonly Tensor[],
  options: GradientAveragerOptions = {},
): DataParallelOps {
  const averager = new GradientAverager(group, params, options);
  return {
    gatherWithGrad: (x) => group.allGatherWithGrad(x),
    averageGradients: () => averager.average(),
    allReduceSum_: (x) => group.allReduceSum_(x),
  };
}
