/**
 * A training budget in minutes: `epochs: 0` (the default run's) means "as many whole epochs as fit
 * `trainMinutes` of training on this machine". The run measures its own step first — a throwaway copy
 * of every part, built from the same config, takes a few real steps on real batches and is freed —
 * then fixes the epoch count once. The resolved count is the run's `epochs` from then on: `config.json`
 * and every checkpoint record it, so `--resume` continues the same schedule and `--epochs N` repeats
 * the run exactly on any machine.
 *
 * Why measure instead of a fixed default: the same 2-core run trains at ~540 pairs/s on a CPU with
 * bf16 instructions and ~120 on an AVX2-only one (README, "Quick start"); four epochs of Fashion-MNIST
 * take 7.5 minutes on the first and over 30 on the second. The calibration steps use the run's seed
 * (weights, views) and are thrown away; the run proper is reseeded as if they had never happened.
 *
 * @module
 */
import { cuda, type Device, manualSeed, scope, tensor } from "../torch/mod.ts";
import { deviceCode } from "../torch/device.ts";
import type { ProcessGroup } from "../distributed/mod.ts";
import type { TrainConfig } from "./settings.ts";
import { buildParts, stepOn } from "./_parts.ts";

/** Steps before the timed ones: the first steps build oneDNN/cuDNN kernels and fault in memory. */
const WARMUP_STEPS = 2;
/** A single process times steps until this much time has passed (at least `MIN_TIMED_STEPS`). */
const CALIBRATION_SECONDS = 6;
const MIN_TIMED_STEPS = 3;
const MAX_TIMED_STEPS = 40;
/** Several processes time a fixed number of steps, so that every rank takes the same collectives. */
const DIST_TIMED_STEPS = 6;
/**
 * The share of the budget the measured rate is planned for: the epochs' data order, checkpoints and
 * a machine that gets busier leave the rest as headroom.
 */
const PLANNED_SHARE = 0.9;

/** What the calibration measured and chose (recorded in `config.json` as `budget`). */
export interface EpochBudget {
  /** The budget, minutes of training. */
  trainMinutes: number;
  /** Pairs per second measured (rank 0's, for several processes). */
  pairsPerSecond: number;
  /** Steps timed (after the warm-up steps). */
  timedSteps: number;
  /** Seconds the measurement took, warm-up and building included. */
  calibrationSeconds: number;
  /** Training steps per epoch of the run. */
  stepsPerEpoch: number;
  /** The epochs chosen: ⌊share · budget · rate / pairs per epoch⌋, at least 1. */
  epochs: number;
  /** The chosen epochs' expected training time, minutes. */
  plannedMinutes: number;
}

/**
 * Epochs that fit `trainMinutes` at `pairsPerSecond` (at least one).
 *
 * @param trainMinutes The budget.
 * @param pairsPerSecond The measured rate.
 * @param pairsPerEpoch stepsPerEpoch × batch size.
 * @returns Whole epochs, ≥ 1.
 *
 * @example Usage
 * ```ts
 * import { epochsWithin } from "@unigrad/unigrad/run";
 * import assert from "node:assert/strict";
 *
 * assert.equal(epochsWithin(10, 540, 468 * 128), 4); // 0.9 · 600 s · 540 / 59,904 = 4.9
 * assert.equal(epochsWithin(10, 120, 468 * 128), 1); // 1.08 epochs fit: one
 * assert.equal(epochsWithin(10, 60, 468 * 128), 1); // not even one fits: one anyway
 * ```
 */
export function epochsWithin(trainMinutes: number, pairsPerSecond: number, pairsPerEpoch: number): number {
  return Math.max(1, Math.floor((PLANNED_SHARE * trainMinutes * 60 * pairsPerSecond) / pairsPerEpoch));
}

/**
 * Measures the run's step on this machine and returns the config with `epochs` resolved from
 * `trainMinutes`, and what was measured. With a process `group`, every rank takes the same steps and
 * rank 0's rate decides for all.
 *
 * @param c A validated config with `epochs` 0 and `trainMinutes` > 0.
 * @param group The data-parallel group, or null.
 * @returns The config with `epochs` set, and the measurement.
 */
export async function resolveEpochs(
  c: TrainConfig,
  group: ProcessGroup | null,
): Promise<{ config: TrainConfig; budget: EpochBudget }> {
  const t0 = performance.now();
  manualSeed(c.seed);
  const parts = await buildParts({ ...c, epochs: 1 }, group);
  const rank = group?.rank ?? 0;
  const stepsPerEpoch = parts.derived.stepsPerEpoch;
  let [step, timed, seconds] = [0, 0, 0];
  const done = () =>
    group ? timed >= DIST_TIMED_STEPS : timed >= MAX_TIMED_STEPS ||
      (timed >= MIN_TIMED_STEPS && seconds >= CALIBRATION_SECONDS);
  try {
    while (!done()) {
      for await (const batch of parts.loader) {
        const start = performance.now();
        stepOn(parts, batch, step, c.seed, rank, false).dispose();
        if (c.device !== "cpu") cuda.synchronize(deviceCode(c.device)); // this rank's GPU: timed, not just queued
        if (step >= WARMUP_STEPS) {
          timed += 1;
          seconds += (performance.now() - start) / 1000;
        }
        step += 1;
        if (done()) break;
      }
    }
  } finally {
    parts.dispose();
  }
  let pairsPerSecond = (timed * c.batchSize) / seconds;
  if (group) {
    // Rank 0's measurement for every rank: one epoch count, one schedule.
    pairsPerSecond = scope(() => {
      const r = tensor([pairsPerSecond], { dtype: "float64", device: c.device as Device });
      group.broadcast_([r], 0);
      return r.item();
    });
  }
  const epochs = epochsWithin(c.trainMinutes, pairsPerSecond, stepsPerEpoch * c.batchSize);
  const budget: EpochBudget = {
    trainMinutes: c.trainMinutes,
    pairsPerSecond: Math.round(pairsPerSecond * 10) / 10,
    timedSteps: timed,
    calibrationSeconds: Math.round((performance.now() - t0) / 100) / 10,
    stepsPerEpoch,
    epochs,
    plannedMinutes: Math.round((epochs * stepsPerEpoch * c.batchSize) / pairsPerSecond / 6) / 10,
  };
  return { config: { ...c, epochs }, budget };
}
