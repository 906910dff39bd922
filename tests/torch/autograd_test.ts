import assert from "node:assert/strict";
import {
  affineGrid,
  autograd,
  batchNorm,
  conv2d,
  crossEntropy,
  enableGrad,
  gridSample,
  interpolate,
  isGradEnabled,
  layerNorm,
  logSoftmax,
  maxPool2d,
  softmax,
} from "../../src/torch/mod.ts";
import { backward, noGrad, normalize, ones, scope, type Tensor, tensor, TorchError, zeros } from "../../mod.ts";
import { assertClose, flat, gradcheck, noLeaks } from "./_helpers.ts";

/** A float64 leaf with requiresGrad, filled with sin(1.3·i + offset) (no RNG). */
function leaf(shape: number[], offset = 0): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = Float64Array.from({ length: n }, (_, i) => Math.sin(1.3 * i + offset));
  return tensor(data, { shape, requiresGrad: true });
}

/** A fixed weighting, so that a vector output becomes a scalar with a non-trivial gradient. */
function weighted(y: Tensor): Tensor {
  const w = tensor(Float64Array.from({ length: y.numel }, (_, i) => Math.cos(0.7 * i)), { shape: y.shape });
  return y.mul(w).sum();
}

Deno.test(
  "gradients match finite differences in float64: matmul, conv2d, softmax, logSoftmax, normalize",
  noLeaks(() =>
    scope(() => {
      gradcheck(([a, b]) => weighted(a.matmul(b)), [leaf([2, 3]), leaf([3, 2], 1)]);
      gradcheck(
        ([x, w, b]) => weighted(conv2d(x, w, b, { stride: 2, padding: 1 })),
        [leaf([1, 2, 4, 4]), leaf([2, 2, 3, 3], 1), leaf([2], 2)],
      );
      gradcheck(([x]) => weighted(softmax(x, 1)), [leaf([2, 3])]);
      gradcheck(([x]) => weighted(logSoftmax(x, 0)), [leaf([2, 3])]);
      gradcheck(([x]) => weighted(normalize(x, 1)), [leaf([2, 3])]);
    })
  ),
);

Deno.test(
  "gradients match finite differences in float64: batchNorm, layerNorm, crossEntropy (label smoothing)",
  noLeaks(() =>
    scope(() => {
      gradcheck(
        ([x, w, b]) => weighted(batchNorm(x, { weight: w, bias: b })),
        [leaf([3, 2, 2, 1]), leaf([2], 1), leaf([2], 2)],
        { atol: 1e-5 },
      );
      gradcheck(([x, w, b]) => weighted(layerNorm(x, [3], w, b)), [leaf([2, 3]), leaf([3], 1), leaf([3], 2)]);
      const target = tensor([2, 0], { dtype: "int64" });
      gradcheck(([x]) => crossEntropy(x, target, "mean", 0.1), [leaf([2, 3])]);
      gradcheck(([x]) => crossEntropy(x, target, "sum"), [leaf([2, 3])]);
    })
  ),
);

Deno.test(
  "gradients match finite differences in float64: gridSample, affineGrid, maxPool2d, interpolate",
  noLeaks(() =>
    scope(() => {
      // Grid points away from pixel centres, so bilinear sampling is smooth at them.
      const grid = tensor(Float64Array.from([-0.61, -0.33, 0.27, -0.58, -0.13, 0.41, 0.52, 0.18]), {
        shape: [1, 2, 2, 2],
        requiresGrad: true,
      });
      gradcheck(([x, g]) => weighted(gridSample(x, g)), [leaf([1, 2, 3, 3]), grid]);
      const theta = tensor(Float64Array.from([0.9, -0.2, 0.05, 0.1, 0.8, -0.07]), {
        shape: [1, 2, 3],
        requiresGrad: true,
      });
      gradcheck(([t]) => weighted(affineGrid(t, [1, 1, 2, 3])), [theta]);
      gradcheck(([x]) => weighted(maxPool2d(x, 2)), [leaf([1, 1, 4, 4])]); // distinct values: no ties
      gradcheck(([x]) => weighted(interpolate(x, [3, 5])), [leaf([1, 1, 2, 3])]);
    })
  ),
);

Deno.test(
  "Tensor.backward() gives hand-derived gradients and accumulates across calls",
  noLeaks(() =>
    scope(() => {
      const x = tensor([1, 2, 3], { dtype: "float64", requiresGrad: true });
      x.pow(3).sum().backward(); // d/dx Σx³ = 3x²
      assert.deepEqual(x.grad!.toArray(), [3, 12, 27]);
      x.mul(2).sum().backward(); // accumulates: + 2
      assert.deepEqual(x.grad!.toArray(), [5, 14, 29]);
      // A non-scalar output needs a seed gradient: x·x seeded with g gives 2x·g.
      x.setGrad(null);
      x.mul(x).backward(tensor([1, 0, -1], { dtype: "float64" }));
      assert.deepEqual(x.grad!.toArray(), [2, 0, -6]);
      assert.throws(() => x.mul(x).backward(), TorchError); // not a scalar and no seed
      // Linear layer: d(Σ W·x)/dW = 1·xᵀ.
      const w = zeros([2, 3], { dtype: "float64", requiresGrad: true });
      const input = tensor([[1, 2, 3]], { dtype: "float64" });
      input.matmul(w.t()).sum().backward();
      assert.deepEqual(w.grad!.toArray(), [[1, 2, 3], [1, 2, 3]]);
    })
  ),
);

Deno.test(
  "backward() over several tensors applies one seed per tensor",
  noLeaks(() =>
    scope(() => {
      const x = tensor([1, 2], { dtype: "float64", requiresGrad: true });
      const u1 = x.mul(3);
      const u2 = x.square();
      const scalar = x.sum();
      backward([u1, u2, scalar], [tensor([1, 1], { dtype: "float64" }), tensor([1, -1], { dtype: "float64" }), null]);
      // 3·[1,1] + 2x·[1,−1] + 1 = [3 + 2 + 1, 3 − 4 + 1].
      assert.deepEqual(x.grad!.toArray(), [6, 0]);
      assert.throws(() => backward([u1], []), TypeError);
    })
  ),
);

Deno.test(
  "autograd.grad returns gradients without touching .grad, with allowUnused and createGraph",
  noLeaks(() =>
    scope(() => {
      const x = tensor([2], { dtype: "float64", requiresGrad: true });
      const y = tensor([5], { dtype: "float64", requiresGrad: true });
      const unused = tensor([1], { dtype: "float64", requiresGrad: true });
      const out = x.mul(y).sum();
      const [dx, dy] = autograd.grad([out], [x, y], null, { retainGraph: true });
      assert.deepEqual(dx!.toArray(), [5]);
      assert.deepEqual(dy!.toArray(), [2]);
      assert.equal(x.grad, null);
      assert.throws(() => autograd.grad([out], [unused], null, { retainGraph: true }), TorchError);
      const [none] = autograd.grad([out], [unused], null, { allowUnused: true, retainGraph: true });
      assert.equal(none, null);
      const seeded = autograd.grad([x.mul(y)], [x], [tensor([3], { dtype: "float64" })]);
      assert.deepEqual(seeded[0]!.toArray(), [15]);
      assert.throws(() => autograd.grad([out, out], [x], [null]), TypeError);
      // Second derivative of x³ at 2: first 3x² = 12, then 6x = 12.
      const [d1] = autograd.grad([x.pow(3).sum()], [x], null, { createGraph: true });
      assert.deepEqual(d1!.toArray(), [12]);
      const [d2] = autograd.grad([d1!.sum()], [x]);
      assert.deepEqual(d2!.toArray(), [12]);
    })
  ),
);

Deno.test(
  "a second backward through a freed graph throws TorchError unless retainGraph, and work goes on",
  noLeaks(() =>
    scope(() => {
      const x = tensor([1, 2], { requiresGrad: true });
      const loss = x.exp().sum();
      loss.backward(undefined, { retainGraph: true });
      loss.backward(); // allowed: the graph was kept
      assertClose(x.grad!, flat(x.exp().mul(2)), { atol: 1e-5 });
      assert.throws(() => loss.backward(), { name: "TorchError", message: /backward.*second time/s });
      const again = x.mul(2).sum();
      again.backward();
      assertClose(x.grad!, flat(x.exp().mul(2).add(2)), { atol: 1e-5 });
    })
  ),
);

Deno.test(
  "noGrad and enableGrad switch recording and restore it, also after a throw",
  noLeaks(() =>
    scope(() => {
      const w = ones([2], { requiresGrad: true });
      assert.equal(isGradEnabled(), true);
      const y = noGrad(() => {
        assert.equal(isGradEnabled(), false);
        const inner = enableGrad(() => {
          assert.equal(isGradEnabled(), true);
          return w.mul(2);
        });
        assert.equal(isGradEnabled(), false);
        assert.equal(inner.requiresGrad, true);
        return w.mul(3);
      });
      assert.equal(y.requiresGrad, false);
      assert.equal(isGradEnabled(), true);
      assert.throws(() =>
        noGrad(() => {
          throw new Error("boom");
        })
      );
      assert.equal(isGradEnabled(), true);
      // Parameter updates under noGrad: in-place on a leaf that requires grad.
      noGrad(() => w.sub_(1));
      assert.deepEqual(w.toArray(), [0, 0]);
      assert.throws(() => w.sub_(1), TorchError); // outside noGrad, as PyTorch
    })
  ),
);

Deno.test(
  "requiresGrad, isLeaf, requiresGrad_(), detach(), retainGrad() and setGrad()",
  noLeaks(() =>
    scope(() => {
      const x = tensor([1, 2]);
      assert.equal(x.requiresGrad, false);
      assert.equal(x.requiresGrad_(), x);
      assert.equal(x.requiresGrad, true);
      const y = x.mul(2);
      assert.equal(y.requiresGrad, true);
      assert.equal(y.isLeaf, false);
      assert.equal(x.isLeaf, true);
      assert.throws(() => y.requiresGrad_(false), TorchError); // only leaves
      const d = y.detach();
      assert.equal(d.requiresGrad, false);
      assert.equal(d.isLeaf, true);
      y.retainGrad();
      y.sum().backward();
      assert.deepEqual(y.grad!.toArray(), [1, 1]);
      assert.deepEqual(x.grad!.toArray(), [2, 2]);
      x.setGrad(tensor([7, 8]));
      assert.deepEqual(x.grad!.toArray(), [7, 8]);
      x.setGrad(null);
      assert.equal(x.grad, null);
      assert.throws(() => x.setGrad(tensor([1, 2, 3])), { name: "TypeError", message: /shape \[3\]/ });
      assert.throws(() => x.setGrad(tensor([1, 2], { dtype: "float64" })), { name: "TypeError", message: /float64/ });
      assert.throws(() => tensor([1], { dtype: "int64" }).requiresGrad_(), TorchError);
      assert.throws(() => tensor([1]).retainGrad(), TorchError);
      // The grad getter returns a new handle each time: both stay valid until disposed.
      x.sum().backward();
      const g1 = x.grad!;
      const g2 = x.grad!;
      g1.dispose();
      assert.deepEqual(g2.toArray(), [1, 1]);
    })
  ),
);
