/**
 * The InfoNCE gradient shared by MoCo and SimCLR's gradient form (internal):
 * g1 = (−v2 + Σ_{v∈V} s_v·v)/τ, s_v = softmax_v(u1·v/τ), over a set V of target features.
 *
 * Shape letters: N batch, D width, M = |V| negatives.
 *
 * @module
 */
import { cat, type Tensor, tensor } from "../torch/mod.ts";
import { rowDot } from "./_checks.ts";
import type { ViewParts } from "./_define.ts";
import type { MethodState } from "./state.ts";

/** One view: g = (−v + softmax(u·Vᵀ/τ)·V) / (2Nτ). */
export function infoNCEView(u: Tensor, v: Tensor, V: Tensor, tau: number): ViewParts {
  const N = u.size(0);
  const s = u.mm(V.t()).div(tau).softmax(1); // [N, M]
  const positive = v.detach(); // [N, D]
  const negative = s.mm(V); // [N, D]
  return { g: negative.sub(positive).div(2 * N * tau), positive, negative, lambda: 1, u, v };
}

/**
 * One view's loss mean_b(−u_b·v_b/τ + log Σ_{v∈V} exp(u_b·v/τ)): the cross-entropy of InfoNCE when V
 * holds the positive v_b (as it does with the batch's own targets), and in every case the loss whose
 * gradient is `infoNCEView`'s.
 */
export function infoNCELoss(u: Tensor, v: Tensor, V: Tensor, tau: number): Tensor {
  const logits = u.mm(V.detach().t()).div(tau); // [N, M]
  return logits.logsumexp(1, true).sub(rowDot(u, v.detach()).div(tau)).mean(); // []
}

/** V = the gathered negatives followed by the queue's filled rows [M, D]. */
export function withQueue(keys: Tensor, s: MethodState): Tensor {
  if (!s.queue || s.queueFilled === 0) return keys;
  return cat([keys, s.queue.narrow(0, 0, s.queueFilled).to(keys.dtype)]); // [M + filled, D]
}

/** Writes `keys` [M, D] into the queue at its pointer, wrapping around; keeps the last K when M > K. */
export function enqueue(s: MethodState, keys: Tensor): void {
  const queue = s.queue!;
  const K = queue.size(0);
  const M = Math.min(keys.size(0), K);
  const last = keys.narrow(0, keys.size(0) - M, M); // [M, D]
  const index = BigInt64Array.from({ length: M }, (_, i) => BigInt((s.queuePtr + i) % K));
  const rows = tensor(index, { device: queue.device }); // [M] int64
  queue.indexCopy_(0, rows, last.to(queue.dtype));
  s.queuePtr = (s.queuePtr + M) % K;
  s.queueFilled = Math.min(K, s.queueFilled + M);
}
