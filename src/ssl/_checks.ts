/**
 * Input checks shared by every method (internal): shapes, dtypes, batch size, and, in one device sync,
 * NaN/Inf and l2-normalisation. Errors name the method and the feature.
 *
 * @module
 */
import { isFloating, noGrad, scope, stack, type Tensor } from "../torch/mod.ts";
import type { FeatureName, Features } from "./method.ts";

/** What a method requires of its features. */
export interface FeatureSpec {
  /** Method name for messages, e.g. "barlow-twins". */
  method: string;
  /** Features read. */
  needs: readonly FeatureName[];
  /** Features that must have unit rows. */
  normalized: readonly FeatureName[];
  /** Smallest batch. */
  minBatch: number;
  /** Check values (NaN/Inf, normalisation): one device sync. */
  values: boolean;
}

const NORM_TOLERANCE: Record<string, number> = { float64: 1e-6, float32: 1e-3 };

function fail(spec: FeatureSpec, what: string, message: string): string {
  return `Cannot compute ${spec.method} ${what}: ${message}`;
}

/**
 * Checks the features a method reads; `what` ("gradient", "loss") and `dim` (the state's width) only
 * shape the messages and the width check.
 *
 * @throws {TypeError} On a missing or disposed feature, one that is not [N, D] floating point, or
 * features that differ in shape, dtype or device, or from the state's width.
 * @throws {RangeError} On a batch below `minBatch`, NaN/Inf entries, or non-normalised rows where unit
 * rows are required.
 */
export function checkFeatures(spec: FeatureSpec, what: string, f: Features, dim?: number): void {
  const ts: [FeatureName, Tensor][] = [];
  for (const name of spec.needs) {
    const t = f[name];
    if (t === undefined) {
      throw new TypeError(fail(spec, what, `feature ${name} is missing (this form reads ${spec.needs.join(", ")})`));
    }
    if (t.isDisposed) throw new TypeError(fail(spec, what, `feature ${name} has been disposed`));
    if (t.ndim !== 2) {
      throw new TypeError(fail(spec, what, `${name} must be [N, D], got shape [${t.shape.join(", ")}]`));
    }
    if (!isFloating(t.dtype)) throw new TypeError(fail(spec, what, `${name} must be floating point, got ${t.dtype}`));
    ts.push([name, t]);
  }
  const [n0, t0] = ts[0];
  for (const [name, t] of ts.slice(1)) {
    if (t.shape.join() !== t0.shape.join()) {
      throw new TypeError(
        fail(spec, what, `${n0} has shape [${t0.shape.join(", ")}] but ${name} has shape [${t.shape.join(", ")}]`),
      );
    }
    if (t.dtype !== t0.dtype) throw new TypeError(fail(spec, what, `${n0} is ${t0.dtype} but ${name} is ${t.dtype}`));
    if (t.device !== t0.device) {
      throw new TypeError(fail(spec, what, `${n0} is on ${t0.device} but ${name} is on ${t.device}`));
    }
  }
  const [N, D] = t0.shape;
  if (N < spec.minBatch) {
    throw new RangeError(
      fail(spec, what, `a batch of ${N} is too small: batch statistics need at least ${spec.minBatch} samples`),
    );
  }
  if (dim !== undefined && D !== dim) {
    throw new TypeError(fail(spec, what, `features have width ${D} but the state was made for width ${dim}`));
  }
  if (spec.values) checkValues(spec, what, ts);
}

/** NaN/Inf counts and normalisation errors of every feature, read back in one transfer. */
function checkValues(spec: FeatureSpec, what: string, ts: [FeatureName, Tensor][]): void {
  const v = noGrad(() =>
    scope(() => {
      const parts = ts.map(([name, t]) => {
        const bad = t.isfinite().logicalNot().sum(undefined, false, "float64");
        const off = spec.normalized.includes(name) ? t.norm(2, 1).sub(1).abs().amax().to("float64") : bad.mul(0);
        return stack([bad, off]);
      });
      return stack(parts).data();
    })
  );
  ts.forEach(([name, t], i) => {
    const bad = v[2 * i] as number;
    if (bad > 0) {
      throw new RangeError(fail(spec, what, `${name} contains ${bad} NaN or Inf value${bad === 1 ? "" : "s"}`));
    }
    const off = v[2 * i + 1] as number;
    const tol = NORM_TOLERANCE[t.dtype] ?? 3e-2;
    if (off > tol) {
      throw new RangeError(
        fail(
          spec,
          what,
          `${name} must be l2-normalised (rows of norm 1), but a row norm differs from 1 by ${off.toPrecision(3)}`,
        ),
      );
    }
  });
}

/** Throws a RangeError unless `x` is a finite number in [lo, hi] (hi exclusive when `open`). */
export function checkRange(method: string, option: string, x: number, lo: number, hi = Infinity, open = false): void {
  const ok = Number.isFinite(x) && x >= lo && (open ? x < hi : x <= hi);
  if (!ok) {
    const range = `${lo}, ${hi === Infinity ? "∞" : hi}${open ? ")" : "]"}`;
    throw new RangeError(`Invalid ${method} option ${option}: expected a number in [${range}, got ${x}`);
  }
}

/** Throws a RangeError unless `form` is one of `forms`, listing them; the message shows `given` (the user's spelling). */
export function checkForm(method: string, form: string, forms: readonly string[], given: string = form): void {
  if (!forms.includes(form)) {
    throw new RangeError(`Invalid ${method} form "${given}": expected one of ${forms.join(", ")}`);
  }
}

/** Checks the options BYOL and SimSiam share: the form, the predictor width, λ, ρ and ε. */
export function checkAsymmetric(
  name: string,
  o: { form: string; hiddenDim: number; lambda: number; rho: number; eps: number },
): void {
  const { form, hiddenDim, lambda, rho, eps } = o;
  checkForm(name, form, ["original", "directpred", "unified"]);
  checkRange(name, "lambda", lambda, 0);
  checkRange(name, "rho", rho, 0, 1, true);
  checkRange(name, "eps", eps, 0);
  if (!Number.isInteger(hiddenDim) || hiddenDim < 1) {
    throw new RangeError(`Invalid ${name} option hiddenDim: expected a positive integer, got ${hiddenDim}`);
  }
}
