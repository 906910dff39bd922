/**
 * Autograd beyond `Tensor.backward()`: grad-mode scopes, backward over several tensors, and
 * `autograd.grad` for tests and custom gradients (tensor math only: no JS callbacks from libtorch).
 *
 * @module
 */
import { check, checkHandle, handles, sym } from "./_handle.ts";
import { Tensor } from "./tensor.ts";

function withGradMode<T>(on: boolean, fn: () => T): T {
  const before = sym.ts_is_grad_enabled();
  check(sym.ts_set_grad_enabled(on ? 1 : 0), "setGradEnabled");
  try {
    return fn();
  } finally {
    sym.ts_set_grad_enabled(before);
  }
}

/**
 * Runs `fn` without recording operations for autograd (as `torch.no_grad()`).
 *
 * @example Usage
 * ```ts
 * import { noGrad, ones } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * using w = ones([2], { requiresGrad: true });
 * using y = noGrad(() => w.mul(2));
 * assert.equal(y.requiresGrad, false);
 * ```
 */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn);
}

/**
 * Runs `fn` with gradient recording on, even inside `noGrad`.
 *
 * @example Usage
 * ```ts
 * import { enableGrad, isGradEnabled } from "@unigrad/unigrad/torch";
 * import { noGrad } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * assert.equal(noGrad(() => enableGrad(() => isGradEnabled())), true);
 * ```
 */
export function enableGrad<T>(fn: () => T): T {
  return withGradMode(true, fn);
}

/**
 * Whether operations are being recorded on this thread.
 *
 * @example Usage
 * ```ts
 * import { isGradEnabled } from "@unigrad/unigrad/torch";
 * import { noGrad } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isGradEnabled(), true);
 * assert.equal(noGrad(() => isGradEnabled()), false);
 * ```
 */
export function isGradEnabled(): boolean {
  return sym.ts_is_grad_enabled() === 1;
}

/** Options of `backward` and `grad`. */
export interface BackwardOptions {
  /** Keep the graph for another backward pass. @default false */
  retainGraph?: boolean;
  /** Record the backward pass itself (higher-order gradients). @default false */
  createGraph?: boolean;
}

/**
 * Backpropagates from several tensors at once; `grads[i]` seeds `tensors[i]` (null for a scalar).
 * This is how a method's gradient g is applied to features u: `backward([u1, u2], [g1, g2])`.
 *
 * @example Usage
 * ```ts
 * import { backward, ones, tensor } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * using x = tensor([1, 2], { requiresGrad: true });
 * using y = x.mul(3);
 * using g = ones([2]);
 * backward([y], [g]);
 * using dx = x.grad!;
 * assert.deepEqual(dx.toArray(), [3, 3]);
 * ```
 */
export function backward(
  tensors: readonly Tensor[],
  grads: readonly (Tensor | null)[] | null = null,
  options: BackwardOptions = {},
): void {
  if (grads !== null && grads.length !== tensors.length) {
    throw new TypeError(`backward needs one gradient per tensor, got ${grads.length} for ${tensors.length}`);
  }
  check(
    sym.ts_backward(
      handles(tensors),
      grads === null ? null : handles(grads),
      tensors.length,
      options.retainGraph ? 1 : 0,
      options.createGraph ? 1 : 0,
    ),
    "backward",
  );
}

/**
 * Gradients of `outputs` (seeded by `grads`, or scalars) with respect to `inputs`, without touching
 * `.grad` (as `torch.autograd.grad`). An input the outputs do not depend on gives null when
 * `allowUnused` is set.
 */
export function grad(
  outputs: readonly Tensor[],
  inputs: readonly Tensor[],
  grads: readonly (Tensor | null)[] | null = null,
  options: BackwardOptions & { allowUnused?: boolean } = {},
): (Tensor | null)[] {
  if (grads !== null && grads.length !== outputs.length) {
    throw new TypeError(`grad needs one gradient per output, got ${grads.length} for ${outputs.length}`);
  }
  const list = checkHandle(
    sym.ts_autograd_grad(
      handles(outputs),
      grads === null ? null : handles(grads),
      outputs.length,
      handles(inputs),
      inputs.length,
      options.retainGraph ? 1 : 0,
      options.createGraph ? 1 : 0,
      options.allowUnused ? 1 : 0,
    ),
    "grad",
  );
  try {
    return inputs.map((_, i) => {
      const p = sym.ts_list_get(list, i);
      return p === null ? null : new Tensor(p);
    });
  } finally {
    sym.ts_list_free(list);
  }
}
