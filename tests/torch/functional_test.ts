import assert from "node:assert/strict";
import {
  adaptiveAvgPool2d,
  affineGrid,
  avgPool2d,
  batchNorm,
  conv2d,
  crossEntropy,
  dropout,
  eigh,
  eye,
  full,
  gridSample,
  interpolate,
  inv,
  layerNorm,
  logSoftmax,
  maxPool2d,
  mseLoss,
  oneHot,
  pad,
  relu,
  softmax,
  svdvals,
  where,
} from "../../src/torch/mod.ts";
import { cat, linear, manualSeed, normalize, ones, scope, stack, tensor, TorchError, zeros } from "../../mod.ts";
import { assertClose, fromGolden, loadGolden, noLeaks } from "./_helpers.ts";

const golden = loadGolden("functional");
const tight = { atol: 1e-12, rtol: 1e-10 };

Deno.test(
  "cat, stack and where join and select tensors",
  noLeaks(() =>
    scope(() => {
      const a = tensor([[1, 2]]);
      const b = tensor([[3, 4]]);
      assert.deepEqual(cat([a, b]).toArray(), [[1, 2], [3, 4]]);
      assert.deepEqual(cat([a, b], 1).toArray(), [[1, 2, 3, 4]]);
      assert.deepEqual(cat([a, b], -1).shape, [1, 4]);
      assert.deepEqual(stack([a, b]).shape, [2, 1, 2]);
      assert.deepEqual(stack([a, b], 2).toArray(), [[[1, 3], [2, 4]]]);
      assert.deepEqual(where(tensor([[true], [false]]), a, b).toArray(), [[1, 2], [3, 4]]); // broadcast
      assert.throws(() => cat([]), TypeError);
      assert.throws(() => stack([]), TypeError);
      assert.throws(() => cat([a, tensor([1, 2, 3])]), TorchError);
    })
  ),
);

Deno.test(
  "conv2d matches PyTorch (bias, stride, padding; groups, dilation)",
  noLeaks(() =>
    scope(() => {
      const g = golden.conv2d;
      const out = conv2d(fromGolden(g.x), fromGolden(g.w), fromGolden(g.b), { stride: 2, padding: 1 });
      assertClose(out, g.out, tight);
      const h = golden.conv2d_groups;
      const grouped = conv2d(fromGolden(h.x), fromGolden(h.w), null, { padding: 2, dilation: 2, groups: 2 });
      assertClose(grouped, h.out, tight);
      // float32 and channels_last give the same numbers.
      const x32 = fromGolden(g.x, { dtype: "float32" }).contiguous("channels_last");
      const out32 = conv2d(x32, fromGolden(g.w, { dtype: "float32" }), fromGolden(g.b, { dtype: "float32" }), {
        stride: 2,
        padding: 1,
      });
      assertClose(out32, g.out, { atol: 1e-5, rtol: 1e-5 });
    })
  ),
);

Deno.test(
  "batchNorm in training uses batch statistics and updates running stats (momentum 0.1, unbiased var)",
  noLeaks(() =>
    scope(() => {
      const g = golden.batch_norm_train;
      const x = fromGolden(g.x);
      const runningMean = full([3], 0.5, { dtype: "float64" });
      const runningVar = full([3], 2, { dtype: "float64" });
      const out = batchNorm(x, { weight: fromGolden(g.w), bias: fromGolden(g.b), runningMean, runningVar });
      assertClose(out, g.out, tight);
      assertClose(runningMean, g.running_mean_after, tight);
      assertClose(runningVar, g.running_var_after, tight);
      // The same by hand: rm ← 0.9·rm + 0.1·mean, rv ← 0.9·rv + 0.1·var_unbiased over N·H·W = 16.
      const mean = x.mean([0, 2, 3]);
      const varUnbiased = x.permute([1, 0, 2, 3]).reshape([3, -1]).var(1);
      assertClose(runningMean, mean.mul(0.1).add(0.45), tight);
      assertClose(runningVar, varUnbiased.mul(0.1).add(1.8), tight);
      // Without weight/bias and running stats: zero mean and unit (biased) variance per channel.
      const plain = batchNorm(x);
      assertClose(plain.mean([0, 2, 3]), [0, 0, 0], { atol: 1e-12 });
      const biased = plain.permute([1, 0, 2, 3]).reshape([3, -1]).var(1, false);
      assertClose(biased, [1, 1, 1], { atol: 1e-4 }); // eps = 1e-5 shrinks it slightly
    })
  ),
);

Deno.test(
  "batchNorm in eval mode uses the running statistics and leaves them alone",
  noLeaks(() =>
    scope(() => {
      const g = golden.batch_norm_eval;
      const runningMean = fromGolden(g.running_mean);
      const runningVar = fromGolden(g.running_var);
      const out = batchNorm(fromGolden(g.x), {
        weight: fromGolden(g.w),
        bias: fromGolden(g.b),
        runningMean,
        runningVar,
        training: false,
      });
      assertClose(out, g.out, tight);
      assertClose(runningMean, g.running_mean, { atol: 0, rtol: 0 });
      assertClose(runningVar, g.running_var, { atol: 0, rtol: 0 });
      assert.throws(() => batchNorm(fromGolden(g.x), { weight: ones([4], { dtype: "float64" }) }), TorchError);
    })
  ),
);

Deno.test(
  "layerNorm, linear, relu, softmax, logSoftmax, normalize and mseLoss match PyTorch",
  noLeaks(() =>
    scope(() => {
      const l = golden.layer_norm;
      assertClose(layerNorm(fromGolden(l.x), [4], fromGolden(l.w), fromGolden(l.b)), l.out, tight);
      const plain = layerNorm(fromGolden(l.x), [4]);
      assertClose(plain.mean(-1), zeros([2, 3]), { atol: 1e-12 });
      const li = golden.linear;
      assertClose(linear(fromGolden(li.x), fromGolden(li.w), fromGolden(li.b)), li.out, tight);
      assertClose(linear(tensor([[1, 2]]), tensor([[3, 4], [5, 6]])), [[11, 17]]);
      assert.deepEqual(relu(tensor([-1, 2])).toArray(), [0, 2]);
      const s = golden.softmax;
      const x = fromGolden(s.x);
      assertClose(softmax(x, 1), s.dim1, tight);
      assertClose(softmax(x, 0), s.dim0, tight);
      assertClose(logSoftmax(x, 1), s.log_dim1, tight);
      const n = golden.normalize;
      assertClose(normalize(fromGolden(n.x)), n.p2, tight);
      assertClose(normalize(fromGolden(n.x), 0, 1), n.p1_dim0, tight);
      assert.deepEqual(normalize(zeros([1, 2])).toArray(), [[0, 0]]); // eps guards 0/0
      const m = golden.mse_loss;
      assertClose(mseLoss(fromGolden(m.x), fromGolden(m.y)), m.mean, tight);
      assertClose(mseLoss(fromGolden(m.x), fromGolden(m.y), "sum"), m.sum, tight);
      assert.deepEqual(mseLoss(tensor([1, 2]), tensor([0, 0]), "none").toArray(), [1, 4]);
    })
  ),
);

Deno.test(
  "maxPool2d, avgPool2d and adaptiveAvgPool2d match PyTorch",
  noLeaks(() =>
    scope(() => {
      const x = fromGolden(golden.max_pool2d.x);
      assertClose(maxPool2d(x, 3, 2, 1), golden.max_pool2d.out, tight);
      assertClose(maxPool2d(x, 2, 2, 0, true), golden.max_pool2d_ceil.out, tight);
      assert.deepEqual(maxPool2d(x, 2).shape, [1, 2, 2, 2]); // stride defaults to the kernel
      assertClose(avgPool2d(x, 3, 2, 1), golden.avg_pool2d.out, tight); // count_include_pad, as PyTorch
      assertClose(
        adaptiveAvgPool2d(fromGolden(golden.adaptive_avg_pool2d.x), 2, 3),
        golden.adaptive_avg_pool2d.out,
        tight,
      );
      const y = tensor([[[[1, 2], [3, 4]]]]);
      assert.deepEqual(adaptiveAvgPool2d(y, 1).toArray(), [[[[2.5]]]]);
      assert.deepEqual(maxPool2d(y, 2).toArray(), [[[[4]]]]);
      assert.deepEqual(avgPool2d(y, 2).toArray(), [[[[2.5]]]]);
    })
  ),
);

Deno.test(
  "affineGrid + gridSample: the identity reproduces the input, other grids match PyTorch",
  noLeaks(() =>
    scope(() => {
      const x = tensor(Float64Array.from({ length: 2 * 3 * 4 * 5 }, (_, i) => Math.sin(i)), { shape: [2, 3, 4, 5] });
      const identity = tensor([[1, 0, 0], [0, 1, 0]], { dtype: "float64" }).unsqueeze(0).expand([2, 2, 3]);
      for (const alignCorners of [false, true]) {
        const grid = affineGrid(identity, [2, 3, 4, 5], alignCorners);
        assert.deepEqual(grid.shape, [2, 4, 5, 2]);
        assertClose(gridSample(x, grid, { alignCorners }), x, { atol: 1e-12 });
        assertClose(gridSample(x, grid, { alignCorners, mode: "nearest" }), x, { atol: 1e-12 });
      }
      for (const key of ["noalign", "align"]) {
        const alignCorners = key === "align";
        const g = golden[`affine_grid_${key}`];
        const grid = affineGrid(fromGolden(g.theta), [2, 2, 3, 4], alignCorners);
        assertClose(grid, g.grid, tight);
        const xs = fromGolden(golden[`grid_sample_bilinear_zeros_${key}`].x);
        assertClose(gridSample(xs, grid, { alignCorners }), golden[`grid_sample_bilinear_zeros_${key}`].out, tight);
        assertClose(
          gridSample(xs, grid, { alignCorners, mode: "nearest", padding: "border" }),
          golden[`grid_sample_nearest_border_${key}`].out,
          tight,
        );
        assertClose(
          gridSample(xs, grid, { alignCorners, padding: "reflection" }),
          golden[`grid_sample_bilinear_reflection_${key}`].out,
          tight,
        );
      }
    })
  ),
);

Deno.test(
  "interpolate (bilinear with and without alignCorners, nearest) matches PyTorch",
  noLeaks(() =>
    scope(() => {
      const x = fromGolden(golden.interpolate_bilinear.x);
      assertClose(interpolate(x, [5, 7]), golden.interpolate_bilinear.out, tight);
      assertClose(interpolate(x, [5, 7], "bilinear", true), golden.interpolate_bilinear_align.out, tight);
      assertClose(interpolate(x, [5, 7], "nearest"), golden.interpolate_nearest.out, tight);
      assert.deepEqual(interpolate(tensor([[[[1, 2]]]]), [1, 4], "nearest").toArray(), [[[[1, 1, 2, 2]]]]);
    })
  ),
);

Deno.test(
  "crossEntropy matches PyTorch, with label smoothing and every reduction",
  noLeaks(() =>
    scope(() => {
      const g = golden.cross_entropy;
      const logits = fromGolden(g.logits);
      const target = tensor(g.target, { dtype: "int64" });
      assertClose(crossEntropy(logits, target), g.mean, tight);
      assertClose(crossEntropy(logits, target, "none", 0.1), g.smooth_none, tight);
      assertClose(crossEntropy(logits, target, "mean", 0.1), g.smooth_mean, tight);
      assertClose(crossEntropy(logits, target, "sum", 0.1), g.smooth_sum, tight);
      // By hand: uniform logits over C classes give log C whatever the target or smoothing.
      assertClose(crossEntropy(zeros([2, 4]), tensor([1, 3], { dtype: "int64" }), "mean", 0.3), Math.log(4), {
        atol: 1e-6,
      });
    })
  ),
);

Deno.test(
  "eigh, svdvals and inv match PyTorch",
  noLeaks(() =>
    scope(() => {
      const g = golden.eigh;
      const a = fromGolden(g.a);
      const { values, vectors } = eigh(a);
      assertClose(values, g.values, tight);
      // The golden matrix has eigenvalue 1 twice: inside that 2-D eigenspace any orthonormal basis is
      // right, and LAPACK picks different ones on different CPUs. Compare |v| only for the simple
      // eigenvalues (columns 2 and 3), and check A·V = V·diag(λ) and VᵀV = I for all of them.
      const simple = tensor([2, 3], { dtype: "int64" });
      assertClose(vectors.abs().indexSelect(1, simple), fromGolden(g.vectors).abs().indexSelect(1, simple), {
        atol: 1e-10,
      });
      assertClose(a.matmul(vectors), vectors.mul(values), { atol: 1e-10 });
      assertClose(vectors.t().matmul(vectors), eye(4, 4, { dtype: "float64" }), { atol: 1e-10 });
      assertClose(svdvals(fromGolden(golden.svdvals.a)), golden.svdvals.out, tight);
      assertClose(inv(fromGolden(golden.inv.a)), golden.inv.out, tight);
      assertClose(inv(tensor([[4, 7], [2, 6]], { dtype: "float64" })), [[0.6, -0.7], [-0.2, 0.4]], tight);
      assert.throws(() => eigh(zeros([2, 3])), TorchError);
      assert.throws(() => inv(zeros([2, 3])), TorchError);
    })
  ),
);

Deno.test(
  "dropout scales kept entries by 1/(1−p), is seeded, and is the identity in eval",
  noLeaks(() =>
    scope(() => {
      const x = ones([1000]);
      manualSeed(3);
      const a = dropout(x, 0.25);
      manualSeed(3);
      const b = dropout(x, 0.25);
      assert.deepEqual(a.data(), b.data());
      const kept = a.ne(0).sum().item();
      assert.ok(kept > 680 && kept < 820, `kept ${kept} of 1000`);
      assertClose(a.maskedSelect(a.ne(0)).amin(), 1 / 0.75);
      assertClose(a.amax(), 1 / 0.75);
      assert.deepEqual(dropout(x, 0.25, false).data(), x.data());
      assert.deepEqual(dropout(x, 0).data(), x.data());
      assert.throws(() => dropout(x, 1.5), TorchError);
    })
  ),
);

Deno.test(
  "oneHot and pad",
  noLeaks(() =>
    scope(() => {
      const h = oneHot(tensor([0, 2], { dtype: "int64" }), 3);
      assert.equal(h.dtype, "int64");
      assert.deepEqual(h.toArray(), [[1, 0, 0], [0, 0, 1]]);
      assert.deepEqual(oneHot(tensor([1], { dtype: "int64" }), -1).toArray(), [[0, 1]]); // inferred classes
      const x = tensor([[1, 2], [3, 4]]);
      assert.deepEqual(pad(x, [1, 0]).toArray(), [[0, 1, 2], [0, 3, 4]]); // last dim: 1 before, 0 after
      assert.deepEqual(pad(x, [0, 1, 1, 0], -1).toArray(), [[-1, -1, -1], [1, 2, -1], [3, 4, -1]]);
      assert.throws(() => oneHot(tensor([0.5]), 2), TorchError);
      assert.throws(() => pad(x, [1]), TorchError);
    })
  ),
);
