/**
 * MoCo (He et al., CVPR 2020) in the unified framework: InfoNCE against a momentum encoder's features.
 * The gradient with respect to u1 is
 *
 *     g1 = (−v2 + Σ_{v∈V} s_v·v)/τ,   s_v = softmax_v(u1·v/τ)
 *
 * where V holds the target features of both views of the (global) batch and, with `queueSize` K > 0, the
 * last K of them from earlier steps (a queue that starts empty and wraps around). The loss is InfoNCE's
 * cross-entropy, mean_b(−u1·v2/τ + log Σ_{v∈V} exp(u1·v/τ)), symmetrised over the views.
 *
 * @module
 */
import { checkRange } from "./_checks.ts";
import { defineMethod } from "./_define.ts";
import { combineViews, enqueue, gatheredNegatives, infoNCELoss, infoNCEView, withQueue } from "./_views.ts";
import { localComm } from "./comm.ts";
import type { CommonOptions, Method } from "./method.ts";

/** Options of `moco`. */
export interface MocoOptions extends CommonOptions {
  /** Temperature τ. @default 0.2 */
  tau?: number;
  /** Queue length K: 0 uses the batch's negatives only. @default 0 */
  queueSize?: number;
}

/**
 * MoCo's InfoNCE gradient with in-batch negatives of both views and an optional queue.
 *
 * @returns The method; with a queue its state holds it ("queue", "queuePtr", "queueFilled").
 * @throws {RangeError} When τ ≤ 0 or K is not a non-negative integer.
 *
 * @example Usage
 * ```ts
 * import { disposeState } from "@unigrad/unigrad/ssl";
 * import { moco, normalize, randn, scope } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const method = moco({ queueSize: 16 });
 * const state = method.initState(8);
 * scope(() => {
 *   const [u1, u2, v1, v2] = [0, 1, 2, 3].map(() => normalize(randn([4, 8])));
 *   const { g1 } = method.gradient({ u1, u2, v1, v2 }, state);
 *   assert.deepEqual(g1.shape, [4, 8]);
 * });
 * assert.equal(state.queueFilled, 8); // both views' target features were queued
 * disposeState(state);
 * ```
 */
export function moco(options: MocoOptions = {}): Method {
  const { tau = 0.2, queueSize = 0, target = "momentum", comm = localComm, checkValues } = options;
  checkRange("moco", "tau", tau, 1e-8);
  if (!Number.isInteger(queueSize) || queueSize < 0) {
    throw new RangeError(`Invalid moco option queueSize: expected a non-negative integer, got ${queueSize}`);
  }
  return defineMethod({
    name: "moco",
    form: "original",
    target,
    checkValues,
    state: { queueSize },
    gradient(f, s, advance) {
      const keys = gatheredNegatives(f, target, comm); // [2·N_global, D]
      const V = withQueue(keys, s); // [M, D]
      const result = combineViews(infoNCEView(f.u1, f.v2, V, tau), infoNCEView(f.u2, f.v1, V, tau));
      if (s.queue && advance) enqueue(s, keys);
      return result;
    },
    loss(f, s) {
      const V = withQueue(gatheredNegatives(f, target, comm), s); // [M, D]
      return infoNCELoss(f.u1, f.v2, V, tau).add(infoNCELoss(f.u2, f.v1, V, tau)).mul(0.5);
    },
  });
}
