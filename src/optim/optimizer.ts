/**
 * `Optimizer`: the shared base of `SGD` and `LARS`. It holds the parameters in two `TensorList`
 * groups (weight-decayed, and excluded: 1-D tensors such as BN γ/β and biases when asked), one
 * momentum buffer per parameter, and the step count, and saves/restores them as a state dict.
 *
 * @module
 */
import { full, keep, noGrad, type Tensor, TensorList, TorchError, zerosLike } from "../torch/mod.ts";
import { checkStateDict } from "../torch/state_dict.ts";

/** Parameters as plain tensors (named "0", "1", …) or as `[name, tensor]` pairs (`Module.namedParameters()`). */
export type ParamsInput = readonly Tensor[] | readonly (readonly [string, Tensor])[];

/** One parameter group: parameters, their momentum buffers, and whether weight decay/adaptation apply. */
export interface ParamGroup {
  /** Parameter names, in order. */
  readonly names: readonly string[];
  /** The parameters. */
  readonly params: TensorList;
  /** One momentum buffer per parameter (owned by the optimizer). */
  readonly buffers: TensorList;
  /** False for the excluded group (no weight decay, no LARS adaptation). */
  readonly decay: boolean;
}

/** Options shared by every optimizer. */
export interface OptimizerOptions {
  /** Learning rate; change it per step with `optimizer.lr = …` or `step(lr)`. */
  lr: number;
  /** Exclude 1-D parameters (BN γ/β, biases) from weight decay (and LARS adaptation). @default false */
  excludeBiasAndNorm?: boolean;
}

/**
 * Base of the optimizers: parameter groups, momentum buffers, `zeroGrad`, and the state dict with
 * entries `step` (float64 0-d) and `momentum_buffer.<param name>` (one per parameter, shaped like it).
 * Build it after moving the model to its device: it refers to the parameter tensors themselves.
 */
export abstract class Optimizer {
  /** Learning rate used by the next `step()`. */
  lr: number;
  /** The parameter groups: decayed first, then excluded (either may be absent). */
  protected readonly groups: ParamGroup[] = [];
  #steps = 0;
  #stepTensor: Tensor;
  #buffers: Tensor[] = [];

  /**
   * Groups the parameters and allocates one zero momentum buffer per parameter.
   *
   * @param params The parameters, plain or named.
   * @throws {RangeError} On a negative or non-finite learning rate.
   * @throws {TypeError} On an empty parameter list.
   */
  constructor(params: ParamsInput, options: OptimizerOptions) {
    this.lr = checkRate("lr", options.lr);
    const named = (params as readonly (Tensor | readonly [string, Tensor])[]).map((p, i) =>
      Array.isArray(p) ? p as readonly [string, Tensor] : [String(i), p as Tensor] as const
    );
    if (named.length === 0) throw new TypeError("Cannot build an optimizer over an empty parameter list");
    const exclude = options.excludeBiasAndNorm ?? false;
    for (const decay of [true, false]) {
      const members = named.filter(([, t]) => !exclude || (t.ndim > 1) === decay);
      if (members.length === 0 || (!exclude && !decay)) continue;
      const bufs = members.map(([, t]) => keep(noGrad(() => zerosLike(t))));
      this.#buffers.push(...bufs);
      this.groups.push({
        names: members.map(([n]) => n),
        params: TensorList.of(members.map(([, t]) => t)),
        buffers: TensorList.of(bufs),
        decay,
      });
    }
    this.#stepTensor = keep(full([], 0, { dtype: "float64" }));
  }

  /** Number of `step()` calls so far (restored by `loadStateDict`). */
  get steps(): number {
    return this.#steps;
  }

  /** Applies one update with the current gradients; `lr` (if given) replaces `this.lr` first. */
  step(lr?: number): void {
    if (lr !== undefined) this.lr = checkRate("lr", lr);
    noGrad(() => {
      for (const g of this.groups) {
        const grads = gradsOf(g);
        try {
          this.update(g, grads, this.#steps === 0);
        } finally {
          grads.dispose();
        }
      }
    });
    this.#steps++;
  }

  /** The update of one group (under no-grad); `first` is true on the first step. */
  protected abstract update(group: ParamGroup, grads: TensorList, first: boolean): void;

  /** Clears every parameter's gradient (sets it to none, as `zero_grad(set_to_none=True)`). */
  zeroGrad(): void {
    for (const g of this.groups) g.params.zeroGrad();
  }

  /**
   * The state: `step` and `momentum_buffer.<name>` for every parameter. The tensors are the optimizer's
   * own (copy them to keep a snapshot), valid until `dispose()`.
   */
  stateDict(): Map<string, Tensor> {
    this.#stepTensor.fill_(this.#steps);
    const out = new Map<string, Tensor>([["step", this.#stepTensor]]);
    let i = 0;
    for (const g of this.groups) for (const n of g.names) out.set(`momentum_buffer.${n}`, this.#buffers[i++]);
    return out;
  }

  /**
   * Restores a state made by `stateDict()` (same parameter names and shapes): the following steps
   * reproduce the uninterrupted trajectory.
   *
   * @throws {TypeError} On missing or unexpected keys, mismatched shapes or dtypes, or a step that is not a count.
   */
  loadStateDict(state: ReadonlyMap<string, Tensor>): void {
    const own = this.stateDict();
    checkStateDict(own, state, "optimizer state");
    const step = state.get("step")!.item();
    if (!Number.isSafeInteger(step) || step < 0) {
      throw new TypeError(`Cannot load optimizer state: "step" is ${step}, not a non-negative integer`);
    }
    noGrad(() => {
      for (const [k, dst] of own) if (k !== "step") dst.copy_(state.get(k)!);
    });
    this.#steps = step;
  }

  /** Frees the momentum buffers and lists (not the parameters). */
  dispose(): void {
    for (const g of this.groups) {
      g.params.dispose();
      g.buffers.dispose();
    }
    for (const b of this.#buffers) b.dispose();
    this.#stepTensor.dispose();
  }
}

/** Validates a non-negative finite hyper-parameter. */
export function checkRate(name: string, v: number): number {
  if (!(Number.isFinite(v) && v >= 0)) throw new RangeError(`${name} must be a non-negative number, got ${v}`);
  return v;
}

function gradsOf(g: ParamGroup): TensorList {
  try {
    return g.params.grads();
  } catch (e) {
    if (!(e instanceof TorchError)) throw e;
    const i = g.names.findIndex((_, j) => {
      const t = g.params.get(j)!;
      const grad = t.grad;
      t.dispose();
      grad?.dispose();
      return grad === null;
    });
    throw new TypeError(
      `Cannot step: parameter "${g.names[i]}" has no gradient (pass only parameters that receive gradients)`,
    );
  }
}
