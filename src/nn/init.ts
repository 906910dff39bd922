/**
 * Weight initialisation as `torch.nn.init`: each function fills a tensor in place (under no-grad)
 * from the seeded global generator and returns it.
 *
 * @module
 */
import { noGrad, type Tensor } from "../torch/mod.ts";

/** Fan-in and fan-out of a weight [O, I, k, k] or [O, I] (as torch's `_calculate_fan_in_and_fan_out`). */
export function fans(t: Tensor): { fanIn: number; fanOut: number } {
  const s = t.shape;
  if (s.length < 2) throw new TypeError(`Cannot compute fans of a tensor with fewer than 2 dims: shape [${s}]`);
  const field = s.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: s[1] * field, fanOut: s[0] * field };
}

/** Options of the Kaiming initialisers. */
export interface KaimingOptions {
  /** Negative slope of the leaky ReLU that follows (0 for ReLU). @default 0 */
  a?: number;
  /** Preserve the variance of the forward ("fan_in") or backward ("fan_out") pass. @default "fan_in" */
  mode?: "fan_in" | "fan_out";
}

function kaimingStd(t: Tensor, options: KaimingOptions): number {
  const { a = 0, mode = "fan_in" } = options;
  const { fanIn, fanOut } = fans(t);
  const gain = Math.sqrt(2 / (1 + a * a));
  return gain / Math.sqrt(mode === "fan_in" ? fanIn : fanOut);
}

/**
 * Fills `t` from U(−b, b) with b = gain·√(3/fan), gain = √(2/(1 + a²)) (`kaiming_uniform_`).
 *
 * @example Usage
 * ```ts
 * import { empty } from "@unigrad/unigrad/torch";
 * import { kaimingUniform_ } from "@unigrad/unigrad/nn";
 * import { scope } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * using w = kaimingUniform_(empty([4, 25]), { a: Math.sqrt(5) }); // bound 1/√25
 * assert.ok(scope(() => w.abs().max().item()) <= 0.2);
 * ```
 */
export function kaimingUniform_(t: Tensor, options: KaimingOptions = {}): Tensor {
  const bound = Math.sqrt(3) * kaimingStd(t, options);
  return uniform_(t, -bound, bound);
}

/**
 * Fills `t` from N(0, std²) with std = gain/√fan (`kaiming_normal_`).
 *
 * @example Usage
 * ```ts
 * import { kaimingNormal_ } from "@unigrad/unigrad/nn";
 * import { manualSeed, scope, zeros } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * manualSeed(0);
 * const w = kaimingNormal_(zeros([256, 512])); // std = √(2 / fan_in)
 * const std = scope(() => w.std().item());
 * assert.ok(Math.abs(std - Math.sqrt(2 / 512)) < 0.005);
 * w.dispose();
 * ```
 */
export function kaimingNormal_(t: Tensor, options: KaimingOptions = {}): Tensor {
  const std = kaimingStd(t, options);
  noGrad(() => t.normal_(0, std));
  return t;
}

/**
 * Fills `t` from U(low, high).
 *
 * @example Usage
 * ```ts
 * import { scope, zeros } from "@unigrad/unigrad";
 * import { uniform_ } from "@unigrad/unigrad/nn";
 * import assert from "node:assert/strict";
 *
 * const w = uniform_(zeros([100]), -1, 1);
 * assert.ok(scope(() => w.abs().max().item()) <= 1);
 * w.dispose();
 * ```
 */
export function uniform_(t: Tensor, low: number, high: number): Tensor {
  noGrad(() => t.uniform_(low, high));
  return t;
}

/**
 * Fills `t` with a constant.
 *
 * @example Usage
 * ```ts
 * import { constant_ } from "@unigrad/unigrad/nn";
 * import { zeros } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const w = constant_(zeros([3]), 0.5);
 * assert.deepEqual(w.toArray(), [0.5, 0.5, 0.5]);
 * w.dispose();
 * ```
 */
export function constant_(t: Tensor, value: number): Tensor {
  noGrad(() => t.fill_(value));
  return t;
}
