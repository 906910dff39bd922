import assert from "node:assert/strict";
import { liveLists, TensorList } from "../../src/torch/mod.ts";
import { noGrad, ones, scope, tensor, TorchError, zeros } from "../../mod.ts";
import { assertClose, noLeaks } from "./_helpers.ts";

const f64 = { dtype: "float64" } as const;

Deno.test(
  "TensorList.of() shares storage: in-place list ops change the original tensors",
  noLeaks(() =>
    scope(() => {
      const a = tensor([1, 2], f64);
      const b = tensor([[3]], f64);
      using x = TensorList.of([a, b]);
      assert.equal(x.length, 2);
      x.mul_(2);
      assert.deepEqual(a.toArray(), [2, 4]);
      assert.deepEqual(b.toArray(), [[6]]);
      assert.deepEqual(x.get(1)!.toArray(), [[6]]);
      assert.throws(() => x.get(2), RangeError);
      assert.throws(() => x.get(-1), RangeError);
    })
  ),
);

Deno.test(
  "TensorList foreach ops: add_, mul_, zero_, addcmul_, addcdiv_, sqrt_, lerp_, copy_, norms",
  noLeaks(() =>
    scope(() => {
      const a = tensor([1, 4], f64);
      const b = tensor([9], f64);
      const c = tensor([2, 2], f64);
      const d = tensor([3], f64);
      using x = TensorList.of([a, b]);
      using y = TensorList.of([c, d]);
      assert.equal(x.add_(y, 0.5), x);
      assert.deepEqual([a.toArray(), b.toArray()], [[2, 5], [10.5]]);
      x.add_(1);
      assert.deepEqual([a.toArray(), b.toArray()], [[3, 6], [11.5]]);
      x.mul_(y);
      assert.deepEqual([a.toArray(), b.toArray()], [[6, 12], [34.5]]);
      x.addcmul_(y, y, -1); // x − y²
      assert.deepEqual([a.toArray(), b.toArray()], [[2, 8], [25.5]]);
      x.addcdiv_(y, y, 2); // + 2
      assert.deepEqual([a.toArray(), b.toArray()], [[4, 10], [27.5]]);
      x.lerp_(y, 0.25); // EMA toward y: x + 0.25·(y − x)
      assertClose(a, [3.5, 8]);
      assertClose(b, [21.375]);
      x.copy_(y);
      assert.deepEqual([a.toArray(), b.toArray()], [[2, 2], [3]]);
      x.mul_(y).sqrt_();
      assertClose(a, [2, 2]);
      assertClose(b, [3]);
      const norms = x.norms();
      assert.equal(norms.length, 2);
      assertClose(norms[0], Math.sqrt(8), { atol: 1e-12 });
      assert.deepEqual(norms[0].shape, []);
      assertClose(norms[1], 3);
      x.zero_();
      assert.deepEqual([a.toArray(), b.toArray()], [[0, 0], [0]]);
      using short = TensorList.of([a]);
      assert.throws(() => x.add_(short), TorchError);
      assert.throws(() => x.copy_(short), { name: "TorchError", message: /lists of 2 and 1 tensors/ });
      assert.throws(() => x.lerp_(short, 0.5), TorchError);
    })
  ),
);

Deno.test(
  "TensorList.grads() and zeroGrad() read and clear the gradients of parameters",
  noLeaks(() =>
    scope(() => {
      const w = ones([2], { requiresGrad: true });
      const v = ones([1], { requiresGrad: true });
      using params = TensorList.of([w, v]);
      assert.throws(() => params.grads(), { name: "TorchError", message: /no gradient/ });
      using zerosForMissing = params.grads(true);
      assert.deepEqual(zerosForMissing.get(0)!.toArray(), [0, 0]);
      w.mul(3).sum().backward();
      using partial = params.grads(true);
      assert.deepEqual(partial.get(0)!.toArray(), [3, 3]);
      assert.deepEqual(partial.get(1)!.toArray(), [0]);
      v.mul(2).sum().backward();
      using grads = params.grads();
      noGrad(() => params.add_(grads, -0.5)); // SGD step
      assert.deepEqual(w.toArray(), [-0.5, -0.5]);
      assert.deepEqual(v.toArray(), [0]);
      grads.mul_(0); // the list holds the .grad tensors themselves
      assert.deepEqual(w.grad!.toArray(), [0, 0]);
      params.zeroGrad();
      assert.equal(w.grad, null);
      assert.equal(v.grad, null);
    })
  ),
);

Deno.test(
  "TensorList disposal: liveLists() accounting, use after dispose throws TorchError, double dispose is a no-op",
  noLeaks(() =>
    scope(() => {
      const before = liveLists();
      const a = zeros([1]);
      const list = TensorList.of([a]);
      assert.equal(liveLists(), before + 1);
      list.dispose();
      list.dispose();
      assert.equal(liveLists(), before);
      assert.throws(() => list.length, { name: "TorchError", message: /after dispose/ });
      assert.throws(() => list.mul_(2), TorchError);
      using other = TensorList.of([a]);
      assert.throws(() => other.add_(list), TorchError);
      a.dispose();
      assert.throws(() => TensorList.of([a]), TorchError); // a disposed tensor
      // The list holds its own references: entries outlive the handles they were made from.
      const b = ones([2]);
      using kept = TensorList.of([b]);
      b.dispose();
      assert.deepEqual(kept.get(0)!.toArray(), [1, 1]);
      {
        using scoped = TensorList.of([]);
        assert.equal(scoped.length, 0);
      }
    })
  ),
);
