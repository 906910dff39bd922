/**
 * `Module`: the base of every layer and model, with named parameters and buffers (torchvision's
 * names, e.g. `layer1.0.bn1.running_mean`), train/eval modes, state dicts and device moves; and
 * `Sequential`, whose children are named "0", "1", ….
 *
 * Parameters and buffers are owned by the module (kept out of every scope) until `dispose()`.
 *
 * @module
 */
import { type Device, keep, type MemoryFormat, noGrad, type Tensor } from "../torch/mod.ts";
import { checkStateDict } from "../torch/state_dict.ts";

/**
 * A layer or model. Subclasses register parameters, buffers and children in their constructor and
 * implement `forward`.
 *
 * @example Usage
 * ```ts
 * import { linear, Module, randn, scope, type Tensor } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * class Affine extends Module {
 *   readonly weight: Tensor;
 *   constructor() {
 *     super();
 *     this.weight = this.registerParameter("weight", randn([2, 3]));
 *   }
 *   forward(x: Tensor): Tensor {
 *     return linear(x, this.weight);
 *   }
 * }
 * const m = new Affine();
 * assert.deepEqual(m.namedParameters().map(([n]) => n), ["weight"]);
 * scope(() => assert.deepEqual(m.forward(randn([4, 3])).shape, [4, 2]));
 * m.dispose();
 * ```
 */
export abstract class Module {
  #params = new Map<string, Tensor>();
  #buffers = new Map<string, Tensor>();
  #children = new Map<string, Module>();
  #training = true;

  /** Computes the output (pure: no EMA, no mode changes). */
  abstract forward(x: Tensor): Tensor;

  /** Registers a trainable tensor under `name` (sets requiresGrad and keeps it out of scopes). */
  protected registerParameter(name: string, t: Tensor): Tensor {
    this.#checkName(name);
    keep(t);
    if (!t.requiresGrad) t.requiresGrad_(true);
    this.#params.set(name, t);
    return t;
  }

  /** Registers a non-trainable state tensor (e.g. BN running statistics) under `name`. */
  protected registerBuffer(name: string, t: Tensor): Tensor {
    this.#checkName(name);
    keep(t);
    this.#buffers.set(name, t);
    return t;
  }

  /** Registers a sub-module under `name`; its entries are named `name.<entry>`. */
  protected registerModule<M extends Module>(name: string, m: M): M {
    this.#checkName(name);
    this.#children.set(name, m);
    return m;
  }

  #checkName(name: string): void {
    if (name === "" || name.includes(".")) throw new TypeError(`Invalid module entry name "${name}"`);
    if (this.#params.has(name) || this.#buffers.has(name) || this.#children.has(name)) {
      throw new TypeError(`Module entry "${name}" is already registered`);
    }
  }

  /** Direct sub-modules with their names. */
  namedChildren(): [string, Module][] {
    return [...this.#children];
  }

  /** Every parameter with its dotted name, in registration order (depth first). */
  namedParameters(prefix = ""): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, t] of this.#params) out.push([prefix + n, t]);
    for (const [n, c] of this.#children) out.push(...c.namedParameters(`${prefix}${n}.`));
    return out;
  }

  /** Every buffer with its dotted name, in registration order (depth first). */
  namedBuffers(prefix = ""): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, t] of this.#buffers) out.push([prefix + n, t]);
    for (const [n, c] of this.#children) out.push(...c.namedBuffers(`${prefix}${n}.`));
    return out;
  }

  /** This module and every module below it, depth first, the root first (as `torch.nn.Module.modules()`). */
  modules(): Module[] {
    return [this, ...[...this.#children.values()].flatMap((c) => c.modules())];
  }

  /** Every parameter tensor. */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** Every buffer tensor. */
  buffers(): Tensor[] {
    return this.namedBuffers().map(([, t]) => t);
  }

  /** Number of scalar parameters. */
  numParameters(): number {
    return this.parameters().reduce((n, t) => n + t.numel, 0);
  }

  /**
   * Parameters and buffers by name, in PyTorch's state-dict order (each module's own parameters,
   * then its buffers, then its children). The tensors are the module's own, not copies.
   */
  stateDict(prefix = ""): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [n, t] of this.#params) out.set(prefix + n, t);
    for (const [n, t] of this.#buffers) out.set(prefix + n, t);
    for (const [n, c] of this.#children) for (const [k, t] of c.stateDict(`${prefix}${n}.`)) out.set(k, t);
    return out;
  }

  /**
   * Copies values into the module's parameters and buffers, by name, after checking every entry
   * first (nothing is copied when one is wrong).
   *
   * @throws {TypeError} On a missing or unexpected key (when strict), a shape mismatch, or a dtype
   *   mismatch (an integer tensor for a float parameter; floating precisions may differ).
   */
  loadStateDict(state: ReadonlyMap<string, Tensor>, strict = true): void {
    const own = this.stateDict();
    checkStateDict(own, state, "state dict", { strict });
    noGrad(() => {
      for (const [k, src] of state) own.get(k)?.copy_(src);
    });
  }

  /** Whether the module is in training mode. */
  get training(): boolean {
    return this.#training;
  }

  /** Sets training mode (BN uses batch statistics) on this module and every child. */
  train(on = true): this {
    this.#training = on;
    for (const c of this.#children.values()) c.train(on);
    return this;
  }

  /** Sets evaluation mode (BN uses running statistics). */
  eval(): this {
    return this.train(false);
  }

  /**
   * Moves every parameter and buffer to `device` (and floating ones to `dtype`), replacing the
   * tensors: references taken before the move are disposed.
   */
  to(device: Device, dtype?: "float32" | "float64" | "bfloat16" | "float16"): this {
    const move = (t: Tensor) => {
      const floating = t.dtype === "float32" || t.dtype === "float64" || t.dtype === "float16" ||
        t.dtype === "bfloat16";
      return t.to({ device, dtype: floating ? dtype : undefined });
    };
    for (const [n, t] of this.#params) {
      const moved = keep(noGrad(() => move(t)));
      moved.requiresGrad_(true);
      this.#params.set(n, moved);
      this.#replaced(n, moved);
      t.dispose();
    }
    for (const [n, t] of this.#buffers) {
      const moved = keep(move(t));
      this.#buffers.set(n, moved);
      this.#replaced(n, moved);
      t.dispose();
    }
    for (const c of this.#children.values()) c.to(device, dtype);
    return this;
  }

  /**
   * Re-lays out every 4-D parameter and buffer (convolution weights) in place in `format`, as
   * `torch.nn.Module.to(memory_format=…)`: with channels_last inputs, libtorch's convolutions otherwise
   * reorder NCHW weights on every call. The tensors stay the same objects (optimizers and hooks that
   * hold them stay valid) and keep their values; checkpoints are written in the row-major layout either way.
   */
  toMemoryFormat_(format: MemoryFormat): this {
    for (const t of [...this.parameters(), ...this.buffers()]) if (t.shape.length === 4) t.setMemoryFormat_(format);
    return this;
  }

  /** Keeps a same-named field (e.g. `this.weight`) pointing at a replaced tensor. */
  #replaced(name: string, t: Tensor): void {
    if (name in this) (this as unknown as Record<string, Tensor>)[name] = t;
  }

  /** Frees every parameter and buffer of this module and its children. */
  dispose(): void {
    for (const t of this.#params.values()) t.dispose();
    for (const t of this.#buffers.values()) t.dispose();
    for (const c of this.#children.values()) c.dispose();
  }
}

/**
 * Runs its children in order; they are named "0", "1", … (as `torch.nn.Sequential`).
 */
export class Sequential extends Module {
  readonly #layers: Module[];

  /**
   * A stack of layers.
   *
   * @param layers The modules, applied first to last.
   */
  constructor(layers: Module[]) {
    super();
    this.#layers = layers;
    layers.forEach((m, i) => this.registerModule(String(i), m));
  }

  /** Number of layers. */
  get length(): number {
    return this.#layers.length;
  }

  /** Layer `i`. */
  at(i: number): Module {
    return this.#layers[i];
  }

  /** Applies every layer in order; intermediates are freed. */
  forward(x: Tensor): Tensor {
    let y = x;
    for (const layer of this.#layers) {
      const next = layer.forward(y);
      if (y !== x) y.dispose();
      y = next;
    }
    return y === x ? x.share() : y;
  }
}
