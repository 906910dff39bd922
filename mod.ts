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

// src/nn: modules and models
export { Module, Sequential } from "./src/nn/module.ts";
export * from "./src/nn/init.ts";
export * from "./src/nn/linear.ts";
export * from "./src/nn/conv.ts";
export * from "./src/nn/batchnorm.ts";
export * from "./src/nn/activation.ts";
export * from "./src/nn/heads.ts";
export * from "./src/nn/resnet_blocks.ts";
export * from "./src/nn/resnet.ts";

// src/optim: optimizers and schedules
export * from "./src/optim/optimizer.ts";
export * from "./src/optim/sgd.ts";
export * from "./src/optim/lars.ts";
export * from "./src/optim/schedule.ts";
