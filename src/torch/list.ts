/**
 * `TensorList`: a persistent native list of tensors for `_foreach_*` ops, so an optimizer or EMA
 * update over every parameter is one call instead of a JavaScript loop of small ops.
 *
 * @module
 */
import { check, checkHandle, HANDLE, handles, sym } from "./_handle.ts";
import { TorchError } from "./errors.ts";
import { Tensor } from "./tensor.ts";

/**
 * A list of tensors held natively (sharing storage with the originals): in-place ops on the list
 * change the tensors it was made from. Free it with `dispose()` or `using`; scopes do not track lists.
 *
 * @example Usage
 * ```ts
 * import { ones, zeros } from "@unigrad/unigrad";
 * import { TensorList } from "@unigrad/unigrad/torch";
 * import assert from "node:assert/strict";
 *
 * using a = zeros([2]);
 * using b = ones([2]);
 * using target = TensorList.of([a]);
 * using online = TensorList.of([b]);
 * target.lerp_(online, 0.25); // EMA: a += 0.25·(b − a)
 * assert.deepEqual(a.toArray(), [0.25, 0.25]);
 * ```
 */
export class TensorList {
  #h: Deno.PointerObject | null;

  private constructor(handle: Deno.PointerObject) {
    this.#h = handle;
  }

  /** A list over the given tensors. */
  static of(tensors: readonly Tensor[]): TensorList {
    return new TensorList(checkHandle(sym.ts_list_new(handles(tensors), tensors.length), "TensorList.of"));
  }

  get #handle(): Deno.PointerObject {
    if (this.#h === null) throw new TorchError("TensorList", "Cannot use a TensorList after dispose()");
    return this.#h;
  }

  /** The live native handle (internal to src/torch; throws after dispose). */
  get [HANDLE](): Deno.PointerObject {
    return this.#handle;
  }

  /** Number of tensors. */
  get length(): number {
    return sym.ts_list_len(this.#handle);
  }

  /** A new handle to entry `i` (null when the entry is undefined). */
  get(i: number): Tensor | null {
    const p = sym.ts_list_get(this.#handle, i);
    if (p === null && !(i >= 0 && i < this.length)) throw new RangeError(`TensorList index ${i} out of range`);
    return p === null ? null : new Tensor(p);
  }

  /** A list of each entry's `.grad` (zeros for missing gradients when `zerosForMissing`). */
  grads(zerosForMissing = false): TensorList {
    return new TensorList(checkHandle(sym.ts_list_grads(this.#handle, zerosForMissing ? 1 : 0), "grads"));
  }

  /** Clears every entry's `.grad` (set to none). */
  zeroGrad(): void {
    check(sym.ts_list_zero_grad(this.#handle), "zeroGrad");
  }

  /** x[i] += alpha·other[i], or x[i] += other for a number. */
  add_(other: TensorList | number, alpha = 1): this {
    check(
      typeof other === "number"
        ? sym.ts_foreach_add_scalar_(this.#handle, other * alpha)
        : sym.ts_foreach_add_(this.#handle, other.#handle, alpha),
      "foreach_add_",
    );
    return this;
  }

  /** x[i] *= other[i], or x[i] *= other for a number. */
  mul_(other: TensorList | number): this {
    check(
      typeof other === "number"
        ? sym.ts_foreach_mul_scalar_(this.#handle, other)
        : sym.ts_foreach_mul_(this.#handle, other.#handle),
      "foreach_mul_",
    );
    return this;
  }

  /** x[i] = 0. */
  zero_(): this {
    check(sym.ts_foreach_zero_(this.#handle), "foreach_zero_");
    return this;
  }

  /** x[i] += value·a[i]·b[i]. */
  addcmul_(a: TensorList, b: TensorList, value = 1): this {
    check(sym.ts_foreach_addcmul_(this.#handle, a.#handle, b.#handle, value), "foreach_addcmul_");
    return this;
  }

  /** x[i] += value·a[i]/b[i]. */
  addcdiv_(a: TensorList, b: TensorList, value = 1): this {
    check(sym.ts_foreach_addcdiv_(this.#handle, a.#handle, b.#handle, value), "foreach_addcdiv_");
    return this;
  }

  /** x[i] = sqrt(x[i]). */
  sqrt_(): this {
    check(sym.ts_foreach_sqrt_(this.#handle), "foreach_sqrt_");
    return this;
  }

  /** x[i] += weight·(end[i] − x[i]) (the EMA update). */
  lerp_(end: TensorList, weight: number): this {
    check(sym.ts_foreach_lerp_(this.#handle, end.#handle, weight), "foreach_lerp_");
    return this;
  }

  /** x[i] = src[i]. */
  copy_(src: TensorList): this {
    check(sym.ts_foreach_copy_(this.#handle, src.#handle), "foreach_copy_");
    return this;
  }

  /** The 2-norm of every entry, as 0-d tensors. */
  norms(): Tensor[] {
    const list = new TensorList(checkHandle(sym.ts_foreach_norm(this.#handle), "foreach_norm"));
    try {
      return Array.from({ length: list.length }, (_, i) => list.get(i)!);
    } finally {
      list.dispose();
    }
  }

  /** Frees the native list (the tensors it refers to stay alive). */
  dispose(): void {
    if (this.#h !== null) {
      sym.ts_list_free(this.#h);
      this.#h = null;
    }
  }

  /** Frees the list at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}
