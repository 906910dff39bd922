/**
 * More than two views for any method: multi-crop (SwAV, Caron et al., NeurIPS 2020) and CutMix between
 * the samples of a batch (Yun et al., ICCV 2019), as the paper's Table 3 combines them with UniGrad.
 * Every gradient goes through the method's own two-view `gradient`, so each formula stays written once.
 *
 * Views 0 and 1 are the global views, 2 … V−1 the local (smaller) ones; the encoder pools, so every
 * view's feature is [N, D]. The loss is the mean over the ordered pairs (online view → global target):
 *
 *     L = (1/P)·Σ ℓ(a → b),   pairs 0 → 1, 1 → 0, and l → 0, l → 1 for every local view l;  P = 2(V − 1)
 *
 * With V = 2 this is the method's L = ½·(ℓ(1 → 2) + ℓ(2 → 1)).
 *
 * Shape letters: N batch, D projector width, V views.
 *
 * @module
 */
import { noGrad, normalize, scope, stack, type Tensor } from "../torch/mod.ts";
import type { Features, GradientResult, GradientStats, Method } from "./method.ts";
import type { MethodState } from "./state.ts";

/** The features of V ≥ 2 views of one batch, global views first, all [N, D] of one dtype and device. */
export interface MultiViewFeatures {
  /** Online, l2-normalised, every view (with graph): V × [N, D]. */
  u: readonly Tensor[];
  /** Target, l2-normalised: the two global views, or every view (only views 0 and 1 are read). */
  v: readonly Tensor[];
  /** Online raw projector outputs, every view (methods with `wrt` "z" only). */
  z?: readonly Tensor[];
  /** Target raw projector outputs: the two global views, or every view. */
  zt?: readonly Tensor[];
}

/** A view made by `cutmix`: which view it is and how its samples were mixed. */
export interface CutMixTarget {
  /** Index of the mixed view among the local views (2 … V−1). */
  view: number;
  /** int64 [N]: the sample each pasted box came from (`CutMixResult.partner`). */
  partner: Tensor;
  /** [N]: the fraction of each sample's own pixels (`CutMixResult.lambda`). */
  lambda: Tensor;
}

/** Options of `multiViewGradient`. */
export interface MultiViewOptions {
  /** One local view is a CutMix of the batch: its targets are mixed the same way. @default undefined (none) */
  cutmix?: CutMixTarget;
}

/** What `multiViewGradient` returns. */
export interface MultiViewResult {
  /** ∂L/∂u_i (or ∂L/∂z_i), one per online view, shaped like it. */
  grads: Tensor[];
  /** The decomposition, averaged over the pairs. */
  stats: GradientStats;
}

/**
 * The gradient of the mean pair loss L over V ≥ 2 views, for any method, and its decomposition.
 *
 * The global pair gets the method's own symmetric gradient, and that call alone advances the state, so a
 * step updates F, the queue and the step count once, as with two views. Each local view l is pulled toward
 * both global targets: one call of the method on (u1 = u2 = u_l, v1 = v_0, v2 = v_1) gives its pair
 * gradients toward v_1 (g1) and v_0 (g2), made before the global call with `advance: false`. The local
 * views thus see the state the global pair sees: the same F (from the global targets and the state before
 * the step) and the same negatives (MoCo's keys and queue). Scales: ∂L/∂u_0 = g1/(V−1), ∂L/∂u_1 = g2/(V−1),
 * ∂L/∂u_l = (g1 + g2)/(V−1); a learnable predictor's gradients are scaled the same way; with V = 2 the
 * result is `method.gradient`'s. The CutMix view's targets are normalize(λ_i·v_g[i] + (1 − λ_i)·v_g[p(i)])
 * for both global views g; they also stand in for v_g in that call's negative gradient (its F_batch, MoCo's
 * keys), as they would in a two-view step on the mixed batch.
 *
 * This relies on a view's gradient depending on its own online features and the targets only, which holds
 * for every method and form except those rejected below.
 *
 * @param method Any method (a trainer calls this instead of `method.gradient` when it has more views).
 * @param state The method's state; advanced once.
 * @param views Online features of every view, targets of the global views (and raw ones for `wrt` "z").
 * @param options A CutMix view.
 * @returns One gradient per view and the mean decomposition.
 * @throws {TypeError} On fewer than 2 views, mismatched counts or shapes, missing raw features, and, with
 * more than 2 views, a form that reads no target (simclr "original": NT-Xent's gradient couples the online
 * views), target "momentum-positive" (its negatives are the pair's online features), or CutMix with `wrt` "z".
 * @throws {RangeError} When the CutMix view is not a local view.
 *
 * @example Usage
 * ```ts
 * import { disposeState, multiViewGradient } from "@unigrad/unigrad/ssl";
 * import { normalize, randn, scope, unigrad } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const method = unigrad({ lambda: 10 });
 * const state = method.initState(16);
 * scope(() => {
 *   // 2 global + 3 local views of 8 samples; the target branch sees the global views only
 *   const u = [0, 1, 2, 3, 4].map(() => normalize(randn([8, 16])));
 *   const v = [0, 1].map(() => normalize(randn([8, 16])));
 *   const { grads, stats } = multiViewGradient(method, state, { u, v });
 *   assert.equal(grads.length, 5); // the trainer: backward(u, grads)
 *   assert.deepEqual(grads[4].shape, [8, 16]);
 *   assert.equal(stats.lambda.item(), 10);
 * });
 * assert.equal(state.step, 1); // one state update per step, however many views
 * disposeState(state);
 * ```
 */
export function multiViewGradient(
  method: Method,
  state: MethodState,
  views: MultiViewFeatures,
  options: MultiViewOptions = {},
): MultiViewResult {
  const V = checkViews(method, views, options);
  const { cutmix } = options;
  const global: [Tensor, Tensor] = [views.v[0], views.v[1]];
  if (V === 2) {
    const { g1, g2, stats } = method.gradient(features(views, 0, global), state);
    return { grads: [g1, g2], stats };
  }
  return scope(() => {
    const k = 1 / (V - 1);
    const params = method.parameters(state);
    const before = params.map((p) => p.grad); // set aside: the calls accumulate afresh
    params.forEach((p) => p.setGrad(null));
    const locals: GradientResult[] = [];
    let pair: GradientResult;
    try {
      for (let l = 2; l < V; l++) {
        const targets = l === cutmix?.view ? global.map((v) => mixed(v, cutmix)) as [Tensor, Tensor] : global;
        locals.push(method.gradient(features(views, l, targets), state, { advance: false }));
      }
      pair = method.gradient(features(views, 0, global), state); // the step's one state update
    } catch (e) {
      params.forEach((p, i) => p.setGrad(before[i]));
      throw e;
    }
    return noGrad(() => {
      params.forEach((p, i) => {
        const acc = p.grad;
        if (acc) p.setGrad(before[i] ? before[i]!.add(acc, k) : acc.mul(k));
        else p.setGrad(before[i]);
      });
      const grads = [pair.g1.mul(k), pair.g2.mul(k), ...locals.map((r) => r.g1.add(r.g2).mul(k))]; // V × [N, D]
      const all = [pair, ...locals];
      const mean = (key: keyof GradientStats) => stack(all.map((r) => r.stats[key])).mean(); // []
      const stats: GradientStats = {
        positive: mean("positive"),
        negative: mean("negative"),
        lambda: mean("lambda"),
        similarity: mean("similarity"),
      };
      return { grads, stats };
    });
  });
}

/** The two-view features of one call: the global pair (view 0) or local view l in both slots, against `v`. */
function features(views: MultiViewFeatures, view: number, v: readonly [Tensor, Tensor]): Features {
  const [a, b] = view === 0 ? [0, 1] : [view, view];
  const f: Features = { u1: views.u[a], u2: views.u[b], v1: v[0], v2: v[1] };
  if (views.z && views.zt) Object.assign(f, { z1: views.z[a], z2: views.z[b], zt1: views.zt[0], zt2: views.zt[1] });
  return f;
}

/** normalize(λ_i·v[i] + (1 − λ_i)·v[partner(i)]) [N, D]. */
function mixed(v: Tensor, cut: CutMixTarget): Tensor {
  const lambda = cut.lambda.to({ dtype: v.dtype, device: v.device }).view([-1, 1]); // [N, 1]
  const other = v.indexSelect(0, cut.partner.to({ device: v.device })); // [N, D]
  return normalize(v.mul(lambda).add(other.mul(lambda.rsub(1)))); // [N, D]
}

/**
 * Whether `method` (in its form and with its target) can train on more than two views, and with a
 * CutMix view: null when it can, else the reason (a run checks this before it starts).
 *
 * @param method The method.
 * @param options Whether one of the views is a CutMix view.
 * @returns Null, or why not.
 *
 * @example Usage
 * ```ts
 * import { multiViewSupport } from "@unigrad/unigrad/ssl";
 * import { simclr, unigrad } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * assert.equal(multiViewSupport(unigrad(), { cutmix: true }), null);
 * assert.match(multiViewSupport(simclr())!, /reads no target features/);
 * ```
 */
export function multiViewSupport(method: Method, options: { cutmix?: boolean } = {}): string | null {
  if (!method.needs.includes("v2") && !method.needs.includes("zt2")) {
    return "this form reads no target features, so its gradient couples the online views and has no local pairs";
  }
  if (method.target === "momentum-positive") {
    return `with target "momentum-positive" the negatives are the pair's online features, so local views would change them`;
  }
  if (options.cutmix && method.wrt === "z") {
    return "CutMix mixes the l2-normalised targets, but this form reads the raw ones";
  }
  return null;
}

/** Checks counts, shapes and what the method supports; returns V. */
function checkViews(method: Method, views: MultiViewFeatures, options: MultiViewOptions): number {
  const fail = (message: string) =>
    new TypeError(`Cannot compute multi-view ${method.name} (${method.form}) gradient: ${message}`);
  const V = views.u.length;
  if (V < 2) throw fail(`expected at least 2 views, got ${V}`);
  const shape = (t: Tensor) => `[${t.shape.join(", ")}]`;
  const lists: [string, readonly Tensor[] | undefined, boolean][] = [
    ["u", views.u, false],
    ["v", views.v, true],
    ["z", views.z, false],
    ["zt", views.zt, true],
  ];
  for (const [name, list, targets] of lists) {
    if (list === undefined) continue;
    if (list.length !== V && !(targets && list.length === 2)) {
      throw fail(`${name} holds ${list.length} views, expected ${targets ? `2 (the global views) or ${V}` : V}`);
    }
    list.forEach((t, i) => {
      if (shape(t) !== shape(views.u[0])) {
        throw fail(`${name}[${i}] has shape ${shape(t)} but u[0] has ${shape(views.u[0])}`);
      }
    });
  }
  if (method.needs.includes("z1") && (!views.z || !views.zt)) {
    throw fail("it reads the raw projector outputs: pass z (every view) and zt (the global views)");
  }
  const cut = options.cutmix;
  const unsupported = V > 2 ? multiViewSupport(method, { cutmix: cut !== undefined }) : null;
  if (unsupported !== null) throw fail(unsupported);
  if (cut) {
    if (!Number.isInteger(cut.view) || cut.view < 2 || cut.view >= V) {
      throw new RangeError(`Invalid CutMix view ${cut.view}: expected a local view index in [2, ${V - 1}]`);
    }
    const N = views.u[0].size(0);
    if (shape(cut.partner) !== `[${N}]` || cut.partner.dtype !== "int64") {
      throw fail(`CutMix partner must be int64 [${N}], got ${cut.partner.dtype} ${shape(cut.partner)}`);
    }
    if (shape(cut.lambda) !== `[${N}]`) throw fail(`CutMix lambda must be [${N}], got ${shape(cut.lambda)}`);
  }
  return V;
}
