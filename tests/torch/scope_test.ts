import assert from "node:assert/strict";
import { keep, liveLists, TensorList } from "../../src/torch/mod.ts";
import { liveTensors, noGrad, ones, scope, type Tensor, tensor, TorchError, zeros } from "../../mod.ts";
import { assertClose, noLeaks } from "./_helpers.ts";

Deno.test(
  "scope() frees every tensor made inside except the returned one, which moves to the parent",
  noLeaks(() => {
    const before = liveTensors();
    const y = scope(() => {
      const a = ones([2]);
      const b = a.mul(3);
      return b.add(1);
    });
    assert.equal(liveTensors(), before + 1);
    assert.deepEqual(y.toArray(), [4, 4]);
    y.dispose();
    // The returned tensor is owned by the enclosing scope and freed with it.
    const outer = scope(() => {
      const inner = scope(() => ones([1]).add(1));
      assert.equal(inner.isDisposed, false);
      return inner.mul(5).item();
    });
    assert.equal(outer, 10);
  }),
);

Deno.test(
  "scope() keeps tensors returned inside arrays, plain objects and Maps",
  noLeaks(() => {
    const before = liveTensors();
    const r = scope(() => {
      const t = ones([1]);
      return { list: [t.mul(2), [t.mul(3)]], nested: { deep: t.mul(4) }, map: new Map([["k", t.mul(5)]]), n: 1 };
    });
    assert.equal(liveTensors(), before + 4);
    assert.equal(r.list[0] instanceof Object && (r.list[0] as Tensor).item(), 2);
    assert.equal((r.list[1] as Tensor[])[0].item(), 3);
    assert.equal(r.nested.deep.item(), 4);
    assert.equal(r.map.get("k")!.item(), 5);
    for (const t of [r.list[0] as Tensor, (r.list[1] as Tensor[])[0], r.nested.deep, r.map.get("k")!]) t.dispose();
    // topk's { values, indices } escapes whole.
    const { values, indices } = scope(() => tensor([3, 1, 2]).topk(2));
    assert.deepEqual(values.toArray(), [3, 2]);
    assert.deepEqual(indices.toArray(), [0, 2]);
    values.dispose();
    indices.dispose();
  }),
);

Deno.test(
  "keep() exempts a tensor from every scope until it is disposed by hand",
  noLeaks(() => {
    let kept: Tensor | undefined;
    scope(() => {
      scope(() => {
        kept = keep(ones([2]).mul(2));
      });
    });
    assert.equal(kept!.isDisposed, false);
    assert.deepEqual(kept!.toArray(), [2, 2]);
    kept!.dispose();
    // A kept tensor that is also returned stays the caller's, not the parent scope's.
    let escaped: Tensor | undefined;
    scope(() => {
      escaped = scope(() => keep(ones([1])));
    });
    assert.equal(escaped!.isDisposed, false);
    escaped!.dispose();
  }),
);

Deno.test(
  "scope() frees everything when fn throws, and the error propagates",
  noLeaks(() => {
    const before = liveTensors();
    let made: Tensor | undefined;
    assert.throws(
      () =>
        scope(() => {
          made = ones([3]).add(1);
          ones([2]).mm(ones([3])); // TorchError
        }),
      TorchError,
    );
    assert.equal(liveTensors(), before);
    assert.equal(made!.isDisposed, true);
    // Tensors made before the scope are untouched.
    const outside = ones([1]);
    assert.throws(() =>
      scope(() => {
        outside.add(1);
        throw new RangeError("boom");
      }), RangeError);
    assert.equal(outside.isDisposed, false);
    outside.dispose();
  }),
);

Deno.test(
  "scope() rejects an async fn with a TypeError, frees what it made, and swallows its later rejection",
  noLeaks(async () => {
    const before = liveTensors();
    assert.throws(
      () =>
        scope(async () => {
          ones([1]);
          await Promise.resolve();
          throw new Error("late failure that must not become an unhandled rejection");
        }),
      { name: "TypeError", message: /async/ },
    );
    await new Promise((r) => setTimeout(r, 0));
    assert.equal(liveTensors(), before);
  }),
);

Deno.test(
  "using frees a tensor at the end of its block; dispose() twice is a no-op",
  noLeaks(() => {
    const before = liveTensors();
    {
      using t = ones([2]);
      assert.equal(liveTensors(), before + 1);
      assert.equal(t.isDisposed, false);
    }
    assert.equal(liveTensors(), before);
    const t = ones([1]);
    t.dispose();
    t.dispose();
    assert.equal(t.isDisposed, true);
    assert.equal(`${t}`, "Tensor(disposed)");
    assert.equal(liveTensors(), before);
    // `using` inside a scope: the scope's later dispose is a no-op.
    scope(() => {
      using inner = ones([1]);
      inner.add(1);
    });
    assert.equal(liveTensors(), before);
  }),
);

Deno.test(
  "a disposed tensor throws TorchError with a clear message from every method and getter",
  noLeaks(() => {
    const t = ones([2, 2]);
    const other = ones([2, 2]);
    t.dispose();
    assert.throws(() => t.add(1), { name: "TorchError", message: /Cannot use a tensor after dispose\(\)/ });
    assert.throws(() => other.add(t), TorchError); // as an argument too
    const getters = ["shape", "dtype", "device", "ndim", "numel", "requiresGrad", "isLeaf", "grad"] as const;
    for (const g of getters) assert.throws(() => t[g], TorchError, g);
    const proto = Object.getPrototypeOf(t);
    const skip = new Set(["constructor", "dispose", "toString"]);
    const argsFor: Record<string, unknown[]> = { roll: [[1], [0]], to: ["float64"], where: [other, other] };
    let checked = 0;
    for (const name of Object.getOwnPropertyNames(proto)) {
      const d = Object.getOwnPropertyDescriptor(proto, name)!;
      if (skip.has(name) || typeof d.value !== "function") continue;
      const args = argsFor[name] ?? [1];
      assert.throws(() => d.value.apply(t, args), TorchError, `Tensor.${name}() on a disposed tensor`);
      checked++;
    }
    assert.ok(checked > 100, `checked ${checked} methods`);
    other.dispose();
  }),
);

Deno.test(
  "10,000 training steps in scopes (linear model, MSE, backward, SGD through TensorList, zeroGrad) leak nothing",
  () => {
    const tensors = liveTensors();
    const lists = liveLists();
    // y = x·[1, −2, 0.5] + 0.3, learned by plain SGD.
    const x = keep(tensor([[1, 0, 2], [0, 1, -1], [2, 1, 0], [-1, 3, 1]]));
    const y = keep(tensor([[2.3], [-2.2], [0.3], [-6.2]]));
    const w = keep(zeros([3, 1], { requiresGrad: true }));
    const b = keep(zeros([1], { requiresGrad: true }));
    const params = TensorList.of([w, b]);
    for (let step = 0; step < 10_000; step++) {
      scope(() => {
        const loss = x.matmul(w).add(b).sub(y).square().mean();
        loss.backward();
        using grads = params.grads();
        noGrad(() => params.add_(grads, -0.05));
        params.zeroGrad();
      });
    }
    assertClose(w, [[1], [-2], [0.5]], { atol: 1e-3 });
    assertClose(b, [0.3], { atol: 1e-3 });
    params.dispose();
    for (const t of [x, y, w, b]) t.dispose();
    assert.equal(liveTensors(), tensors);
    assert.equal(liveLists(), lists);
  },
);

Deno.test(
  "scope() refuses an async fn before running it, so nothing made after an await leaks",
  noLeaks(async () => {
    const before = liveTensors();
    let ran = false;
    assert.throws(() =>
      scope(async () => {
        ran = true;
        await Promise.resolve();
        return ones([1]).add(1);
      }), { name: "TypeError", message: /async/ });
    await new Promise((r) => setTimeout(r, 0));
    assert.equal(ran, false);
    assert.equal(liveTensors(), before);
  }),
);
