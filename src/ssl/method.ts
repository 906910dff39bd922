/**
 * The shared shape of every method of the unified gradient framework (Tao et al., CVPR 2022): the
 * features a method reads, the gradient it returns, and the method object itself.
 *
 * Shape letters: N the (local) batch, D the projector width.
 *
 * Gradient convention (every method): `g1`, `g2` are the gradients of the method's loss L with respect to
 * its inputs (`u1, u2`, or `z1, z2` for the batch-standardised forms), where L is the per-view loss
 * averaged over the batch and symmetrised over the two views: L = ½·(ℓ(view 1 → 2) + ℓ(view 2 → 1)),
 * with the target features held constant. This is exactly what autograd returns for `loss()`, and
 * what the official code's surrogate `0.5·(mean(z1·g1.detach()) + mean(z2·g2.detach()))` gives: per
 * sample, g = (−positive + λ·negative)·scale / (2N). The trainer applies it with
 * `backward(gradientInputs(method, features), [g1, g2])`.
 *
 * @module
 */
import { scope, stack, type Tensor } from "../torch/mod.ts";
import type { Communicator } from "./comm.ts";
import type { MethodState, SavedState, StateOptions } from "./state.ts";

/**
 * The target branch a method is built for (the paper's Table 2):
 * - `"stop-grad"`: the target is the online network under no-grad (its features detached);
 * - `"momentum"`: the target is a momentum encoder (EMA of the online weights);
 * - `"momentum-positive"`: a momentum encoder feeds the positive gradient only; the negative gradient
 *   (F, negatives, correlations) uses the online features, detached.
 */
export type TargetKind = "stop-grad" | "momentum" | "momentum-positive";

/** Every target kind, in the paper's order. */
export const TARGET_KINDS: readonly TargetKind[] = ["stop-grad", "momentum", "momentum-positive"];

/** Options every method's factory accepts. */
export interface CommonOptions {
  /** The target branch the method is used with (the paper's Table 2). @default the method's own */
  target?: TargetKind;
  /** Gathers features and all-reduces F across workers. @default localComm (one process) */
  comm?: Communicator;
  /** Check features for NaN/Inf and normalisation on every call (one device sync). @default true */
  checkValues?: boolean;
}

/** The features a method gets the gradient with respect to: normalised (`"u"`) or raw projector outputs (`"z"`). */
export type GradientSpace = "u" | "z";

/**
 * The features of one step, all [N, D] and of one dtype and device.
 *
 * `u1, u2` are the l2-normalised online projector outputs (they carry the autograd graph); `v1, v2` the
 * l2-normalised target projector outputs (constants: methods detach them). The batch-standardised forms
 * (Barlow Twins "original" and "a_identity", VICReg "original") read the raw projector outputs instead:
 * `z1, z2` online (with graph) and `zt1, zt2` target. A method lists what it reads in `needs`.
 */
export interface Features {
  /** Online, l2-normalised, view 1 [N, D]. */
  u1: Tensor;
  /** Online, l2-normalised, view 2 [N, D]. */
  u2: Tensor;
  /** Target, l2-normalised, view 1 [N, D]. */
  v1: Tensor;
  /** Target, l2-normalised, view 2 [N, D]. */
  v2: Tensor;
  /** Online raw projector output, view 1 [N, D] (batch-standardised forms only). */
  z1?: Tensor;
  /** Online raw projector output, view 2 [N, D]. */
  z2?: Tensor;
  /** Target raw projector output, view 1 [N, D]. */
  zt1?: Tensor;
  /** Target raw projector output, view 2 [N, D]. */
  zt2?: Tensor;
}

/** The name of one entry of `Features`. */
export type FeatureName = keyof Features;

/**
 * How one step's gradient decomposes, as 0-d tensors (detached; reading one with `item()` syncs the
 * device, so log every k steps). Norms are per-sample means over the batch and both views, in the
 * paper's units: the gradient per sample before the common scale (1/(2N), 1/τ, …) is
 * −positive + lambda·negative.
 */
export interface GradientStats {
  /** Mean norm of the positive gradient (1 for a unit target feature). */
  positive: Tensor;
  /** Mean norm of the negative gradient, balance coefficient included. */
  negative: Tensor;
  /** The balance coefficient λ (its batch mean where it is per sample). */
  lambda: Tensor;
  /** Mean cosine similarity u·v of the positive pairs (the official code's `pos_sim`). */
  similarity: Tensor;
}

/** What `Method.gradient` returns: one gradient per view, shaped like its input, and the decomposition. */
export interface GradientResult {
  /** ∂L/∂u1 (or ∂L/∂z1) [N, D]. */
  g1: Tensor;
  /** ∂L/∂u2 (or ∂L/∂z2) [N, D]. */
  g2: Tensor;
  /** Norms of the positive and negative parts and the balance. */
  stats: GradientStats;
}

/** An original loss that a simplified gradient form approximates (for `deno task gradcheck`). */
export interface Reference {
  /** What it is, e.g. "barlow-twins original". */
  name: string;
  /** The features its autograd gradient is taken with respect to. */
  wrt: GradientSpace;
  /** The loss (same conventions as `Method.loss`). */
  loss(features: Features, state: MethodState): Tensor;
}

/** Options of `Method.gradient`. */
export interface GradientOptions {
  /**
   * Advance the state: F ← ρF + (1−ρ)F_batch, MoCo's enqueue, the step count and a predictor's BN running
   * statistics. With `false` the gradient is the one for the state as it is, and the state is left
   * untouched (a learnable predictor's parameter gradients still accumulate): `multiViewGradient` uses
   * it for the local views, so that a step advances the state once. @default true
   */
  advance?: boolean;
}

/**
 * One method of the framework in one form. Build it with a factory (`unigrad()`, `moco()`, …) or by name
 * with `createMethod`; the trainer owns the state that `initState` makes.
 */
export interface Method {
  /** The method's registry name, e.g. "unigrad". */
  readonly name: string;
  /** The gradient form, e.g. "original", "directpred", "unified". */
  readonly form: string;
  /** The target branch it is built for. */
  readonly target: TargetKind;
  /** Which features `g1, g2` are gradients of. */
  readonly wrt: GradientSpace;
  /** The features it reads. */
  readonly needs: readonly FeatureName[];
  /** The smallest batch it accepts (2 where it needs batch statistics). */
  readonly minBatch: number;
  /**
   * Whether one sample's gradient depends on other samples' online features (batch standardisation,
   * NT-Xent over the batch). Data-parallel training then gathers every rank's features, with gradient,
   * and runs the method on the global batch; otherwise the method is handed a Communicator and sees
   * its rank's features only. @default false
   */
  readonly globalBatch?: boolean;
  /** A fresh state for projector width `dim` (F, queue, predictor: whatever the method keeps). */
  initState(dim: number, options?: StateOptions): MethodState;
  /**
   * The gradient of this step with respect to the method's inputs, and its decomposition. Advances
   * `state` (F ← ρF + (1−ρ)F_batch, MoCo enqueue, step count) unless `options.advance` is false; a
   * learnable predictor's parameter gradients are accumulated into their `.grad`, as `backward` would.
   *
   * @throws {TypeError} On features that are not [N, D] or do not match each other or the state.
   * @throws {RangeError} On NaN/Inf, non-normalised inputs where normalised ones are required, or a batch
   * smaller than `minBatch`.
   */
  gradient(features: Features, state: MethodState, options?: GradientOptions): GradientResult;
  /**
   * The loss of this step as an autograd-differentiable scalar (mean over the batch, symmetrised over the
   * views, targets and F constant), for the state as it is before the step; does not advance the state.
   * Its autograd gradient equals `gradient()`. Absent for gradient-only forms.
   */
  loss?(features: Features, state: MethodState): Tensor;
  /** For a simplified form, the original loss it stands for. */
  readonly reference?: Reference;
  /** Learnable parameters the optimizer must include (the BYOL/SimSiam predictor), else empty. */
  parameters(state: MethodState): Tensor[];
  /** The state's tensors by name (the state's own, not copies) and its plain numbers, for checkpoints. */
  stateDict(state: MethodState): SavedState;
  /** Restores a saved state exactly (copies into `state`). @throws {TypeError} On missing or mismatched entries. */
  loadState(state: MethodState, saved: SavedState): void;
}

/**
 * The two tensors `g1, g2` are gradients of: `[u1, u2]`, or `[z1, z2]` for a method with `wrt` "z".
 *
 * @throws {TypeError} When the method needs z1, z2 and the features lack them.
 *
 * @example Usage
 * ```ts
 * import { barlowTwins, normalize, randn, scope, unigrad } from "@unigrad/unigrad";
 * import { gradientInputs } from "@unigrad/unigrad/ssl";
 * import assert from "node:assert/strict";
 *
 * scope(() => {
 *   const [z1, z2, zt1, zt2] = [0, 1, 2, 3].map(() => randn([4, 8]));
 *   const f = { z1, z2, zt1, zt2, u1: normalize(z1), u2: normalize(z2), v1: normalize(zt1), v2: normalize(zt2) };
 *   assert.deepEqual(gradientInputs(unigrad(), f), [f.u1, f.u2]); // normalised features
 *   assert.deepEqual(gradientInputs(barlowTwins(), f), [z1, z2]); // the batch-standardised form: raw outputs
 * });
 * ```
 */
export function gradientInputs(method: Method, features: Features): [Tensor, Tensor] {
  if (method.wrt === "u") return [features.u1, features.u2];
  if (!features.z1 || !features.z2) {
    throw new TypeError(`Cannot apply ${method.name} gradient: it is taken with respect to z1, z2, which are missing`);
  }
  return [features.z1, features.z2];
}

/**
 * The stats as numbers, read in one device sync.
 *
 * @example Usage
 * ```ts
 * import { disposeState, readStats } from "@unigrad/unigrad/ssl";
 * import { normalize, randn, scope, unigrad } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const method = unigrad({ lambda: 2 });
 * const state = method.initState(8);
 * const s = scope(() => {
 *   const [u1, u2, v1, v2] = [0, 1, 2, 3].map(() => normalize(randn([4, 8])));
 *   return readStats(method.gradient({ u1, u2, v1, v2 }, state).stats); // one device sync
 * });
 * assert.equal(s.lambda, 2);
 * assert.ok(Math.abs(s.positive - 1) < 1e-5); // unit target features
 * disposeState(state);
 * ```
 */
export function readStats(stats: GradientStats): Record<keyof GradientStats, number> {
  const keys = ["positive", "negative", "lambda", "similarity"] as const;
  const v = scope(() => stack(keys.map((k) => stats[k].to("float64"))).data());
  return { positive: v[0] as number, negative: v[1] as number, lambda: v[2] as number, similarity: v[3] as number };
}
