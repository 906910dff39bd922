/**
 * The training step of the unified framework, and nothing else: views → online and
 * target forwards → the method's gradient → backward → optimizer → EMA. Schedules, evaluation,
 * logging and checkpoints live in their own files and talk to the trainer through `step()`'s inputs
 * and result.
 *
 * Shape letters: N batch, C/H/W image, D projector width.
 *
 * @module
 */
import { backward, cuda, keep, noGrad, normalize, scope, type Tensor } from "../torch/mod.ts";
import type { Optimizer } from "../optim/optimizer.ts";
import type { Encoder } from "./encoder.ts";
import { type Features, gradientInputs, type GradientStats, type Method } from "./method.ts";
import { type CutMixTarget, multiViewGradient } from "./multiview.ts";
import type { MethodState } from "./state.ts";
import type { TargetBranch } from "./target.ts";
import { type NonFiniteCounts, NonFiniteGuard } from "./guard.ts";

/** A guard over everything a step changes: online and target weights and buffers, optimizer and method state. */
function guardOf(p: TrainerOptions): NonFiniteGuard {
  const saved = p.method.stateDict(p.state).tensors;
  const guarded = [
    ...p.online.stateDict().values(),
    ...(p.target.kind === "stop-grad" ? [] : p.target.module.stateDict().values()),
    ...[...p.optimizer.stateDict()].filter(([k]) => k !== "step").map(([, t]) => t),
    ...saved.values(),
  ];
  const values = [p.state.F, p.state.queue].filter((t): t is Tensor => t !== null);
  return new NonFiniteGuard(guarded, [...p.online.parameters(), ...p.method.parameters(p.state)], values);
}

/**
 * What the trainer needs from data-parallel training across processes (`dataParallel` of src/dist
 * implements it over a process group); absent on one process.
 */
export interface DataParallel {
  /**
   * Every rank's x [N, ...] → [W·N, ...] in rank order; its backward all-reduces the incoming gradient
   * and keeps this rank's slice (for methods with `globalBatch`).
   */
  gatherWithGrad(x: Tensor): Tensor;
  /** Replaces every parameter gradient by its mean over the ranks (after backward, before the step). */
  averageGradients(): void;
  /**
   * Sums a small tensor over the ranks in place: for decisions every rank must share (whether a step
   * was finite: one rank skipping a step the others take would split the replicas).
   */
  allReduceSum_(x: Tensor): void;
}

/** The parts a trainer ties together; the caller owns them. */
export interface TrainerOptions {
  /** The online encoder (gets gradients). */
  online: Encoder;
  /** The target branch built for `online` (see `targetBranch`). */
  target: TargetBranch;
  /** The method in its chosen form. */
  method: Method;
  /** The method's state (F, a queue, a predictor), from `method.initState`. */
  state: MethodState;
  /** The optimizer over the online parameters (and the method's, if any). */
  optimizer: Optimizer;
  /**
   * Run the encoder forwards under bf16 autocast on the views' device (CUDA, or a CPU with native bf16:
   * see `cpuCapabilities`). The features are cast back to float32 before the method sees them, so F,
   * the gradients, the optimizer and the EMA stay float32. @default false
   */
  bf16?: boolean;
  /**
   * Convert image batches to channels_last before the forwards; the trainer also re-lays out the
   * encoders' convolution weights in place (`Module.toMemoryFormat_`). @default false
   */
  channelsLast?: boolean;
  /**
   * Skip, on the device, any step whose gradients, statistics or method state are not finite: the
   * weights, BN statistics, optimizer and method state keep their values (see `NonFiniteGuard`).
   * For runs without per-step value checks (CUDA); costs one copy of the state per step. @default false
   */
  guardNonFinite?: boolean;
  /** Data parallelism across processes: gradients averaged, global-batch methods fed gathered features. */
  parallel?: DataParallel;
}

/** Options of `Trainer.step`. */
export interface StepOptions {
  /** Also evaluate the method's loss before the step (two views only). @default false */
  withLoss?: boolean;
  /** A local view that is a CutMix of the batch (see `cutmix` and `multiViewGradient`). @default none */
  cutmix?: CutMixTarget;
}

/** What one step reports: the gradient decomposition, as 0-d tensors the caller owns. */
export interface StepResult {
  /** Positive/negative norms, balance and positive-pair similarity (detached). */
  stats: GradientStats;
  /** The method's loss before the step (0-d), when asked for and the method has one; else null. */
  loss: Tensor | null;
  /** The learning rate this step used. */
  lr: number;
  /** EMA momentum used after this step (0 for a stop-gradient target). */
  momentum: number;
  /** Frees the stats tensors. */
  dispose(): void;
}

/**
 * Runs training steps: one call per batch of two augmented views.
 *
 * The stop-gradient target reuses the online features (detached): with the same weights, input and
 * BN batch statistics the second forward that the paper describes computes the same values.
 *
 * @example Usage
 * ```ts
 * import { disposeState } from "@unigrad/unigrad/ssl";
 * import { manualSeed, rand, scope, SGD, siameseEncoder, targetBranch, Trainer, unigrad } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * manualSeed(0);
 * const online = siameseEncoder({ arch: "resnet20", inChannels: 1, imageSize: 8, width: 4, projHidden: 8, projDim: 8, projDepth: 2 });
 * const target = targetBranch("stop-grad", online);
 * const method = unigrad({ lambda: 1 });
 * const state = method.initState(8);
 * const optimizer = new SGD(online.namedParameters(), { lr: 0.1, momentum: 0.9 });
 * const trainer = new Trainer({ online, target, method, state, optimizer }); // buildTrainer makes all of these
 * const x = rand([4, 1, 8, 8]);
 * const result = scope(() => trainer.step([x, x.flip([3])], 0, 0.1, { withLoss: true }));
 * assert.ok(Number.isFinite(result.loss!.item()));
 * result.loss!.dispose();
 * result.dispose();
 * [x, optimizer, target, online].forEach((p) => p.dispose());
 * disposeState(state);
 * ```
 */
export class Trainer {
  readonly #p: TrainerOptions;
  readonly #guard: NonFiniteGuard | null;

  /**
   * A trainer over parts the caller keeps owning (and disposes).
   *
   * @param parts The online encoder, target branch, method, method state and optimizer.
   */
  constructor(parts: TrainerOptions) {
    this.#p = parts;
    if (parts.channelsLast) {
      // Weights in the inputs' layout, as a PyTorch script's model.to(memory_format=…): libtorch
      // would otherwise reorder every convolution weight on every call (forward and backward).
      parts.online.toMemoryFormat_("channels_last");
      parts.target.module.toMemoryFormat_("channels_last");
    }
    this.#guard = parts.guardNonFinite ? guardOf(parts) : null;
  }

  /** Non-finite steps skipped so far (zeros without `guardNonFinite`); reads the device: call it at logging steps. */
  nonFinite(): NonFiniteCounts {
    return this.#guard?.counts() ?? { skipped: 0, consecutive: 0 };
  }

  /** Frees the non-finite guard's copies (the parts stay the caller's). */
  dispose(): void {
    this.#guard?.dispose();
  }

  /** The parts this trainer steps. */
  get parts(): TrainerOptions {
    return this.#p;
  }

  /**
   * One optimisation step on V ≥ 2 views [N, C, H, W] (already augmented and on the device). Views 0
   * and 1 are the global views; more views (multi-crop's local views, a CutMix view) go through
   * `multiViewGradient`: each is pulled toward both global targets, and the method's state still
   * advances once per step.
   *
   * @param views The views, global first.
   * @param step The global step index (drives the EMA schedule).
   * @param lr The learning rate of this step.
   * @param options `withLoss` also evaluates the method's loss (two views only; for logging steps);
   * `cutmix` marks a local view as a CutMix of the batch.
   * @throws {TypeError} With fewer than two views.
   * @throws {RangeError} When the features or the gradient are not finite (the method names itself).
   */
  step(views: readonly Tensor[], step: number, lr: number, options: StepOptions = {}): StepResult {
    if (views.length < 2) {
      throw new TypeError(`Cannot train on ${views.length} view(s): the trainer needs at least 2 (global) views`);
    }
    const { target, method, state, optimizer } = this.#p;
    this.#guard?.begin();
    const { stats, loss } = scope(() => {
      const xs = views.map((x) => this.#p.channelsLast ? x.contiguous("channels_last") : x);
      // Cleared first: a learnable predictor receives its gradient inside method.gradient().
      optimizer.zeroGrad();
      const f = this.#global(this.#forward(xs));
      if (xs.length > 2) {
        const { grads, stats } = multiViewGradient(method, state, f, { cutmix: options.cutmix });
        backward(method.wrt === "u" ? f.u : f.z, grads); // [N, D] per view
        return { stats, loss: null };
      }
      const features: Features = { u1: f.u[0], u2: f.u[1], v1: f.v[0], v2: f.v[1] };
      if (method.needs.includes("z1")) Object.assign(features, { z1: f.z[0], z2: f.z[1], zt1: f.zt[0], zt2: f.zt[1] });
      // The loss reads the state before the gradient advances it (F, queue).
      const loss = options.withLoss && method.loss ? noGrad(() => method.loss!(features, state)) : null;
      const { g1, g2, stats } = method.gradient(features, state); // g: [N, D] each
      backward(gradientInputs(method, features), [g1, g2]); // flows through normalize into the encoder
      return { stats, loss };
    });
    this.#p.parallel?.averageGradients(); // the same mean gradient on every rank
    optimizer.step(lr);
    const momentum = target.update(step); // the EMA is a separate, named step after the optimizer
    this.#guard?.end([...Object.values(stats), ...(loss ? [loss] : [])], this.#p.parallel); // no host sync
    const owned = [...Object.values(stats), ...(loss ? [loss] : [])].map((t) => keep(t));
    return { stats, loss, lr, momentum, dispose: () => owned.forEach((t) => t.dispose()) };
  }

  /**
   * With data parallelism and a `globalBatch` method: every rank's features gathered (the online ones
   * with gradient), so the method sees the global batch and the backward reaches this rank's samples.
   */
  #global(f: { u: Tensor[]; z: Tensor[]; v: Tensor[]; zt: Tensor[] }): typeof f {
    const parallel = this.#p.parallel;
    if (!parallel || !this.#p.method.globalBatch) return f;
    const all = (ts: Tensor[]) => ts.map((t) => parallel.gatherWithGrad(t)); // [W·N, D] each
    return { u: all(f.u), z: all(f.z), v: all(f.v), zt: all(f.zt) };
  }

  /**
   * Online forwards of every view with graph (z, u = normalize(z)); target forwards of the two global
   * views without (the stop-gradient target reuses the online z, detached).
   */
  #forward(xs: readonly Tensor[]): { u: Tensor[]; z: Tensor[]; v: Tensor[]; zt: Tensor[] } {
    const { online, target } = this.#p;
    const device = xs[0].device === "cpu" ? "cpu" : "cuda";
    const run = <T>(fn: () => T): T => this.#p.bf16 ? cuda.autocast(device, fn) : fn();
    const float = (z: Tensor) => z.to({ dtype: "float32" });
    const z = run(() => xs.map((x) => online.forward(x))).map(float); // V × [N, D]
    const u = z.map((zi) => normalize(zi)); // unit rows
    const zt = target.kind === "stop-grad"
      ? [z[0].detach(), z[1].detach()]
      : run(() => [target.forward(xs[0]), target.forward(xs[1])]).map(float); // 2 × [N, D]
    return { u, z, v: zt.map((t) => normalize(t)), zt };
  }
}

/** @deprecated Renamed `TrainerOptions`; this alias goes in the next release. */
export type TrainerParts = TrainerOptions;
