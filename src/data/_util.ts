/**
 * Internal helpers of src/data: input checks and per-sample random draws on the images' device.
 * Every draw comes from the global generator of that device (seeded by `manualSeed`), and nothing
 * here moves data between host and device, so augmentation never waits for the GPU.
 *
 * @module
 */
import { isFloating, rand, scope, type Tensor } from "../torch/mod.ts";

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
