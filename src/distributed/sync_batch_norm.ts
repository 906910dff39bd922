/**
 * Synchronised batch normalisation: batch statistics over the global batch of every rank, with the
 * gradient of the global batch. Per channel, each rank's count, mean and sum of squared deviations
 * (M2) are all-gathered through a differentiable all-gather (its backward all-reduces the gradient and
 * keeps this rank's slice), and merged as Chan et al.'s parallel variance does and PyTorch's
 * `batch_norm_gather_stats_with_counts`: mean = Σ n_r·m_r / N, M2 = Σ M2_r + Σ n_r·(m_r − mean)². No
 * E[x²] − E[x]² cancellation (which loses the variance of features with a large mean in float32), and
 * every statistic stays on x's device: no host sync per layer. libtorch 1.13 has no CPU
 * `batch_norm_stats`, the kernel PyTorch's SyncBatchNorm uses; this formulation runs anywhere.
 *
 * @module
 */
import { type BatchNormOptions, cat, full, noGrad, scope, type Tensor } from "../torch/mod.ts";
import type { ProcessGroup } from "./process_group.ts";

/**
 * Batch normalisation of x [N, C, ...] with statistics over every rank's batch (training), or with the
 * running statistics (eval, no communication). Running statistics are updated in place with the
 * global mean and the unbiased global variance, as PyTorch's SyncBatchNorm does. Statistics are kept in
 * float32; the result has x's dtype.
 *
 * @param group The process group (every rank must call this in the same order).
 * @param x Input [N, C] or [N, C, ...].
 * @param options As `batchNorm`.
 * @returns The normalised tensor.
 * @throws {TypeError} On an input with fewer than 2 dimensions.
 *
 * @example Usage
 * ```ts
 * import { ProcessGroup, syncBatchNorm, tensor } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const port = (listener.addr as Deno.NetAddr).port;
 * listener.close();
 * using group = ProcessGroup.join({ address: "127.0.0.1", port, rank: 0, worldSize: 1 });
 * using x = tensor([[1], [3]]);
 * using y = syncBatchNorm(group, x);
 * const [[first]] = y.toArray() as number[][];
 * assert.ok(Math.abs(first + 1) < 1e-4);
 * ```
 */
export function syncBatchNorm(group: ProcessGroup, x: Tensor, options: BatchNormOptions = {}): Tensor {
  if (x.ndim < 2) throw new TypeError(`Cannot apply syncBatchNorm to an input of shape [${x.shape.join(", ")}]`);
  return scope(() => normalize(group, x, options));
}

function normalize(group: ProcessGroup, x: Tensor, options: BatchNormOptions): Tensor {
  const { weight = null, bias = null, runningMean = null, runningVar = null, training = true } = options;
  const { momentum = 0.1, eps = 1e-5 } = options;
  // Letters: N batch, C channels, S the trailing (spatial) sizes; stats are per channel.
  const C = x.size(1);
  const view = [1, C, ...x.shape.slice(2).map(() => 1)]; // [1, C, 1, …]
  const reduceDims = [0, ...x.shape.slice(2).map((_, i) => i + 2)];
  const xf = x.dtype === "float32" || x.dtype === "float64" ? x : x.to("float32");
  let mean: Tensor;
  let varBiased: Tensor;
  if (training) {
    const n = x.numel / C; // samples per channel on this rank
    const localMean = xf.mean(reduceDims); // [C]
    const localM2 = xf.sub(localMean.view(view)).square().sum(reduceDims); // [C]
    const count = full([1], n, { dtype: xf.dtype, device: xf.device }); // [1], on x's device (NCCL needs it there)
    const gathered = group.allGatherWithGrad(cat([count, localMean, localM2]).view([1, 2 * C + 1])); // [W, 2C + 1]
    const counts = gathered.narrow(1, 0, 1); // [W, 1]
    const total = counts.sum(); // [] N
    mean = counts.mul(gathered.narrow(1, 1, C)).sum(0).div(total); // [C]
    const spread = counts.mul(gathered.narrow(1, 1, C).sub(mean.view([1, C])).square()).sum(0); // [C]
    varBiased = gathered.narrow(1, C + 1, C).sum(0).add(spread).div(total); // [C]
    if (runningMean !== null && runningVar !== null) {
      noGrad(() => {
        runningMean.lerp_(mean.detach(), momentum);
        runningVar.lerp_(varBiased.detach().mul(total).div(total.sub(1).clamp(1)), momentum); // unbiased, on the device
      });
    }
  } else {
    if (runningMean === null || runningVar === null) {
      throw new TypeError("Cannot apply syncBatchNorm in eval mode without running statistics");
    }
    [mean, varBiased] = [runningMean, runningVar];
  }
  let y = xf.sub(mean.view(view)).mul(varBiased.add(eps).rsqrt().view(view)); // [N, C, …]
  if (weight !== null) y = y.mul(weight.view(view));
  if (bias !== null) y = y.add(bias.view(view));
  return y.dtype === x.dtype ? y : y.to(x.dtype);
}
