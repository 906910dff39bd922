/**
 * Builds a `Method` from a method file's few parts (internal): input checks, scopes, the step count and
 * the checkpoint functions are written once here, so a method file holds only its formulas.
 *
 * @module
 */
import { full, noGrad, scope, type Tensor } from "../torch/mod.ts";
import { checkFeatures, rowDot } from "./_checks.ts";
import type { FeatureName, Features, GradientResult, GradientSpace, Method, Reference, TargetKind } from "./method.ts";
import { type MethodState, newState, restoreState, saveState, type StateSpec } from "./state.ts";

/** The parts a method file provides. */
export interface MethodSpec {
  name: string;
  form: string;
  target: TargetKind;
  wrt: GradientSpace;
  needs: readonly FeatureName[];
  normalized: readonly FeatureName[];
  minBatch: number;
  state: StateSpec;
  checkValues: boolean;
  /** Runs under no-grad inside a scope; advances the state (but not `step`) only when `advance` is true. */
  gradient(f: Features, s: MethodState, advance: boolean): GradientResult;
  /** Runs inside a scope; must not change the state's tensors or numbers. */
  loss?(f: Features, s: MethodState): Tensor;
  reference?: Reference;
}

/** The online features u1, u2. */
export const U: readonly FeatureName[] = ["u1", "u2"];
/** The normalised features u1, u2, v1, v2. */
export const UV: readonly FeatureName[] = ["u1", "u2", "v1", "v2"];
/** The raw features z1, z2, zt1, zt2. */
export const Z: readonly FeatureName[] = ["z1", "z2", "zt1", "zt2"];

/** Wraps a method's parts into a `Method`. */
export function defineMethod(spec: MethodSpec): Method {
  const checks = { method: spec.name, needs: spec.needs, normalized: spec.normalized, minBatch: spec.minBatch };
  const check = (what: string, f: Features, s: MethodState) => {
    checkState(spec, what, s);
    checkFeatures({ ...checks, values: spec.checkValues }, what, f, s.dim);
  };
  const loss = spec.loss;
  return {
    name: spec.name,
    form: spec.form,
    target: spec.target,
    wrt: spec.wrt,
    needs: spec.needs,
    minBatch: spec.minBatch,
    initState: (dim, options) => newState(dim, spec.state, options),
    gradient(f, s, options = {}) {
      check("gradient", f, s);
      const advance = options.advance ?? true;
      const result = scope(() => noGrad(() => spec.gradient(f, s, advance)));
      if (advance) s.step += 1;
      return result;
    },
    ...(loss && {
      loss(f: Features, s: MethodState): Tensor {
        check("loss", f, s);
        return scope(() => loss(f, s));
      },
    }),
    ...(spec.reference && { reference: spec.reference }),
    parameters: (s) => s.predictor?.parameters() ?? [],
    stateDict: saveState,
    loadState: restoreState,
  };
}

/** Throws a TypeError when the state lacks a part the method keeps (a disposed state, or another method's). */
function checkState(spec: MethodSpec, what: string, s: MethodState): void {
  const lacks = (spec.state.correlation && s.F === null && "F") ||
    ((spec.state.queueSize ?? 0) > 0 && s.queue === null && "queue") ||
    (spec.state.predictor && s.predictor === null && "predictor");
  if (lacks) {
    throw new TypeError(
      `Cannot compute ${spec.name} ${what}: the method state has no ${lacks} (disposed with disposeState, or made by another method)`,
    );
  }
}

/** The target-side features of a step's negative gradient: v1, v2, or the detached online u1, u2 for "momentum-positive". */
export function negatives(f: Features, target: TargetKind): [Tensor, Tensor] {
  return target === "momentum-positive" ? [f.u1.detach(), f.u2.detach()] : [f.v1.detach(), f.v2.detach()];
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
