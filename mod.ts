/**
 * unigrad: Siamese self-supervised learning on the unified gradient framework of Tao et al.
 * (CVPR 2022), with libtorch tensors (CPU or CUDA) driven from TypeScript.
 *
 * The tensor core is PyTorch-shaped: create tensors, compute, and free them with `scope()`,
 * `using` or `dispose()`.
 *
 * @example Usage
 * ```ts
 * import { linear, manualSeed, randn, scope } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * manualSeed(0);
 * const w = randn([3, 4], { requiresGrad: true });
 * scope(() => {
 *   const x = randn([8, 4]);
 *   const loss = linear(x, w).square().mean();
 *   loss.backward();
 * });
 * const g = w.grad!;
 * assert.deepEqual(g.shape, [3, 4]);
 * g.dispose();
 * w.dispose();
 * ```
 *
 * @module
 */

// src/torch: tensors, autograd, scopes, CUDA runtime
export * from "./src/torch/mod.ts";
// src/nn: modules, layers, ResNets, heads
export * from "./src/nn/mod.ts";
// src/optim: optimizers and schedules
export * from "./src/optim/mod.ts";
// src/dist: data parallelism on c10d (process groups, gradient averaging, SyncBN, launcher)
export * from "./src/distributed/mod.ts";
// src/data: datasets, loader, batched augmentation, multi-crop, CutMix
export * from "./src/data/mod.ts";
// src/ssl: the unified gradient framework (methods, registry, state, target branch, encoder, trainer)
export * from "./src/ssl/mod.ts";
// src/eval: kNN monitor, linear probe, representation metrics
export * from "./src/eval/mod.ts";
// src/io: safetensors, checkpoints, metrics log, plots, reports, progress
export * from "./src/io/mod.ts";
// src/run: configuration, run set-up, train(config)
export * from "./src/run/mod.ts";
