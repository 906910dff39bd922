import assert from "node:assert/strict";
import { arange, type DType, ones, scope, type Tensor, tensor, TorchError, zeros } from "../../mod.ts";
import { assertClose, flat, fromGolden, loadGolden, noLeaks } from "./_helpers.ts";

const golden = loadGolden("tensor");
const f64 = { dtype: "float64" } as const;

Deno.test(
  "Tensor binary math follows PyTorch (broadcast, alpha, scalars, true division, Python modulo)",
  noLeaks(() =>
    scope(() => {
      const a = tensor([[1, -2, 3], [4, 5, -6]], f64);
      const b = tensor([2, 4, -3], f64);
      assert.deepEqual(a.add(b).toArray(), [[3, 2, 0], [6, 9, -9]]);
      assert.deepEqual(a.add(b, 2).toArray(), [[5, 6, -3], [8, 13, -12]]);
      assert.deepEqual(a.sub(b, 0.5).toArray(), [[0, -4, 4.5], [3, 3, -4.5]]);
      assert.deepEqual(a.add(1.5).toArray(), [[2.5, -0.5, 4.5], [5.5, 6.5, -4.5]]);
      assert.deepEqual(a.sub(1, 2).toArray(), [[-1, -4, 1], [2, 3, -8]]);
      assert.deepEqual(a.rsub(10).toArray(), [[9, 12, 7], [6, 5, 16]]);
      assert.deepEqual(a.mul(b).toArray(), [[2, -8, -9], [8, 20, 18]]);
      assert.deepEqual(a.mul(-1).toArray(), [[-1, 2, -3], [-4, -5, 6]]);
      assert.deepEqual(a.div(b).toArray(), [[0.5, -0.5, -1], [2, 1.25, 2]]);
      assert.deepEqual(a.div(4).toArray(), [[0.25, -0.5, 0.75], [1, 1.25, -1.5]]);
      assert.deepEqual(a.pow(2).toArray(), [[1, 4, 9], [16, 25, 36]]);
      assert.deepEqual(b.pow(tensor([3, 0.5, 2], f64)).toArray(), [8, 2, 9]);
      // Python-style modulo: the result takes the divisor's sign.
      assert.deepEqual(tensor([-3, 3, -3, 5.5], f64).remainder(2).toArray(), [1, 1, 1, 1.5]);
      assert.deepEqual(tensor([-3, 3], f64).remainder(tensor([-2, -2], f64)).toArray(), [-1, -1]);
      assert.deepEqual(a.maximum(b).toArray(), [[2, 4, 3], [4, 5, -3]]);
      assert.deepEqual(a.minimum(b).toArray(), [[1, -2, -3], [2, 4, -6]]);
      assertClose(tensor([1, -1], f64).atan2(tensor([-1, -1], f64)), [3 * Math.PI / 4, -3 * Math.PI / 4]);
      // Integers: true division gives floats, whole-number scalars keep the integer dtype.
      const i = tensor([7, -7], { dtype: "int64" });
      const q = i.div(2);
      assert.equal(q.dtype, "float32");
      assert.deepEqual(q.toArray(), [3.5, -3.5]);
      assert.equal(i.add(1).dtype, "int64");
      assert.equal(i.mul(0.5).dtype, "float32");
      assert.deepEqual(i.remainder(3).toArray(), [1, 2]);
    })
  ),
);

Deno.test(
  "Tensor unary math matches hand-computed values",
  noLeaks(() =>
    scope(() => {
      const x = tensor([-1.5, -0.5, 0, 0.5, 2.5], f64);
      assert.deepEqual(x.neg().toArray(), [1.5, 0.5, -0, -0.5, -2.5]);
      assert.deepEqual(x.abs().toArray(), [1.5, 0.5, 0, 0.5, 2.5]);
      assert.deepEqual(x.sign().toArray(), [-1, -1, 0, 1, 1]);
      assert.deepEqual(x.floor().toArray(), [-2, -1, 0, 0, 2]);
      assert.deepEqual(x.ceil().toArray(), [-1, -0, 0, 1, 3]);
      assert.deepEqual(x.round().toArray(), [-2, -0, 0, 0, 2]); // half to even
      assert.deepEqual(x.trunc().toArray(), [-1, -0, 0, 0, 2]);
      assert.deepEqual(x.relu().toArray(), [0, 0, 0, 0.5, 2.5]);
      assert.deepEqual(x.square().toArray(), [2.25, 0.25, 0, 0.25, 6.25]);
      assert.deepEqual(x.clamp(-1, 1).toArray(), [-1, -0.5, 0, 0.5, 1]);
      assert.deepEqual(x.clamp(0).toArray(), [0, 0, 0, 0.5, 2.5]);
      assert.deepEqual(x.clamp(undefined, 0).toArray(), [-1.5, -0.5, 0, 0, 0]);
      const v = [-1.5, -0.5, 0, 0.5, 2.5];
      const exact = (t: Tensor, fn: (x: number) => number) => assertClose(t, v.map(fn), { atol: 1e-12, rtol: 1e-12 });
      exact(x.exp(), Math.exp);
      exact(x.expm1(), Math.expm1);
      exact(x.sin(), Math.sin);
      exact(x.cos(), Math.cos);
      exact(x.tanh(), Math.tanh);
      exact(x.sigmoid(), (z) => 1 / (1 + Math.exp(-z)));
      exact(x.silu(), (z) => z / (1 + Math.exp(-z)));
      const p = tensor([0.25, 1, 4], f64);
      assertClose(p.log(), [Math.log(0.25), 0, Math.log(4)], { atol: 1e-12 });
      assertClose(p.log1p(), [Math.log1p(0.25), Math.log(2), Math.log(5)], { atol: 1e-12 });
      assert.deepEqual(p.sqrt().toArray(), [0.5, 1, 2]);
      assert.deepEqual(p.rsqrt().toArray(), [2, 1, 0.5]);
      assert.deepEqual(p.reciprocal().toArray(), [4, 1, 0.25]);
      // gelu is the exact (erf) form: x·Φ(x).
      assertClose(tensor([-1, 0, 1], f64).gelu(), [-0.15865525393145707, 0, 0.8413447460685429], { atol: 1e-12 });
      assertClose(tensor([0, 0.5, -1], f64).erf(), [0, 0.5204998778130465, -0.8427007929497149], { atol: 1e-12 });
      assertClose(tensor([0, 1], f64).lerp(tensor([10, -1], f64), 0.25), [2.5, 0.5]);
      assertClose(tensor([1, 2], f64).addcmul(tensor([3, 4], f64), tensor([5, 6], f64), 0.5), [8.5, 14]);
      const mask = tensor([true, false, true]);
      assert.deepEqual(tensor([1, 2, 3]).maskedFill(mask, -1).toArray(), [-1, 2, -1]);
      assert.deepEqual(tensor([1, 2, 3]).where(mask, tensor([7, 8, 9])).toArray(), [1, 8, 3]);
    })
  ),
);

Deno.test(
  "Tensor comparisons and logical ops give bool tensors",
  noLeaks(() =>
    scope(() => {
      const a = tensor([1, 2, 3]);
      const b = tensor([3, 2, 1]);
      assert.equal(a.eq(b).dtype, "bool");
      assert.deepEqual(a.eq(b).toArray(), [false, true, false]);
      assert.deepEqual(a.ne(b).toArray(), [true, false, true]);
      assert.deepEqual(a.lt(b).toArray(), [true, false, false]);
      assert.deepEqual(a.le(b).toArray(), [true, true, false]);
      assert.deepEqual(a.gt(b).toArray(), [false, false, true]);
      assert.deepEqual(a.ge(b).toArray(), [false, true, true]);
      assert.deepEqual(a.eq(2).toArray(), [false, true, false]);
      assert.deepEqual(a.ne(2).toArray(), [true, false, true]);
      assert.deepEqual(a.lt(2).toArray(), [true, false, false]);
      assert.deepEqual(a.le(2).toArray(), [true, true, false]);
      assert.deepEqual(a.gt(2).toArray(), [false, false, true]);
      assert.deepEqual(a.ge(2).toArray(), [false, true, true]);
      const p = tensor([true, true, false, false]);
      const q = tensor([true, false, true, false]);
      assert.deepEqual(p.logicalAnd(q).toArray(), [true, false, false, false]);
      assert.deepEqual(p.logicalOr(q).toArray(), [true, true, true, false]);
      assert.deepEqual(p.logicalXor(q).toArray(), [false, true, true, false]);
      assert.deepEqual(p.logicalNot().toArray(), [false, false, true, true]);
      const s = tensor([NaN, Infinity, -Infinity, 1]);
      assert.deepEqual(s.isnan().toArray(), [true, false, false, false]);
      assert.deepEqual(s.isinf().toArray(), [false, true, true, false]);
      assert.deepEqual(s.isfinite().toArray(), [false, false, false, true]);
    })
  ),
);

Deno.test(
  "Tensor reductions: sum, mean, prod, amax/amin, maxDim, argmax/argmin, cumsum, all/any",
  noLeaks(() =>
    scope(() => {
      const x = tensor([[1, 5, 3], [4, 2, 6]], f64);
      assert.equal(x.sum().item(), 21);
      assert.deepEqual(x.sum().shape, []);
      assert.deepEqual(x.sum(0).toArray(), [5, 7, 9]);
      assert.deepEqual(x.sum(1, true).toArray(), [[9], [12]]);
      assert.deepEqual(x.sum([0, 1]).toArray(), 21);
      assert.equal(tensor([true, true, false]).sum().dtype, "int64");
      assert.equal(tensor([1, 2], { dtype: "int32" }).sum(undefined, false, "float64").dtype, "float64");
      assert.equal(x.mean().item(), 3.5);
      assert.deepEqual(x.mean(1).toArray(), [3, 4]);
      assert.deepEqual(x.mean(undefined, true).toArray(), [[3.5]]);
      assert.equal(x.prod().item(), 720);
      assert.equal(x.amax().item(), 6);
      assert.equal(x.max().item(), 6);
      assert.equal(x.min().item(), 1);
      assert.deepEqual(x.amax(0).toArray(), [4, 5, 6]);
      assert.deepEqual(x.amin(1, true).toArray(), [[1], [2]]);
      const { values, indices } = x.maxDim(1);
      assert.deepEqual(values.toArray(), [5, 6]);
      assert.deepEqual(indices.toArray(), [1, 2]);
      assert.equal(indices.dtype, "int64");
      assert.deepEqual(x.maxDim(0, true).indices.toArray(), [[1, 0, 1]]);
      assert.deepEqual(x.argmax(1).toArray(), [1, 2]);
      assert.deepEqual(x.argmin(0).toArray(), [0, 1, 0]);
      assert.deepEqual(x.argmax(0, true).shape, [1, 3]);
      assert.deepEqual(x.cumsum(1).toArray(), [[1, 6, 9], [4, 6, 12]]);
      assert.deepEqual(x.cumsum(0).toArray(), [[1, 5, 3], [5, 7, 9]]);
      assert.equal(tensor([1, 0]).all().toArray(), false);
      assert.equal(tensor([1, 0]).any().toArray(), true);
      assert.equal(tensor([1, 2]).all().dtype, "bool");
    })
  ),
);

Deno.test(
  "Tensor var/std (unbiased by default), logsumexp and norm match PyTorch",
  noLeaks(() =>
    scope(() => {
      // Hand-computed: [1, 2, 3, 4] has mean 2.5, squared deviations 5 → unbiased 5/3, biased 5/4.
      const v = tensor([1, 2, 3, 4], f64);
      assertClose(v.var(), 5 / 3, { atol: 1e-15 });
      assertClose(v.var(undefined, false), 1.25, { atol: 1e-15 });
      assertClose(v.std(), Math.sqrt(5 / 3), { atol: 1e-15 });
      const g = golden.var_std;
      const x = fromGolden(g.x);
      assertClose(x.var(), g.var_all, { atol: 1e-12 });
      assertClose(x.var(1), g.var_dim1, { atol: 1e-12 });
      assertClose(x.var(0, false), g.var_dim0_biased, { atol: 1e-12 });
      assertClose(x.std(), g.std_all, { atol: 1e-12 });
      assertClose(x.std(1, true, true), g.std_dim1_keep, { atol: 1e-12 });
      const l = golden.logsumexp;
      const y = fromGolden(l.x);
      assertClose(y.logsumexp(1), l.dim1, { atol: 1e-12 });
      assertClose(y.logsumexp([0, 1]), l.dim01, { atol: 1e-12 });
      assert.deepEqual(y.logsumexp(1, true).shape, [3, 1]);
      // Large inputs stay finite (the max is subtracted first).
      assertClose(tensor([1000, 1000], f64).logsumexp(0), 1000 + Math.log(2), { atol: 1e-12 });
      const n = golden.norm;
      const z = fromGolden(n.x);
      assertClose(z.norm(), n.p2, { atol: 1e-12 });
      assertClose(z.norm(1, 1), n.p1_dim1, { atol: 1e-12 });
      assertClose(z.norm(Infinity, 0), n.inf_dim0, { atol: 1e-12 });
      assert.deepEqual(z.norm(2, 1, true).shape, [3, 1]);
    })
  ),
);

Deno.test(
  "Tensor.topk(), sort() and argsort() match PyTorch",
  noLeaks(() =>
    scope(() => {
      const t = golden.topk;
      const x = fromGolden(t.x);
      const top = x.topk(2);
      assertClose(top.values, t.values);
      assertClose(top.indices, t.indices);
      assert.equal(top.indices.dtype, "int64");
      const low = x.topk(2, 0, false);
      assertClose(low.values, t.smallest_dim0_values);
      assertClose(low.indices, t.smallest_dim0_indices);
      const s = golden.sort;
      const sorted = fromGolden(s.x).sort(1, true);
      assertClose(sorted.values, s.values);
      assertClose(sorted.indices, s.indices);
      assert.deepEqual(tensor([3, 1, 2]).argsort().toArray(), [1, 2, 0]);
      assert.deepEqual(tensor([3, 1, 2]).sort().values.toArray(), [1, 2, 3]);
    })
  ),
);

Deno.test(
  "Tensor views: reshape, view, transpose, permute, squeeze, narrow, slice, select, expand, flatten",
  noLeaks(() =>
    scope(() => {
      const x = arange(0, 6, 1, f64); // [0..5]
      const m = x.reshape([2, -1]);
      assert.deepEqual(m.toArray(), [[0, 1, 2], [3, 4, 5]]);
      assert.deepEqual(x.view([3, 2]).toArray(), [[0, 1], [2, 3], [4, 5]]);
      assert.deepEqual(m.transpose(0, 1).toArray(), [[0, 3], [1, 4], [2, 5]]);
      assert.deepEqual(m.t().shape, [3, 2]);
      assert.deepEqual(m.t().strides(), [1, 3]);
      assert.equal(m.t().isContiguous(), false);
      assert.throws(() => m.t().view([6]), TorchError); // not viewable: reshape copies instead
      assert.deepEqual(m.t().reshape([6]).toArray(), [0, 3, 1, 4, 2, 5]);
      const c = arange(0, 24, 1, f64).reshape([2, 3, 4]);
      assert.deepEqual(c.permute([2, 0, 1]).shape, [4, 2, 3]);
      assert.equal(c.permute([2, 0, 1]).select(0, 1).select(0, 0).select(0, 2).item(), 9); // c[0][2][1]
      assert.deepEqual(zeros([1, 3, 1]).squeeze().shape, [3]);
      assert.deepEqual(zeros([1, 3, 1]).squeeze(-1).shape, [1, 3]);
      assert.deepEqual(zeros([1, 3, 1]).squeeze(1).shape, [1, 3, 1]);
      assert.deepEqual(zeros([3]).unsqueeze(0).shape, [1, 3]);
      assert.deepEqual(zeros([3]).unsqueeze(-1).shape, [3, 1]);
      assert.deepEqual(m.narrow(1, 1, 2).toArray(), [[1, 2], [4, 5]]);
      assert.deepEqual(x.slice(0, 1, 6, 2).toArray(), [1, 3, 5]);
      assert.deepEqual(m.select(0, -1).toArray(), [3, 4, 5]);
      assert.deepEqual(tensor([[1], [2]]).expand([2, 3]).toArray(), [[1, 1, 1], [2, 2, 2]]);
      assert.deepEqual(tensor([[1], [2]]).expand([-1, 2]).toArray(), [[1, 1], [2, 2]]);
      assert.deepEqual(tensor([1, 2]).repeat([2, 2]).toArray(), [[1, 2, 1, 2], [1, 2, 1, 2]]);
      assert.deepEqual(c.flatten().shape, [24]);
      assert.deepEqual(c.flatten(1).shape, [2, 12]);
      assert.deepEqual(c.flatten(0, 1).shape, [6, 4]);
      assert.deepEqual(m.flip([1]).toArray(), [[2, 1, 0], [5, 4, 3]]);
      assert.deepEqual(m.roll([1], [1]).toArray(), [[2, 0, 1], [5, 3, 4]]);
      assert.deepEqual(m.roll([1, -1], [0, 1]).toArray(), [[4, 5, 3], [1, 2, 0]]);
      assert.throws(() => m.roll([1], [0, 1]), TypeError);
      // Views share storage with their base.
      m.narrow(1, 0, 1).fill_(-1);
      assert.deepEqual(x.toArray(), [-1, 1, 2, -1, 4, 5]);
      m.select(1, 2).mul_(10);
      assert.deepEqual(x.toArray(), [-1, 1, 20, -1, 4, 50]);
    })
  ),
);

Deno.test(
  "Tensor indexing: indexSelect, gather, scatterAdd, scatter, maskedSelect, nonzero",
  noLeaks(() =>
    scope(() => {
      const x = tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]]);
      const idx = tensor([2, 0], { dtype: "int64" });
      assert.deepEqual(x.indexSelect(0, idx).toArray(), [[7, 8, 9], [1, 2, 3]]);
      assert.deepEqual(x.indexSelect(1, idx).toArray(), [[3, 1], [6, 4], [9, 7]]);
      // gather dim 1: out[i][j] = x[i][index[i][j]].
      const gi = tensor([[0, 0], [2, 1], [1, 2]], { dtype: "int64" });
      assert.deepEqual(x.gather(1, gi).toArray(), [[1, 1], [6, 5], [8, 9]]);
      // gather dim 0: out[i][j] = x[index[i][j]][j].
      assert.deepEqual(x.gather(0, tensor([[2, 1, 0]], { dtype: "int64" })).toArray(), [[7, 5, 3]]);
      // scatterAdd accumulates repeated indices: out[index[i][j]][j] += src[i][j] (dim 0).
      const base = zeros([2, 3]);
      const si = tensor([[0, 1, 0], [0, 1, 1]], { dtype: "int64" });
      const src = tensor([[1, 2, 3], [10, 20, 30]]);
      assert.deepEqual(base.scatterAdd(0, si, src).toArray(), [[11, 0, 3], [0, 22, 30]]);
      assert.deepEqual(base.toArray(), [[0, 0, 0], [0, 0, 0]]); // out of place
      assert.deepEqual(
        zeros([2, 3]).scatter(1, tensor([[2], [0]], { dtype: "int64" }), tensor([[5], [6]])).toArray(),
        [[0, 0, 5], [6, 0, 0]],
      );
      assert.deepEqual(x.maskedSelect(x.gt(6)).toArray(), [7, 8, 9]);
      assert.deepEqual(tensor([[0, 1], [2, 0]]).nonzero().toArray(), [[0, 1], [1, 0]]);
      assert.equal(tensor([[0, 1], [2, 0]]).nonzero().dtype, "int64");
    })
  ),
);

Deno.test(
  "Tensor tril, triu, diag and chunk",
  noLeaks(() =>
    scope(() => {
      const x = tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]]);
      assert.deepEqual(x.tril().toArray(), [[1, 0, 0], [4, 5, 0], [7, 8, 9]]);
      assert.deepEqual(x.tril(-1).toArray(), [[0, 0, 0], [4, 0, 0], [7, 8, 0]]);
      assert.deepEqual(x.triu(1).toArray(), [[0, 2, 3], [0, 0, 6], [0, 0, 0]]);
      assert.deepEqual(x.diag().toArray(), [1, 5, 9]);
      assert.deepEqual(x.diag(1).toArray(), [2, 6]);
      assert.deepEqual(tensor([1, 2]).diag().toArray(), [[1, 0], [0, 2]]);
      const parts = arange(0, 5).chunk(2);
      assert.equal(parts.length, 2);
      assert.deepEqual(parts.map((p) => p.toArray()), [[0, 1, 2], [3, 4]]);
      assert.deepEqual(x.chunk(3, 1).map((p) => p.shape), [[3, 1], [3, 1], [3, 1]]);
    })
  ),
);

Deno.test(
  "Tensor matmul, mm, bmm, outer, softmax and logSoftmax",
  noLeaks(() =>
    scope(() => {
      const a = tensor([[1, 2], [3, 4]]);
      const b = tensor([[5, 6], [7, 8]]);
      assert.deepEqual(a.mm(b).toArray(), [[19, 22], [43, 50]]);
      assert.deepEqual(a.matmul(tensor([1, 1])).toArray(), [3, 7]);
      const batch = a.unsqueeze(0).repeat([3, 1, 1]); // [3, 2, 2]
      assert.deepEqual(batch.matmul(b).shape, [3, 2, 2]); // broadcast over the batch
      assert.deepEqual(batch.bmm(batch).select(2 - 2, 1).toArray(), [[7, 10], [15, 22]]);
      assert.deepEqual(tensor([1, 2]).outer(tensor([3, 4, 5])).toArray(), [[3, 4, 5], [6, 8, 10]]);
      const s = tensor([[0, Math.log(3)]], f64).softmax(1);
      assertClose(s, [[0.25, 0.75]], { atol: 1e-15 });
      assertClose(tensor([[0, Math.log(3)]], f64).logSoftmax(-1), [[Math.log(0.25), Math.log(0.75)]], { atol: 1e-15 });
    })
  ),
);

Deno.test(
  "Tensor in-place ops change the tensor and return it",
  noLeaks(() =>
    scope(() => {
      const x = tensor([1, 2, 3], f64);
      assert.equal(x.add_(tensor([1, 1, 1], f64), 2), x);
      assert.deepEqual(x.toArray(), [3, 4, 5]);
      assert.deepEqual(x.add_(1).toArray(), [4, 5, 6]);
      assert.deepEqual(x.sub_(tensor([1, 2, 3], f64)).toArray(), [3, 3, 3]);
      assert.deepEqual(x.sub_(1, 2).toArray(), [1, 1, 1]);
      assert.deepEqual(x.mul_(tensor([2, 3, 4], f64)).toArray(), [2, 3, 4]);
      assert.deepEqual(x.mul_(0.5).toArray(), [1, 1.5, 2]);
      assert.deepEqual(x.div_(tensor([2, 3, 4], f64)).toArray(), [0.5, 0.5, 0.5]);
      assert.deepEqual(x.div_(0.25).toArray(), [2, 2, 2]);
      assert.deepEqual(x.fill_(7).toArray(), [7, 7, 7]);
      assert.deepEqual(x.zero_().toArray(), [0, 0, 0]);
      assert.deepEqual(x.copy_(tensor([5], { dtype: "int64" })).toArray(), [5, 5, 5]); // broadcast + cast
      assert.equal(x.dtype, "float64");
      assert.deepEqual(x.copy_(tensor([-2, 0.5, 9], f64)).clamp_(0, 1).toArray(), [0, 0.5, 1]);
      assert.deepEqual(x.addcmul_(tensor([1, 2, 3], f64), tensor([2, 2, 2], f64), 0.5).toArray(), [1, 2.5, 4]);
      assert.deepEqual(x.addcdiv_(tensor([2, 2, 2], f64), tensor([4, 1, 2], f64), 2).toArray(), [2, 6.5, 6]);
      assert.deepEqual(x.lerp_(tensor([4, 6.5, 2], f64), 0.5).toArray(), [3, 6.5, 4]);
      assert.deepEqual(x.maskedFill_(tensor([true, false, true]), -1).toArray(), [-1, 6.5, -1]);
      assert.deepEqual(x.relu_().toArray(), [0, 6.5, 0]);
      const m = zeros([3, 2], f64);
      m.indexCopy_(0, tensor([2, 0], { dtype: "int64" }), tensor([[1, 2], [3, 4]], f64));
      assert.deepEqual(m.toArray(), [[3, 4], [0, 0], [1, 2]]);
    })
  ),
);

Deno.test(
  "Tensor.div_(number) divides exactly, as div(number) does",
  noLeaks(() =>
    scope(() => {
      // x·(1/3) rounds differently from x/3 for some x in float32; PyTorch divides.
      const x = arange(1, 200);
      const expected = x.div(3).data();
      const actual = x.clone().div_(3).data();
      assert.deepEqual(actual, expected);
      assert.throws(() => tensor([1, 2], { dtype: "int64" }).div_(2), TorchError); // float result into int
    })
  ),
);

Deno.test(
  "Tensor.uniform_() and normal_() fill with samples of the requested distribution",
  noLeaks(() =>
    scope(() => {
      const u = zeros([2000]).uniform_(-2, 3);
      assert.ok(u.min().item() >= -2 && u.max().item() < 3);
      assert.ok(Math.abs(u.mean().item() - 0.5) < 0.15);
      const n = zeros([4000], f64).normal_(1, 2);
      assert.ok(Math.abs(n.mean().item() - 1) < 0.15);
      assert.ok(Math.abs(n.std().item() - 2) < 0.15);
    })
  ),
);

Deno.test(
  "Tensor metadata: shape, dtype, device, ndim, numel, size, strides, contiguity",
  noLeaks(() =>
    scope(() => {
      const x = zeros([2, 3, 4, 5]);
      assert.deepEqual(x.shape, [2, 3, 4, 5]);
      x.shape.push(9); // a copy
      assert.deepEqual(x.shape, [2, 3, 4, 5]);
      assert.equal(x.dtype, "float32");
      assert.equal(x.device, "cpu");
      assert.equal(x.ndim, 4);
      assert.equal(x.numel, 120);
      assert.equal(x.size(-1), 5);
      assert.equal(x.size(1), 3);
      assert.throws(() => x.size(4), RangeError);
      assert.deepEqual(x.strides(), [60, 20, 5, 1]);
      assert.equal(x.isContiguous(), true);
      assert.equal(x.isContiguous("channels_last"), false);
      const cl = x.contiguous("channels_last");
      assert.equal(cl.isContiguous("channels_last"), true);
      assert.deepEqual(cl.strides(), [60, 1, 15, 3]);
      assert.deepEqual(cl.shape, [2, 3, 4, 5]);
      // One channel: channels_last strides all the same (NCHW ones would make the kernels run NCHW).
      const gray = zeros([2, 1, 4, 5]);
      assert.deepEqual(gray.contiguous("channels_last").strides(), [20, 1, 5, 1]);
      assert.deepEqual(gray.contiguous().strides(), [20, 20, 5, 1]);
      assert.equal(tensor(3).ndim, 0);
      assert.equal(tensor(3).numel, 1);
      assert.equal(zeros([2, 0]).numel, 0);
      assert.equal(`${x}`, "Tensor(shape=[2,3,4,5], dtype=float32, device=cpu)");
    })
  ),
);

Deno.test(
  "Tensor conversion: to(), cpu(), clone(), detach(), share(), item()",
  noLeaks(() =>
    scope(() => {
      const x = tensor([1.5, -2.5]);
      assert.equal(x.to("float64").dtype, "float64");
      assert.deepEqual(x.to("int64").toArray(), [1, -2]);
      assert.equal(x.to("cpu").device, "cpu");
      assert.equal(x.to({ dtype: "float16", device: "cpu" }).dtype, "float16");
      assert.equal(x.cpu().device, "cpu");
      const copy = x.to({ copy: true });
      copy.fill_(0);
      assert.deepEqual(x.toArray(), [1.5, -2.5]);
      const c = x.clone();
      c.fill_(0);
      assert.deepEqual(x.toArray(), [1.5, -2.5]); // clone owns its storage
      const d = x.detach();
      d.fill_(1);
      assert.deepEqual(x.toArray(), [1, 1]); // detach shares it
      const s = x.share();
      s.add_(1);
      assert.deepEqual(x.toArray(), [2, 2]);
      s.dispose();
      assert.deepEqual(x.toArray(), [2, 2]); // the other handle still works
      assert.equal(tensor([[4]]).item(), 4);
      assert.equal(tensor(true).item(), 1);
      assert.throws(() => tensor([1, 2]).item(), TorchError);
    })
  ),
);

Deno.test(
  "Tensor.setMemoryFormat_ re-lays out in place: same handle, values, requiresGrad; gradients follow",
  noLeaks(() =>
    scope(() => {
      const w = arange(0, 16).to("float32").reshape([2, 2, 2, 2]).requiresGrad_(true);
      const before = w.toArray();
      assert.equal(w.setMemoryFormat_("channels_last"), w);
      assert.deepEqual(w.strides(), [8, 1, 4, 2]);
      assert.deepEqual(w.toArray(), before); // row-major on the host either way (checkpoints too)
      assert.equal(w.requiresGrad, true);
      w.mul(ones([2, 2, 2, 2]).mul(3)).sum().backward();
      assert.deepEqual(flat(w.grad!), new Array(16).fill(3));
      const gray = zeros([4, 1, 3, 3]).setMemoryFormat_("channels_last"); // C = 1: still channels_last strides
      assert.deepEqual(gray.strides(), [9, 1, 3, 1]);
      assert.deepEqual(w.setMemoryFormat_("contiguous").strides(), [8, 4, 2, 1]);
      assert.throws(() => tensor([1, 2]).setMemoryFormat_("channels_last"), TorchError); // needs 4 dims
    })
  ),
);

const ROUND_TRIP: [DType, number[], string][] = [
  ["float32", [1.5, -2.25, 0.125], "Float32Array"],
  ["float64", [1.5, -2.25, 1e-300], "Float64Array"],
  ["bfloat16", [1.5, -2.25, 256], "Float32Array"],
  ["float16", [1.5, -2.25, 1024], "Float32Array"],
  ["int64", [1, -2, 2 ** 40], "BigInt64Array"],
  ["int32", [1, -2, 2 ** 30], "Int32Array"],
  ["uint8", [1, 2, 255], "Uint8Array"],
  ["bool", [1, 0, 1], "Uint8Array"],
];

for (const [dtype, values, host] of ROUND_TRIP) {
  Deno.test(
    `Tensor ${dtype} round-trips through tensor(), data(), toArray() and to()`,
    noLeaks(() =>
      scope(() => {
        const t = tensor(values, { dtype });
        assert.equal(t.dtype, dtype);
        const data = t.data();
        assert.equal(data.constructor.name, host);
        assert.deepEqual(Array.from(data as ArrayLike<number | bigint>, Number), values);
        const expected = dtype === "bool" ? values.map((v) => v !== 0) : values;
        assert.deepEqual(t.toArray(), expected);
        // Through every other dtype able to hold the values, and back.
        const wide = dtype === "int64" ? "float64" : dtype === "uint8" || dtype === "bool" ? "int32" : "float64";
        const back = t.to(wide).to(dtype);
        assert.equal(back.dtype, dtype);
        assert.deepEqual(back.toArray(), expected);
        assert.deepEqual(t.reshape([3, 1]).toArray(), expected.map((v) => [v]));
      })
    ),
  );
}

Deno.test(
  "Tensor.data() copies non-contiguous and half tensors in row-major order",
  noLeaks(() =>
    scope(() => {
      const m = tensor([[1, 2, 3], [4, 5, 6]]);
      assert.deepEqual(flat(m.t()), [1, 4, 2, 5, 3, 6]);
      assert.deepEqual(flat(m.t().to("bfloat16")), [1, 4, 2, 5, 3, 6]);
      const cl = arange(0, 24).reshape([1, 2, 3, 4]).contiguous("channels_last");
      assert.deepEqual(flat(cl), Array.from({ length: 24 }, (_, i) => i));
      assert.deepEqual(ones([0]).toArray(), []);
      assert.deepEqual(ones([2, 0]).toArray(), [[], []]);
    })
  ),
);
