/**
 * Step schedules: the learning rate (linear warm-up, then cosine decay) and the momentum-encoder
 * EMA coefficient (cosine increase from 0.996 to 1).
 *
 * @module
 */

/** Options of `warmupCosine`. */
export interface WarmupCosineOptions {
  /** Peak learning rate, reached at the end of the warm-up (paper: 0.05·B/256). */
  baseLr: number;
  /** Steps of linear warm-up (paper: 5 epochs). @default 0 */
  warmupSteps?: number;
  /** All steps of the run (warm-up included). */
  totalSteps: number;
  /** Learning rate at step 0 of the warm-up. @default 1e-3·baseLr (the official code's min_lr) */
  startLr?: number;
  /** Learning rate at `totalSteps` (and after). @default 1e-3·baseLr (the official code's min_lr) */
  finalLr?: number;
}

/**
 * Linear warm-up from `startLr` to `baseLr` over `warmupSteps`, then a half cosine from `baseLr` to
 * `finalLr` over the remaining steps: lr(0) = startLr, lr(warmupSteps) = baseLr, lr(totalSteps) =
 * finalLr. (The official UniGrad code divides the cosine phase by all steps, not the remaining ones,
 * so it never quite reaches its minimum; this schedule does.)
 *
 * @returns A function from step (0-based, fractional allowed) to learning rate.
 * @throws {RangeError} On a non-positive `totalSteps`, `warmupSteps` outside [0, totalSteps] or a negative rate.
 *
 * @example Usage
 * ```ts
 * import { warmupCosine } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const lr = warmupCosine({ baseLr: 0.1, warmupSteps: 10, totalSteps: 110, startLr: 0, finalLr: 0 });
 * assert.equal(lr(0), 0);
 * assert.equal(lr(5), 0.05);
 * assert.equal(lr(10), 0.1);
 * assert.ok(Math.abs(lr(60) - 0.05) < 1e-12);
 * assert.equal(lr(110), 0);
 * ```
 */
export function warmupCosine(options: WarmupCosineOptions): (step: number) => number {
  const { baseLr, totalSteps, warmupSteps = 0 } = options;
  const startLr = options.startLr ?? 1e-3 * baseLr;
  const finalLr = options.finalLr ?? 1e-3 * baseLr;
  for (const [name, v] of [["baseLr", baseLr], ["startLr", startLr], ["finalLr", finalLr]] as const) {
    if (!(Number.isFinite(v) && v >= 0)) throw new RangeError(`warmupCosine ${name} must be non-negative, got ${v}`);
  }
  if (!(totalSteps > 0)) throw new RangeError(`warmupCosine totalSteps must be positive, got ${totalSteps}`);
  if (!(warmupSteps >= 0 && warmupSteps <= totalSteps)) {
    throw new RangeError(`warmupCosine warmupSteps must be in [0, ${totalSteps}], got ${warmupSteps}`);
  }
  const decaySteps = totalSteps - warmupSteps;
  return (step: number): number => {
    if (step < warmupSteps) return startLr + (baseLr - startLr) * step / warmupSteps;
    if (decaySteps === 0 || step >= totalSteps) return step >= totalSteps ? finalLr : baseLr;
    const q = (1 + Math.cos(Math.PI * (step - warmupSteps) / decaySteps)) / 2;
    return finalLr + (baseLr - finalLr) * q;
  };
}

/**
 * The momentum-encoder coefficient at step k of K (BYOL; the official UniGrad `adjust_mm`):
 * m = 1 − (1 − base)·(cos(π·k/K) + 1)/2, rising from `base` at k = 0 to 1 at k = K.
 *
 * @param k The step, 0 ≤ k ≤ K (clamped to K beyond).
 * @param K All steps of the run.
 * @param base The starting coefficient. @default 0.996
 * @returns The EMA coefficient m (target ← m·target + (1 − m)·online).
 * @throws {RangeError} On a non-positive K, a negative k or a base outside [0, 1].
 *
 * @example Usage
 * ```ts
 * import { emaMomentum } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * assert.equal(emaMomentum(0, 100), 0.996);
 * assert.ok(Math.abs(emaMomentum(50, 100) - 0.998) < 1e-12);
 * assert.equal(emaMomentum(100, 100), 1);
 * ```
 */
export function emaMomentum(k: number, K: number, base = 0.996): number {
  if (!(K > 0)) throw new RangeError(`emaMomentum K must be positive, got ${K}`);
  if (!(k >= 0)) throw new RangeError(`emaMomentum step must be non-negative, got ${k}`);
  if (!(base >= 0 && base <= 1)) throw new RangeError(`emaMomentum base must be in [0, 1], got ${base}`);
  return 1 - (1 - base) * (Math.cos(Math.PI * Math.min(k, K) / K) + 1) / 2;
}
