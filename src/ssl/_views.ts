/**
 * The per-view math the method files share (internal): each function computes one view's gradient
 * g = scale·(−positive + negative) or loss, and `combineViews` joins the two views. Grouped by family:
 * views and negatives; the moving correlation F (UniGrad, unified BYOL/SimSiam, DirectPred, VICReg l2);
 * InfoNCE (MoCo, SimCLR's gradient form) and its queue; the asymmetric family's predictors (BYOL,
 * SimSiam).
 *
 * Shape letters: N batch, D projector width, M negatives.
 *
 * @module
 */
import {
  backward,
  batchNorm,
  cat,
  type DType,
  enableGrad,
  full,
  normalize,
  type Tensor,
  tensor,
} from "../torch/mod.ts";
import { BatchNorm1d } from "../nn/batchnorm.ts";
import type { Sequential } from "../nn/module.ts";
import type { Communicator } from "./comm.ts";
import type { Features, GradientResult, TargetKind } from "./method.ts";
import { directPredPredictor } from "./directpred.ts";
import type { MethodState } from "./state.ts";

// ---- views and negatives

/** Row-wise dot product a·b [N, D] × [N, D] → [N, 1]. */
export function rowDot(a: Tensor, b: Tensor): Tensor {
  return a.mul(b).sum(1, true); // [N, 1]
}

/** One view's gradient g = scale·(−positive + negative) and its parts [N, D] (negative includes λ). */
export interface ViewParts {
  /** The view's gradient [N, D]. */
  g: Tensor;
  /** Positive gradient per sample [N, D]. */
  positive: Tensor;
  /** Negative gradient per sample, balance included [N, D]. */
  negative: Tensor;
  /** Balance coefficient: a number, or per sample [N, 1]. */
  lambda: number | Tensor;
  /** Online feature u and its positive target v, for the similarity statistic. */
  u: Tensor;
  v: Tensor;
}

/** Assembles `{g1, g2, stats}` from the two views. */
export function combineViews(a: ViewParts, b: ViewParts): GradientResult {
  const avg = (f: (p: ViewParts) => Tensor) => f(a).add(f(b)).mul(0.5); // []
  const lam = (p: ViewParts) =>
    typeof p.lambda === "number" ? full([], p.lambda, { dtype: p.g.dtype, device: p.g.device }) : p.lambda.mean();
  return {
    g1: a.g,
    g2: b.g,
    stats: {
      positive: avg((p) => p.positive.norm(2, 1).mean()),
      negative: avg((p) => p.negative.norm(2, 1).mean()),
      lambda: avg(lam),
      similarity: avg((p) => rowDot(p.u.detach(), p.v.detach()).mean()),
    },
  };
}

/** The target-side features of a step's negative gradient: v1, v2, or the detached online u1, u2 for "momentum-positive". */
export function negatives(f: Features, target: TargetKind): [Tensor, Tensor] {
  return target === "momentum-positive" ? [f.u1.detach(), f.u2.detach()] : [f.v1.detach(), f.v2.detach()];
}

/** Both views' negatives gathered from every worker, [n1 of all workers; n2 of all workers] [2·N_global, D]. */
export function gatheredNegatives(f: Features, target: TargetKind, comm: Communicator): Tensor {
  const [n1, n2] = negatives(f, target);
  return cat([comm.allGather(n1), comm.allGather(n2)]); // [2·N_global, D]
}

// ---- the moving correlation F

/** (aᵀa + bᵀb) / (2N) [D, D] in `dtype`, averaged over the workers (the official code's all-reduce). */
export function batchCorrelation(a: Tensor, b: Tensor, dtype: DType, comm: Communicator): Tensor {
  const a32 = a.detach().to(dtype); // [N, D]
  const b32 = b.detach().to(dtype);
  const local = a32.t().mm(a32).add(b32.t().mm(b32)).div(2 * a.size(0)); // [D, D]
  return comm.allReduceMean(local);
}

/**
 * This step's F (not stored): F_batch of the negatives at the first step, ρ·F + (1 − ρ)·F_batch after.
 * No gradient flows into F.
 */
export function stepCorrelation(
  f: Features,
  s: MethodState,
  rho: number,
  target: TargetKind,
  comm: Communicator,
): Tensor {
  const [n1, n2] = negatives(f, target);
  const batch = batchCorrelation(n1, n2, s.F!.dtype, comm); // [D, D]
  return s.step === 0 ? batch : s.F!.mul(rho).add(batch, 1 - rho); // [D, D]
}

/** One view of g = (−v + λ·F·u) / (2N), with its parts. */
export function correlationView(u: Tensor, v: Tensor, F: Tensor, lambda: number): ViewParts {
  const N = u.size(0);
  const positive = v.detach(); // [N, D]
  const negative = u.mm(F.to(u.dtype)).mul(lambda); // [N, D]  (F symmetric: row b is λ·F·u_b)
  return { g: negative.sub(positive).div(2 * N), positive, negative, lambda, u, v };
}

/** One view's loss mean_b(−u_b·v_b + (λ/2)·u_bᵀ·F·u_b): its gradient is the view's g (times 2). */
export function correlationLoss(u: Tensor, v: Tensor, F: Tensor, lambda: number): Tensor {
  const Fu = u.mm(F.detach().to(u.dtype)); // [N, D]
  return rowDot(u, Fu).mul(lambda / 2).sub(rowDot(u, v.detach())).mean(); // []
}

/** The unified form's two views with this step's F: −v2 + λ·F·u1 and −v1 + λ·F·u2. */
export function unifiedGradient(f: Features, F: Tensor, lambda: number): GradientResult {
  return combineViews(correlationView(f.u1, f.v2, F, lambda), correlationView(f.u2, f.v1, F, lambda));
}

/** The unified form's loss, symmetrised: ½·(ℓ(u1, v2) + ℓ(u2, v1)). */
export function unifiedLoss(f: Features, F: Tensor, lambda: number): Tensor {
  return correlationLoss(f.u1, f.v2, F, lambda).add(correlationLoss(f.u2, f.v1, F, lambda)).mul(0.5); // []
}

// ---- InfoNCE and the queue

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

// ---- the asymmetric family's predictors (BYOL, SimSiam): the loss a − b·cos(p, v)

/**
 * One view of DirectPred's gradient as the official `loss_byol_directpred_grad` computes it, for BYOL and
 * SimSiam alike (scale 1): (−W_p·v + λ_b·F̃·u)/(‖W_p·u‖·2N), λ_b = (W_p·u)·v / (uᵀF̃u).
 */
export function directPredView(u: Tensor, v: Tensor, Wp: Tensor, Ft: Tensor): ViewParts {
  const p = u.mm(Wp); // [N, D]
  const norm = p.norm(2, 1, true); // [N, 1]
  const Ftu = u.mm(Ft); // [N, D]
  const lambda = rowDot(p, v).div(rowDot(Ftu, u)); // [N, 1]
  const positive = v.mm(Wp).div(norm); // [N, D]
  const negative = Ftu.mul(lambda).div(norm); // [N, D]
  return { g: negative.sub(positive).div(2 * u.size(0)), positive, negative, lambda, u, v };
}

/** mean_b(a − b·cos(p_b, v_b)). */
export function cosineLoss(p: Tensor, v: Tensor, a: number, b: number): Tensor {
  return rowDot(normalize(p), normalize(v.detach())).mean().mul(-b).add(a); // []
}

/**
 * The predictor's output computed as in training (BN with batch statistics) without updating its running
 * statistics, so `loss()` leaves the state as it was.
 */
export function predict(h: Sequential, x: Tensor): Tensor {
  let y = x;
  for (let i = 0; i < h.length; i++) {
    const layer = h.at(i);
    y = layer instanceof BatchNorm1d ? batchNorm(y, { weight: layer.weight, bias: layer.bias }) : layer.forward(y);
  }
  return y; // [N, D]
}

/**
 * The learnable predictor's gradient: g = ∂L/∂u of L = ½·(ℓ(h(u1), v2) + ℓ(h(u2), v1)), ℓ = a − b·cos,
 * by autograd through h; the predictor's parameter gradients accumulate. Without `advance` the
 * predictor's BN running statistics are left as they are. The parts: positive b·v/‖p‖, negative
 * b·cos(p, v)·p̂/‖p‖.
 */
export function predictorGradient(f: Features, s: MethodState, a: number, b: number, advance: boolean): GradientResult {
  return enableGrad(() => {
    const h = s.predictor as Sequential;
    const forward = (x: Tensor) => advance ? h.forward(x) : predict(h, x); // [N, D]
    const [x1, x2] = [f.u1.detach().requiresGrad_(), f.u2.detach().requiresGrad_()];
    const [p1, p2] = [forward(x1), forward(x2)]; // [N, D]
    backward([cosineLoss(p1, f.v2, a, b).add(cosineLoss(p2, f.v1, a, b)).mul(0.5)]);
    const view = (x: Tensor, p: Tensor, u: Tensor, v: Tensor): ViewParts => {
      const norm = p.detach().norm(2, 1, true); // [N, 1]
      const pHat = normalize(p.detach()); // [N, D]
      const lambda = rowDot(pHat, v); // [N, 1]  cos(p, v)
      return { g: x.grad!, positive: v.mul(b).div(norm), negative: pHat.mul(lambda).mul(b).div(norm), lambda, u, v };
    };
    return combineViews(view(x1, p1, f.u1, f.v2), view(x2, p2, f.u2, f.v1));
  });
}

/** The learnable predictor's loss ½·(ℓ(h(u1), v2) + ℓ(h(u2), v1)), BN running statistics untouched. */
export function predictorLoss(f: Features, s: MethodState, a: number, b: number): Tensor {
  const h = s.predictor as Sequential;
  return cosineLoss(predict(h, f.u1), f.v2, a, b).add(cosineLoss(predict(h, f.u2), f.v1, a, b)).mul(0.5); // []
}

/** DirectPred's two views with this step's F (the official scale, 1, for BYOL and SimSiam alike). */
export function directPredGradient(f: Features, F: Tensor, eps: number): GradientResult {
  const { Wp, Ft } = directPredPredictor(F, eps);
  const [W, T] = [Wp.to(f.u1.dtype), Ft.to(f.u1.dtype)];
  return combineViews(directPredView(f.u1, f.v2, W, T), directPredView(f.u2, f.v1, W, T));
}

/** The loss DirectPred's gradient stands for: ½·(ℓ(W_p·u1, v2) + ℓ(W_p·u2, v1)), W_p from this step's F. */
export function directPredLoss(f: Features, F: Tensor, eps: number, a: number, b: number): Tensor {
  const W = directPredPredictor(F, eps).Wp.to(f.u1.dtype);
  return cosineLoss(f.u1.mm(W), f.v2, a, b).add(cosineLoss(f.u2.mm(W), f.v1, a, b)).mul(0.5); // []
}
