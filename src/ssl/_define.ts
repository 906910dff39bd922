/**
 * Builds a `Method` from a method file's small named spec (internal): input checks, scopes, the step
 * count and the checkpoint functions are written once here, and the spec's fields have defaults, so a
 * method file holds only its name, form, state and formulas.
 *
 * @module
 */
import { noGrad, scope, type Tensor } from "../torch/mod.ts";
import { checkFeatures } from "./_checks.ts";
import type { FeatureName, Features, GradientResult, GradientSpace, Method, Reference, TargetKind } from "./method.ts";
import { type MethodState, newState, restoreState, saveState, type StateSpec } from "./state.ts";

/** The normalised features u1, u2, v1, v2. */
export const UV: readonly FeatureName[] = ["u1", "u2", "v1", "v2"];
/** The online features u1, u2. */
export const U: readonly FeatureName[] = ["u1", "u2"];
/** The raw features z1, z2, zt1, zt2. */
export const Z: readonly FeatureName[] = ["z1", "z2", "zt1", "zt2"];

/** The parts a method file provides; the optional ones have the defaults given. */
export interface MethodSpec {
  /** Registry name. */
  name: string;
  /** Gradient form. */
  form: string;
  /** Target kind the method is used with. */
  target: TargetKind;
  /** Features `g1, g2` are gradients of. @default "u" */
  wrt?: GradientSpace;
  /** Features read. @default UV for wrt "u", Z for wrt "z" */
  needs?: readonly FeatureName[];
  /** Features that must have unit rows. @default `needs` for wrt "u", none for wrt "z" */
  normalized?: readonly FeatureName[];
  /** Smallest batch. @default 1 */
  minBatch?: number;
  /** What the state keeps. @default nothing */
  state?: StateSpec;
  /** Check values on every call. @default true */
  checkValues?: boolean;
  /** See `Method.globalBatch`. @default false */
  globalBatch?: boolean;
  /** Runs under no-grad inside a scope; advances the state (but not `step`) only when `advance` is true. */
  gradient(f: Features, s: MethodState, advance: boolean): GradientResult;
  /** Runs inside a scope; must not change the state's tensors or numbers. */
  loss?(f: Features, s: MethodState): Tensor;
  /** The original loss a gradient-only or simplified form stands for. */
  reference?: Reference;
}

/** Wraps a method's spec into a `Method`. */
export function defineMethod(spec: MethodSpec): Method {
  const wrt = spec.wrt ?? "u";
  const needs = spec.needs ?? (wrt === "u" ? UV : Z);
  const normalized = spec.normalized ?? (wrt === "u" ? needs : []);
  const minBatch = spec.minBatch ?? 1;
  const checks = { method: spec.name, needs, normalized, minBatch, values: spec.checkValues ?? true };
  const check = (what: string, f: Features, s: MethodState) => {
    checkState(spec, what, s);
    checkFeatures(checks, what, f, s.dim);
  };
  const loss = spec.loss;
  return {
    name: spec.name,
    form: spec.form,
    target: spec.target,
    wrt,
    needs,
    minBatch,
    globalBatch: spec.globalBatch ?? false,
    initState: (dim, options) => newState(dim, spec.state ?? {}, options),
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
  const keeps = spec.state ?? {};
  const lacks = (keeps.correlation && s.F === null && "F") ||
    ((keeps.queueSize ?? 0) > 0 && s.queue === null && "queue") ||
    (keeps.predictor && s.predictor === null && "predictor");
  if (lacks) {
    throw new TypeError(
      `Cannot compute ${spec.name} ${what}: the method state has no ${lacks} (disposed with disposeState, or made by another method)`,
    );
  }
}
