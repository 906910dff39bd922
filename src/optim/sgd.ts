/**
 * `SGD` with momentum, Nesterov and weight decay, as `torch.optim.SGD`, updating every parameter
 * through `_foreach_` ops.
 *
 * @module
 */
import type { TensorList } from "../torch/mod.ts";
import { checkRate, Optimizer, type OptimizerOptions, type ParamGroup, type ParamsInput } from "./optimizer.ts";

/** Options of `SGD`; defaults are the paper's ImageNet recipe (not torch's zeros). */
export interface SGDOptions extends OptimizerOptions {
  /** Momentum coefficient m. @default 0.9 */
  momentum?: number;
  /** Dampening of the gradient added to the momentum buffer. @default 0 */
  dampening?: number;
  /** Nesterov momentum. @default false */
  nesterov?: boolean;
  /** L2 weight decay (added to the gradient). @default 1e-4 */
  weightDecay?: number;
}

/**
 * Stochastic gradient descent, step for step `torch.optim.SGD`: with d = g + wd·p,
 * buf ← d on the first step, then buf ← m·buf + (1 − dampening)·d; p ← p − lr·(d + m·buf) with
 * Nesterov, else p ← p − lr·buf (without momentum, p ← p − lr·d). Each group is updated by a few
 * `_foreach_` calls (no per-parameter loop); `.grad` is left untouched.
 *
 * State dict: `step` and `momentum_buffer.<param name>` (see `Optimizer`).
 *
 * @example Usage
 * ```ts
 * import { SGD, tensor } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * using w = tensor([1, 2], { requiresGrad: true });
 * const opt = new SGD([w], { lr: 0.1, momentum: 0, weightDecay: 0 });
 * using loss = w.square().sum(); // gradient 2w
 * loss.backward();
 * opt.step();
 * assert.deepEqual(w.toArray(), [0.800000011920929, 1.600000023841858]);
 * opt.zeroGrad();
 * opt.dispose();
 * ```
 */
export class SGD extends Optimizer {
  readonly #momentum: number;
  readonly #dampening: number;
  readonly #nesterov: boolean;
  readonly #weightDecay: number;

  /**
   * Makes an SGD optimizer.
   *
   * @param params The parameters (e.g. `model.namedParameters()`, whose names label the state dict).
   * @throws {RangeError} On negative hyper-parameters, or Nesterov without momentum or with dampening.
   */
  constructor(params: ParamsInput, options: SGDOptions) {
    super(params, checkOptions(options)); // validate before the base allocates buffers
    this.#momentum = options.momentum ?? 0.9;
    this.#dampening = options.dampening ?? 0;
    this.#nesterov = options.nesterov ?? false;
    this.#weightDecay = options.weightDecay ?? 1e-4;
  }

  /** The torch.optim.SGD update of one group through `_foreach_` ops. */
  protected update(group: ParamGroup, grads: TensorList, first: boolean): void {
    const { params, buffers } = group;
    const lr = this.lr, m = this.#momentum;
    const wd = group.decay ? this.#weightDecay : 0;
    if (m !== 0) {
      if (first) buffers.copy_(grads); // buf = d (no dampening on the first step, as torch)
      else buffers.mul_(m).add_(grads, 1 - this.#dampening);
      if (wd !== 0) buffers.add_(params, first ? wd : wd * (1 - this.#dampening));
    }
    if (wd !== 0 && (m === 0 || this.#nesterov)) params.mul_(1 - lr * wd); // p −= lr·wd·p
    if (m === 0 || this.#nesterov) params.add_(grads, -lr);
    if (m !== 0) params.add_(buffers, this.#nesterov ? -lr * m : -lr);
  }
}

function checkOptions(options: SGDOptions): SGDOptions {
  const momentum = checkRate("momentum", options.momentum ?? 0.9);
  const dampening = checkRate("dampening", options.dampening ?? 0);
  checkRate("weightDecay", options.weightDecay ?? 1e-4);
  if (options.nesterov && (momentum === 0 || dampening !== 0)) {
    throw new RangeError("Nesterov momentum requires a momentum and zero dampening");
  }
  return options;
}
