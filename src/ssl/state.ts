/**
 * The state a method carries from step to step: UniGrad's and DirectPred's moving correlation matrix F,
 * a MoCo queue and its pointer, a BYOL/SimSiam predictor. The trainer owns it, passes it to every
 * `gradient()` call, saves it with `method.stateDict(state)` and restores it with `method.loadState`.
 *
 * Checkpoint names: `F` [D, D]; `queue` [K, D]; `predictor.<name>` (the predictor's own state-dict names,
 * e.g. `predictor.0.weight`); numbers `step`, `queuePtr`, `queueFilled`.
 *
 * @module
 */
import { type Device, type DType, keep, noGrad, type Tensor, zeros } from "../torch/mod.ts";
import type { Module } from "../nn/module.ts";
import { checkStateDict } from "../torch/state_dict.ts";

/** Where the state's tensors live. */
export interface StateOptions {
  /** The features' dtype; F and the queue are float32 unless this is float64. @default "float32" */
  dtype?: DType;
  /** Device of the state's tensors (the features'). @default "cpu" */
  device?: Device;
}

/** A method's state. Fields a method does not use are null (or 0). */
export interface MethodState {
  /** Projector width D. */
  readonly dim: number;
  /** Number of `gradient()` calls so far (F = F_batch when 0). */
  step: number;
  /** Moving correlation matrix F [D, D] (float32, float64 for float64 runs), or null. */
  F: Tensor | null;
  /** MoCo queue of target features [K, D], or null. */
  queue: Tensor | null;
  /** Next queue row to write. */
  queuePtr: number;
  /** Number of valid queue rows (the queue starts empty). */
  queueFilled: number;
  /** Learnable predictor (BYOL/SimSiam original form), or null. */
  predictor: Module | null;
}

/** A state as saved in a checkpoint: named tensors and plain JSON numbers. */
export interface SavedState {
  /** Tensors by name. */
  tensors: Map<string, Tensor>;
  /** Plain numbers by name. */
  numbers: Record<string, number>;
}

/** What a method keeps; used by the factories. */
export interface StateSpec {
  /** Keep a correlation matrix F. */
  correlation?: boolean;
  /** Queue length K (0: none). */
  queueSize?: number;
  /** Builds the predictor for width D. */
  predictor?: (dim: number) => Module;
}

/** The dtype state tensors are kept in: float32, or float64 for float64 runs. */
export function stateDType(dtype: DType): DType {
  return dtype === "float64" ? "float64" : "float32";
}

/**
 * A fresh state for width `dim`.
 *
 * @throws {RangeError} When `dim` is not a positive integer.
 */
export function newState(dim: number, spec: StateSpec, options: StateOptions = {}): MethodState {
  if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`State width must be a positive integer, got ${dim}`);
  const dtype = stateDType(options.dtype ?? "float32");
  const device = options.device ?? "cpu";
  const K = spec.queueSize ?? 0;
  const predictor = spec.predictor
    ? spec.predictor(dim).to(device, options.dtype === "float64" ? "float64" : undefined)
    : null;
  return {
    dim,
    step: 0,
    F: spec.correlation ? keep(zeros([dim, dim], { dtype, device })) : null,
    queue: K > 0 ? keep(zeros([K, dim], { dtype, device })) : null,
    queuePtr: 0,
    queueFilled: 0,
    predictor,
  };
}

/** The state's tensors (its own) and numbers, under the checkpoint names. */
export function saveState(state: MethodState): SavedState {
  const tensors = new Map<string, Tensor>();
  if (state.F) tensors.set("F", state.F);
  if (state.queue) tensors.set("queue", state.queue);
  if (state.predictor) { for (const [k, t] of state.predictor.stateDict("predictor.")) tensors.set(k, t); }
  return { tensors, numbers: { step: state.step, queuePtr: state.queuePtr, queueFilled: state.queueFilled } };
}

/**
 * Copies a saved state into `state` (same width and contents expected).
 *
 * @throws {TypeError} On missing or unexpected names, or shape or dtype mismatches.
 */
export function restoreState(state: MethodState, saved: SavedState): void {
  const own = saveState(state);
  checkStateDict(own.tensors, saved.tensors, "method state");
  for (const k of ["step", "queuePtr", "queueFilled"] as const) {
    const v = saved.numbers[k];
    if (!Number.isInteger(v) || v < 0) {
      throw new TypeError(`Cannot load method state: "${k}" must be a count, got ${v}`);
    }
  }
  noGrad(() => {
    for (const [k, t] of own.tensors) t.copy_(saved.tensors.get(k)!);
  });
  state.step = saved.numbers.step;
  state.queuePtr = saved.numbers.queuePtr;
  state.queueFilled = saved.numbers.queueFilled;
}

/**
 * Frees the state's tensors and predictor.
 *
 * @example Usage
 * ```ts
 * import { disposeState } from "@unigrad/unigrad/ssl";
 * import { moco } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const method = moco({ queueSize: 16 });
 * const state = method.initState(8);
 * assert.notEqual(state.queue, null);
 * disposeState(state); // frees F, the queue and the predictor
 * assert.equal(state.queue, null);
 * ```
 */
export function disposeState(state: MethodState): void {
  state.F?.dispose();
  state.queue?.dispose();
  state.predictor?.dispose();
  state.F = null;
  state.queue = null;
  state.predictor = null;
}
