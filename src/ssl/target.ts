/**
 * The target branch: the three types of the paper's Table 2. "stop-grad" runs the online network under
 * no-grad; "momentum" and "momentum-positive" run a momentum encoder, whose weights follow the online
 * ones by an exponential moving average with the cosine schedule
 *
 *     m_k = 1 − (1 − m_0)·(cos(π·k/K) + 1)/2,   m_0 = 0.996 → 1 over K steps,
 *
 * (`emaMomentum` of src/optim/schedule.ts), and whose BN running statistics are copied from the online
 * network. (For "momentum-positive" the method uses the online features for its negative gradient; the
 * branch itself is the same momentum encoder.)
 * The EMA is one `_foreach_` call over persistent tensor lists, and a separate step the trainer calls
 * after the optimizer.
 *
 * @module
 */
import { noGrad, type Tensor, TensorList } from "../torch/mod.ts";
import type { Module } from "../nn/module.ts";
import { BatchNorm } from "../nn/batchnorm.ts";
import { emaMomentum } from "../optim/schedule.ts";
import { TARGET_KINDS, type TargetKind } from "./method.ts";

/** Options of `targetBranch`. */
export interface TargetOptions {
  /** A module of the online network's architecture to become the momentum encoder (momentum kinds); the branch owns it. */
  copy?: Module;
  /** Total training steps K of the momentum schedule (required for the momentum kinds). */
  totalSteps?: number;
  /** Starting momentum m_0. @default 0.996 */
  baseMomentum?: number;
}

/** The target branch of a training run (see `targetBranch`). */
export interface TargetBranch {
  /** Which of the three target types. */
  readonly kind: TargetKind;
  /** The module that computes target features: the online one for "stop-grad", the momentum encoder otherwise. */
  readonly module: Module;
  /** Target features under no-grad, with the module in the online network's train/eval mode. */
  forward(x: Tensor): Tensor;
  /** The momentum at `step` (0 for "stop-grad"). */
  momentum(step: number): number;
  /** After the optimizer step: target ← m·target + (1 − m)·online, BN statistics copied; returns m. */
  update(step: number): number;
  /** Frees the momentum encoder and the tensor lists (not the online module). */
  dispose(): void;
}

/**
 * Builds the target branch of `kind` for the `online` module. For the momentum kinds, `options.copy` (a
 * module of the same architecture) receives the online weights and becomes the momentum encoder, with
 * gradients off.
 *
 * @throws {TypeError} On an unknown kind, a missing copy or totalSteps (momentum kinds), or a copy whose
 * parameters differ from the online ones.
 * @throws {RangeError} When totalSteps < 1 or baseMomentum is outside [0, 1].
 *
 * @example Usage
 * ```ts
 * import { Linear, targetBranch } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const online = new Linear(3, 2);
 * const target = targetBranch("momentum", online, { copy: new Linear(3, 2), totalSteps: 10 });
 * assert.equal(target.update(0), 0.996);
 * target.dispose();
 * online.dispose();
 * ```
 */
export function targetBranch(kind: TargetKind, online: Module, options: TargetOptions = {}): TargetBranch {
  const { totalSteps = 1, baseMomentum = 0.996 } = options;
  if (!TARGET_KINDS.includes(kind)) {
    throw new TypeError(`Unknown target kind "${kind}": expected one of ${TARGET_KINDS.join(", ")}`);
  }
  if (kind !== "stop-grad" && options.totalSteps === undefined) {
    throw new TypeError(`Cannot build a "${kind}" target without options.totalSteps (the momentum schedule's length)`);
  }
  if (!(totalSteps >= 1)) throw new RangeError(`Target totalSteps must be at least 1, got ${totalSteps}`);
  if (!(baseMomentum >= 0 && baseMomentum <= 1)) {
    throw new RangeError(`Target baseMomentum must be in [0, 1], got ${baseMomentum}`);
  }
  if (kind === "stop-grad") {
    return {
      kind,
      module: online,
      forward: (x) => noGrad(() => online.forward(x)),
      momentum: () => 0,
      update: () => 0,
      dispose: () => {},
    };
  }
  const copy = options.copy;
  if (!copy) throw new TypeError(`Cannot build a "${kind}" target without options.copy (a module like the online one)`);
  const names = (m: Module) => m.namedParameters().map(([n, t]) => `${n}[${t.shape}]`).join();
  if (names(copy) !== names(online)) {
    throw new TypeError("Cannot build a momentum target: the copy's parameters differ from the online module's");
  }
  copy.loadStateDict(online.stateDict());
  for (const p of copy.parameters()) p.requiresGrad_(false);
  // The copy's BN running statistics are overwritten by the online ones at every update: not
  // updating them in its forwards saves that work (and gives the same values).
  for (const bn of copy.modules()) if (bn instanceof BatchNorm) bn.updateRunningStats = false;
  const lists = [copy.parameters(), online.parameters(), copy.buffers(), online.buffers()].map((ts) =>
    TensorList.of(ts)
  );
  const [params, onlineParams, buffers, onlineBuffers] = lists;
  const momentum = (step: number) => emaMomentum(step, totalSteps, baseMomentum);
  return {
    kind,
    module: copy,
    forward(x) {
      copy.train(online.training);
      return noGrad(() => copy.forward(x));
    },
    momentum,
    update(step) {
      const m = momentum(step);
      noGrad(() => {
        params.lerp_(onlineParams, 1 - m);
        if (buffers.length > 0) buffers.copy_(onlineBuffers);
      });
      return m;
    },
    dispose() {
      lists.forEach((l) => l.dispose());
      copy.dispose();
    },
  };
}
