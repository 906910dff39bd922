/**
 * The moving correlation matrix F and the gradient built on it, g1 = (−v2 + λ·F·u1)/(2N), shared by
 * UniGrad, the unified BYOL/SimSiam form, DirectPred and the l2-normalised VICReg form (internal).
 *
 * Shape letters: N batch, D projector width.
 *
 * @module
 */
import type { DType, Tensor } from "../torch/mod.ts";
import { rowDot } from "./_checks.ts";
import { combineViews, type MethodSpec, negatives, type ViewParts } from "./_define.ts";
import { type Communicator, localComm } from "./comm.ts";
import type { Features, TargetKind } from "./method.ts";
import type { MethodState } from "./state.ts";

/** (aᵀa + bᵀb) / (2N) [D, D] in `dtype`, averaged over the workers (the official code's all-reduce). */
export function batchCorrelation(a: Tensor, b: Tensor, dtype: DType, comm: Communicator): Tensor {
  const a32 = a.detach().to(dtype); // [N, D]
  const b32 = b.detach().to(dtype);
  const local = a32.t().mm(a32).add(b32.t().mm(b32)).div(2 * a.size(0)); // [D, D]
  return comm.allReduceMean(local);
}

/** This step's F: F_batch at the first step, ρ·F + (1 − ρ)·F_batch after (not stored). */
export function nextCorrelation(F: Tensor, step: number, batch: Tensor, rho: number): Tensor {
  return step === 0 ? batch : F.mul(rho).add(batch, 1 - rho); // [D, D]
}

/**
 * This step's F from the state and the batch's target features (detached: no gradient flows into F), or
 * from the detached online features for target "momentum-positive".
 */
export function stepCorrelation(
  f: Features,
  s: MethodState,
  rho: number,
  options: { target: TargetKind; comm?: Communicator },
): Tensor {
  const [n1, n2] = negatives(f, options.target);
  const batch = batchCorrelation(n1, n2, s.F!.dtype, options.comm ?? localComm);
  return nextCorrelation(s.F!, s.step, batch, rho);
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

/**
 * The gradient and loss of the unified form −v2 + λ·F·u1 with the moving F (UniGrad and the unified
 * BYOL/SimSiam form): `gradient` stores this step's F in the state, `loss` only computes it.
 */
export function unifiedForm(
  lambda: number,
  rho: number,
  options: { target: TargetKind; comm?: Communicator },
): Pick<MethodSpec, "gradient" | "loss"> {
  return {
    gradient(f, s, advance) {
      const F = stepCorrelation(f, s, rho, options);
      if (advance) s.F!.copy_(F);
      return combineViews(correlationView(f.u1, f.v2, F, lambda), correlationView(f.u2, f.v1, F, lambda));
    },
    loss(f, s) {
      const F = stepCorrelation(f, s, rho, options);
      return correlationLoss(f.u1, f.v2, F, lambda).add(correlationLoss(f.u2, f.v1, F, lambda)).mul(0.5); // []
    },
  };
}
