/**
 * Keeps a non-finite step out of the training state without a host sync per step: before the step
 * the guarded tensors (weights, BN statistics, optimizer buffers, method state) are copied aside;
 * after it a finite flag is computed on the device (gradient norms, the step's statistics, the
 * method state) and every guarded tensor becomes `where(finite, new, saved)`. A skipped step is
 * counted on the device too; `counts()` reads the counters (one sync: call it at logging steps).
 *
 * The host-side counters (optimizer step count, the method's step and queue pointer) still advance
 * on a skipped step: the skipped step acts as a step with no update.
 *
 * @module
 */
import { full, keep, noGrad, scope, stack, type Tensor, TensorList } from "../torch/mod.ts";

/** Non-finite steps so far. */
export interface NonFiniteCounts {
  /** Steps skipped because something was not finite. */
  skipped: number;
  /** Skipped steps in a row, up to the last step (0 after a finite step). */
  consecutive: number;
}

/**
 * Snapshots tensors before a step and restores them after a non-finite one (see the module doc).
 *
 * @example Usage
 * ```ts
 * import { full } from "@unigrad/unigrad/torch";
 * import { noGrad, ones } from "@unigrad/unigrad";
 * import { NonFiniteGuard } from "@unigrad/unigrad/ssl";
 * import assert from "node:assert/strict";
 *
 * using w = ones([2], { requiresGrad: true });
 * const guard = new NonFiniteGuard([w], [w]);
 * guard.begin();
 * noGrad(() => w.mul_(2)); // an update ...
 * using nan = full([], NaN);
 * guard.end([nan]); // ... from a step whose loss was NaN: undone on the device
 * assert.deepEqual(w.toArray(), [1, 1]);
 * assert.deepEqual(guard.counts(), { skipped: 1, consecutive: 1 });
 * guard.dispose();
 * ```
 */
export class NonFiniteGuard {
  readonly #live: Tensor[];
  readonly #saved: Tensor[];
  readonly #liveList: TensorList;
  readonly #savedList: TensorList;
  readonly #checked: TensorList;
  readonly #values: Tensor[];
  readonly #skipped: Tensor;
  readonly #run: Tensor;

  /**
   * A guard over `guarded` (restored after a non-finite step) that checks the gradients of `checked`
   * and the values of `values` after each step.
   *
   * @param guarded The tensors a step changes: parameters, buffers, optimizer and method state.
   * @param checked The parameters whose gradients must be finite.
   * @param values Tensors that must be finite after the step (the method state: F, the queue).
   */
  constructor(guarded: readonly Tensor[], checked: readonly Tensor[], values: readonly Tensor[] = []) {
    this.#values = [...values];
    this.#live = [...new Set(guarded)];
    this.#saved = noGrad(() => scope(() => this.#live.map((t) => keep(t.detach().clone()))));
    this.#liveList = TensorList.of(this.#live);
    this.#savedList = TensorList.of(this.#saved);
    this.#checked = TensorList.of(checked);
    const device = this.#live[0]?.device ?? "cpu";
    this.#skipped = keep(full([], 0, { dtype: "int64", device }));
    this.#run = keep(full([], 0, { dtype: "int64", device }));
  }

  /** Before the step: copies the guarded tensors aside (one fused copy). */
  begin(): void {
    noGrad(() => this.#savedList.copy_(this.#liveList));
  }

  /**
   * After the optimizer and EMA updates: restores every guarded tensor where the step was not
   * finite (its gradients, `extra` such as the loss and statistics, or the guarded tensors), and
   * counts it. No host sync.
   *
   * @param extra More 0-d or small tensors of the step that must be finite.
   * @param ranks With data parallelism: sums a [1] tensor over the ranks in place, so that a step any
   *   rank finds non-finite is skipped on every rank (the features and statistics checked are the rank's own).
   */
  end(extra: readonly Tensor[] = [], ranks?: { allReduceSum_(x: Tensor): void }): void {
    noGrad(() =>
      scope(() => {
        const grads = this.#checked.grads(true);
        const parts = [...grads.norms(), ...extra, ...this.#values].map((t) => t.sum().to({ dtype: "float32" }));
        grads.dispose();
        let bad = stack(parts).sum().isfinite().logicalNot().to({ dtype: "float32" }).view([1]); // [1], on the device
        ranks?.allReduceSum_(bad); // the number of ranks whose step was not finite
        const ok = bad.view([]).eq(0); // [] bool: no sync
        for (let i = 0; i < this.#live.length; i++) this.#live[i].copy_(this.#live[i].where(ok, this.#saved[i]));
        bad = ok.logicalNot().to({ dtype: "int64" });
        this.#skipped.add_(bad);
        this.#run.add_(1).mul_(bad);
      })
    );
  }

  /** The counters (reads two numbers from the device: a sync). */
  counts(): NonFiniteCounts {
    return { skipped: Number(this.#skipped.item()), consecutive: Number(this.#run.item()) };
  }

  /** Frees the copies and lists (not the guarded tensors). */
  dispose(): void {
    this.#liveList.dispose();
    this.#savedList.dispose();
    this.#checked.dispose();
    for (const t of this.#saved) t.dispose();
    this.#skipped.dispose();
    this.#run.dispose();
  }
}
