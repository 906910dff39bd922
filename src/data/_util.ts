/**
 * Internal helpers of src/data: input checks and per-sample random draws on the images' device.
 * Every draw comes from the global generator of that device (seeded by `manualSeed`), and nothing
 * here moves data between host and device, so augmentation never waits for the GPU.
 *
 * @module
 */
import { arange, isFloating, rand, randn, scope, type Tensor, where } from "../torch/mod.ts";

/** Checks a float image batch [N, C, H, W] with 1 or 3 channels; returns its shape. */
export function checkImages(x: Tensor, op: string): [number, number, number, number] {
  const s = x.shape;
  if (s.length !== 4 || (s[1] !== 1 && s[1] !== 3)) {
    throw new TypeError(`Cannot ${op}: expected images [N, C, H, W] with 1 or 3 channels, got shape [${s.join(", ")}]`);
  }
  if (!isFloating(x.dtype)) {
    throw new TypeError(`Cannot ${op}: expected float images in [0, 1], got dtype ${x.dtype} (use toFloatImages)`);
  }
  return s as [number, number, number, number];
}

/** Checks a probability. */
export function checkProbability(p: number, name: string): void {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`${name} must be a probability in [0, 1], got ${p}`);
}

/** Checks an ordered range [lo, hi] with lo > min (or ≥ when `inclusive`). */
export function checkRange(r: readonly [number, number], name: string, min: number, inclusive = false): void {
  const [lo, hi] = r;
  if (!(lo <= hi) || !(inclusive ? lo >= min : lo > min)) {
    throw new RangeError(
      `${name} must be a range [lo, hi] with ${inclusive ? ">=" : ">"} ${min} and lo <= hi, got [${r}]`,
    );
  }
}

/** n samples uniform in [lo, hi) on `like`'s device: [N]. */
export function uniform(like: Tensor, n: number, lo: number, hi: number): Tensor {
  return scope(() => rand([n], { device: like.device }).mul(hi - lo).add(lo));
}

/** n Bernoulli(p) draws on `like`'s device as float 0/1: [N]. */
export function coin(like: Tensor, n: number, p: number): Tensor {
  return scope(() => rand([n], { device: like.device }).lt(p).to("float32"));
}

/** A per-sample value [N] viewed as [N, 1, 1, 1] to broadcast over images. */
export function perSample(v: Tensor): Tensor {
  return v.view([-1, 1, 1, 1]);
}

const GAMMA_ATTEMPTS = 16;

/**
 * n draws of Gamma(a, 1) on `like`'s device (Marsaglia & Tsang 2000: 16 attempts per draw in parallel,
 * each accepted with probability > 0.95 for a ≥ 1; a < 1 via Gamma(a + 1)·U^(1/a)): [N]. A draw with
 * no accepted attempt (probability < 1e-20) takes the mean, a.
 */
function gamma(like: Tensor, n: number, a: number): Tensor {
  return scope(() => {
    const shape = a < 1 ? a + 1 : a;
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    const x = randn([n, GAMMA_ATTEMPTS], { device: like.device }); // [N, T]
    const v = x.mul(c).add(1).pow(3); // [N, T]
    const logU = uniform(like, n * GAMMA_ATTEMPTS, 0, 1).view([n, GAMMA_ATTEMPTS]).log();
    const bound = x.square().mul(0.5).add(d).sub(v.mul(d)).add(v.clamp(1e-30).log().mul(d)); // [N, T]
    const ok = v.gt(0).logicalAnd(logU.lt(bound)).to("float32"); // [N, T]
    const first = ok.mul(arange(GAMMA_ATTEMPTS, 0, -1, { device: like.device })).argmax(1, true); // [N, 1]
    const draw = v.gather(1, first).view([n]).mul(d); // [N]
    let g = where(ok.amax(1).gt(0), draw, draw.mul(0).add(shape)); // [N]
    if (a < 1) g = g.mul(uniform(like, n, 0, 1).pow(1 / a));
    return g;
  });
}

/** n draws of Beta(α, α) on `like`'s device: [N] (uniform for α = 1). */
export function betaSymmetric(like: Tensor, n: number, alpha: number): Tensor {
  if (alpha === 1) return uniform(like, n, 0, 1);
  return scope(() => {
    const g1 = gamma(like, n, alpha);
    const g2 = gamma(like, n, alpha);
    return g1.div(g1.add(g2).clamp(1e-30));
  });
}

/** A CutMix batch: the mixed images, each sample's partner, and the fraction of its own pixels. */
export interface CutMixResult {
  /** Mixed images [N, C, H, W]. */
  images: Tensor;
  /** int64 [N]: the sample each box came from (itself when not mixed). */
  partner: Tensor;
  /** float32 [N]: fraction of pixels still from the sample itself (1 when not mixed). */
  lambda: Tensor;
}
