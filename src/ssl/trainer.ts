/**
 * The training step of the unified framework, and nothing else (STYLE 15): views → online and
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
import type { MethodState } from "./state.ts";
import type { TargetBranch } from "./target.ts";

/** The parts a trainer ties together; the caller owns them. */
export interface TrainerParts {
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
  /** Run the forwards under bf16 autocast (CUDA). @default false */
  bf16?: boolean;
  /** Convert image batches to channels_last before the forwards (CUDA). @default false */
  channelsLast?: boolean;
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
 */
export class Trainer {
  readonly #p: TrainerParts;

  /**
   * A trainer over parts the caller keeps owning (and disposes).
   *
   * @param parts The online encoder, target branch, method, method state and optimizer.
   */
  constructor(parts: TrainerParts) {
    this.#p = parts;
  }

  /** The parts this trainer steps. */
  get parts(): TrainerParts {
    return this.#p;
  }

  /**
   * One optimisation step on two views x1, x2 [N, C, H, W] (already augmented and on the device).
   *
   * @param views The two views.
   * @param step The global step index (drives the EMA schedule).
   * @param lr The learning rate of this step.
   * @param withLoss Also evaluate the method's loss (costs one extra small pass; for logging steps).
   * @throws {RangeError} When the features or the gradient are not finite (the method names itself).
   */
  step(views: readonly Tensor[], step: number, lr: number, withLoss = false): StepResult {
    if (views.length !== 2) {
      throw new TypeError(`Cannot train on ${views.length} views: the trainer takes exactly 2 (global) views`);
    }
    const { target, method, state, optimizer } = this.#p;
    const { stats, loss } = scope(() => {
      const [x1, x2] = views.map((x) => this.#p.channelsLast ? x.contiguous("channels_last") : x);
      // Cleared first: a learnable predictor receives its gradient inside method.gradient().
      optimizer.zeroGrad();
      const features = this.#forward(x1, x2);
      // The loss reads the state before the gradient advances it (F, queue).
      const loss = withLoss && method.loss ? noGrad(() => method.loss!(features, state)) : null;
      const { g1, g2, stats } = method.gradient(features, state); // g: [N, D] each
      backward(gradientInputs(method, features), [g1, g2]); // flows through normalize into the encoder
      return { stats, loss };
    });
    optimizer.step(lr);
    const momentum = target.update(step); // EMA is a separate, named step (STYLE 9)
    const owned = [...Object.values(stats), ...(loss ? [loss] : [])].map((t) => keep(t));
    return { stats, loss, lr, momentum, dispose: () => owned.forEach((t) => t.dispose()) };
  }

  /** Online forwards with graph, target forwards without; everything a method may read. */
  #forward(x1: Tensor, x2: Tensor): Features {
    const { online, target, method } = this.#p;
    const run = <T>(fn: () => T): T => this.#p.bf16 ? cuda.autocast("cuda", fn) : fn();
    const [z1, z2] = run(() => [online.forward(x1), online.forward(x2)]).map((z) => z.to({ dtype: "float32" })); // [N, D]
    const u1 = normalize(z1), u2 = normalize(z2); // [N, D], unit rows
    let zt1: Tensor, zt2: Tensor;
    if (target.kind === "stop-grad") {
      [zt1, zt2] = [z1.detach(), z2.detach()];
    } else {
      [zt1, zt2] = run(() => [target.forward(x1), target.forward(x2)]).map((z) => z.to({ dtype: "float32" }));
    }
    const features: Features = { u1, u2, v1: normalize(zt1), v2: normalize(zt2) };
    if (method.needs.includes("z1")) Object.assign(features, { z1, z2, zt1, zt2 });
    return features;
  }
}
