/**
 * The asymmetric-network family shared by BYOL and SimSiam (internal): the original form with a learnable
 * predictor h, loss a − b·cos(h(u1), v2); DirectPred's analytic linear predictor built from F; and the
 * unified form −v2 + λ·F·u1.
 *
 * Shape letters: N batch, D width.
 *
 * @module
 */
import { backward, batchNorm, eigh, enableGrad, eye, normalize, type Tensor } from "../torch/mod.ts";
import { BatchNorm1d } from "../nn/batchnorm.ts";
import type { Sequential } from "../nn/module.ts";
import { predictorHead } from "../nn/heads.ts";
import { checkRange, rowDot } from "./_checks.ts";
import { stepCorrelation, unifiedForm } from "./_correlation.ts";
import { combineViews, defineMethod, UV, type ViewParts } from "./_define.ts";
import { localComm } from "./comm.ts";
import type { CommonOptions, Features, Method, TargetKind } from "./method.ts";
import type { MethodState } from "./state.ts";

/** Options of `byol` and `simsiam`. */
export interface AsymmetricOptions extends CommonOptions {
  /** "original": a learnable predictor MLP; "directpred": DirectPred's predictor from F; "unified": −v2 + λ·F·u1. @default "original" */
  form?: "original" | "directpred" | "unified";
  /** Hidden width of the predictor MLP (original form). @default 4096 for BYOL, 512 for SimSiam */
  hiddenDim?: number;
  /** Balance λ of the unified form. @default 100 */
  lambda?: number;
  /** Moving-average coefficient ρ of F (directpred, unified). @default 0.99 */
  rho?: number;
  /** DirectPred's ε, added to the predictor's normalised eigenvalues' square roots. @default 0.3 */
  eps?: number;
}

/** What tells BYOL and SimSiam apart. */
export interface Flavour {
  name: string;
  target: TargetKind;
  hiddenDim: number;
  /** The loss per sample is a − b·cos(p, v). */
  a: number;
  b: number;
}

/**
 * DirectPred's linear predictor from F (Tian et al., ICML 2021), as the official UniGrad code builds it:
 * with F = U·diag(s)·Uᵀ, W_p = U·diag(max(√(s/max s) + ε, 1e-4))·Uᵀ; and F̃ = F/max s + ε²·I, which the
 * gradient form uses in place of W_pᵀW_p.
 *
 * @param F A symmetric positive semi-definite matrix [D, D].
 * @param eps DirectPred's ε.
 * @returns W_p and F̃, both [D, D].
 */
export function directPredPredictor(F: Tensor, eps = 0.3): { Wp: Tensor; Ft: Tensor } {
  const { values, vectors } = eigh(F); // [D], [D, D]
  const s = values.clamp(0); // round-off can make a zero eigenvalue slightly negative
  const sMax = s.amax();
  const p = s.div(sMax).sqrt().add(eps).clamp(1e-4); // [D]
  const Wp = vectors.mul(p).mm(vectors.t()); // U·diag(p)·Uᵀ [D, D]
  const D = F.size(0);
  const Ft = F.div(sMax).add(eye(D, D, { dtype: F.dtype, device: F.device }).mul(eps * eps)); // [D, D]
  return { Wp, Ft };
}

/**
 * One view of DirectPred's gradient: b·(−W_p·v + λ_b·F̃·u)/(‖W_p·u‖·2N), λ_b = (W_p·u)·v / (uᵀF̃u), with
 * the original loss's factor b (2 for BYOL's 2 − 2·cos, 1 for SimSiam's −cos) so learning rates transfer.
 */
function directPredView(u: Tensor, v: Tensor, Wp: Tensor, Ft: Tensor, b: number): ViewParts {
  const p = u.mm(Wp); // [N, D]
  const norm = p.norm(2, 1, true).div(b); // [N, 1]
  const Ftu = u.mm(Ft); // [N, D]
  const lambda = rowDot(p, v).div(rowDot(Ftu, u)); // [N, 1]
  const positive = v.mm(Wp).div(norm); // [N, D]
  const negative = Ftu.mul(lambda).div(norm); // [N, D]
  return { g: negative.sub(positive).div(2 * u.size(0)), positive, negative, lambda, u, v };
}

/** mean_b(a − b·cos(p_b, v_b)). */
function cosineLoss(p: Tensor, v: Tensor, fl: Flavour): Tensor {
  return rowDot(normalize(p), normalize(v.detach())).mean().mul(-fl.b).add(fl.a); // []
}

/**
 * The predictor's output computed as in training (BN with batch statistics) without updating its running
 * statistics, so `loss()` leaves the state as it was.
 */
function predict(h: Sequential, x: Tensor): Tensor {
  let y = x;
  for (let i = 0; i < h.length; i++) {
    const layer = h.at(i);
    y = layer instanceof BatchNorm1d ? batchNorm(y, { weight: layer.weight, bias: layer.bias }) : layer.forward(y);
  }
  return y; // [N, D]
}

/**
 * The original form: g = ∂L/∂u through the predictor (autograd); the predictor's gradients accumulate.
 * Without `advance` the predictor's BN running statistics are left as they are.
 */
function predictorGradient(f: Features, s: MethodState, fl: Flavour, advance: boolean) {
  return enableGrad(() => {
    const h = s.predictor as Sequential;
    const forward = (x: Tensor) => advance ? h.forward(x) : predict(h, x); // [N, D]
    const [x1, x2] = [f.u1.detach().requiresGrad_(), f.u2.detach().requiresGrad_()];
    const [p1, p2] = [forward(x1), forward(x2)]; // [N, D]
    backward([cosineLoss(p1, f.v2, fl).add(cosineLoss(p2, f.v1, fl)).mul(0.5)]);
    const view = (x: Tensor, p: Tensor, u: Tensor, v: Tensor): ViewParts => {
      const norm = p.detach().norm(2, 1, true); // [N, 1]
      const pHat = normalize(p.detach()); // [N, D]
      const lambda = rowDot(pHat, v); // [N, 1]  cos(p, v)
      return {
        g: x.grad!,
        positive: v.mul(fl.b).div(norm),
        negative: pHat.mul(lambda).mul(fl.b).div(norm),
        lambda,
        u,
        v,
      };
    };
    return combineViews(view(x1, p1, f.u1, f.v2), view(x2, p2, f.u2, f.v1));
  });
}

/** BYOL or SimSiam in one of its three forms. */
export function asymmetric(fl: Flavour, options: AsymmetricOptions): Method {
  const { form = "original", hiddenDim = fl.hiddenDim, lambda = 100, rho = 0.99, eps = 0.3 } = options;
  const { target = fl.target, comm = localComm, checkValues = true } = options;
  if (!["original", "directpred", "unified"].includes(form)) {
    throw new RangeError(`Invalid ${fl.name} form "${form}": expected one of original, directpred, unified`);
  }
  checkRange(fl.name, "lambda", lambda, 0);
  checkRange(fl.name, "rho", rho, 0, 1, true);
  checkRange(fl.name, "eps", eps, 0);
  if (!Number.isInteger(hiddenDim) || hiddenDim < 1) {
    throw new RangeError(`Invalid ${fl.name} option hiddenDim: expected a positive integer, got ${hiddenDim}`);
  }
  const F = (f: Features, s: MethodState) => stepCorrelation(f, s, rho, { target, comm });
  const wp = (f: Features, s: MethodState) => directPredPredictor(F(f, s), eps).Wp;
  const linearLoss = (f: Features, s: MethodState) => {
    const W = wp(f, s).to(f.u1.dtype);
    return cosineLoss(f.u1.mm(W), f.v2, fl).add(cosineLoss(f.u2.mm(W), f.v1, fl)).mul(0.5);
  };
  const base = {
    name: fl.name,
    form,
    target,
    wrt: "u" as const,
    needs: UV,
    normalized: UV,
    checkValues,
  };
  if (form === "original") {
    return defineMethod({
      ...base,
      minBatch: 2,
      state: { predictor: (D) => predictorHead({ inDim: D, hiddenDim, outDim: D }) },
      gradient: (f, s, advance) => predictorGradient(f, s, fl, advance),
      loss(f, s) {
        const h = s.predictor as Sequential;
        return cosineLoss(predict(h, f.u1), f.v2, fl).add(cosineLoss(predict(h, f.u2), f.v1, fl)).mul(0.5);
      },
    });
  }
  const reference = { name: `${fl.name} with DirectPred's linear predictor`, wrt: "u" as const, loss: linearLoss };
  if (form === "directpred") {
    return defineMethod({
      ...base,
      minBatch: 1,
      state: { correlation: true },
      gradient(f, s, advance) {
        const Fs = F(f, s);
        if (advance) s.F!.copy_(Fs);
        const { Wp, Ft } = directPredPredictor(Fs, eps);
        const [W, T] = [Wp.to(f.u1.dtype), Ft.to(f.u1.dtype)];
        return combineViews(directPredView(f.u1, f.v2, W, T, fl.b), directPredView(f.u2, f.v1, W, T, fl.b));
      },
      reference,
    });
  }
  return defineMethod({
    ...base,
    minBatch: 1,
    state: { correlation: true },
    ...unifiedForm(lambda, rho, { target, comm }),
    reference,
  });
}
