/**
 * Parameter-free layers for `Sequential`s: `ReLU`, `Identity`, `Flatten`.
 *
 * @module
 */
import type { Tensor } from "../torch/mod.ts";
import { Module } from "./module.ts";

/**
 * max(x, 0). With `inplace` it overwrites its input (as `nn.ReLU(inplace=True)`) and returns a new
 * handle to it: safe after Linear, Conv2d and BatchNorm, whose backward passes do not read their output.
 *
 * @example Usage
 * ```ts
 * import { ReLU } from "@unigrad/unigrad/nn";
 * import { tensor } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * using x = tensor([-1, 2]);
 * using y = new ReLU().forward(x);
 * assert.deepEqual(y.toArray(), [0, 2]);
 * ```
 */
export class ReLU extends Module {
  readonly #inplace: boolean;

  /**
   * Makes a ReLU layer.
   *
   * @param inplace Overwrite the input. @default false
   */
  constructor(inplace = false) {
    super();
    this.#inplace = inplace;
  }

  /** x → max(x, 0). */
  forward(x: Tensor): Tensor {
    return this.#inplace ? x.relu_().share() : x.relu();
  }
}

/**
 * Returns its input (a new handle to it): a placeholder, e.g. a ResNet without a classifier.
 *
 * @example Usage
 * ```ts
 * import { Identity } from "@unigrad/unigrad/nn";
 * import { scope, tensor } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(scope(() => new Identity().forward(tensor([1, 2])).toArray()), [1, 2]);
 * ```
 */
export class Identity extends Module {
  /** x → x. */
  forward(x: Tensor): Tensor {
    return x.share();
  }
}

/**
 * [N, d1, d2, …] → [N, d1·d2·…] (as `nn.Flatten()`).
 *
 * @example Usage
 * ```ts
 * import { Flatten } from "@unigrad/unigrad/nn";
 * import { ones, scope } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(scope(() => new Flatten().forward(ones([2, 3, 4, 4])).shape), [2, 48]);
 * ```
 */
export class Flatten extends Module {
  /** Flattens every dim after the first. */
  forward(x: Tensor): Tensor {
    return x.flatten(1);
  }
}
