import assert from "node:assert/strict";
import { arange, manualSeed, ones, rand, randn, scope, tensor, TorchError, zeros } from "../../mod.ts";
import {
  empty,
  eye,
  full,
  fullLike,
  linspace,
  onesLike,
  randint,
  randLike,
  randnLike,
  randperm,
  zerosLike,
} from "../../src/torch/mod.ts";
import { noLeaks } from "./_helpers.ts";

Deno.test(
  "tensor() infers shape and dtype from numbers, booleans, bigints and typed arrays",
  noLeaks(() =>
    scope(() => {
      assert.equal(tensor(3).dtype, "float32");
      assert.deepEqual(tensor(3).shape, []);
      assert.equal(tensor(3).item(), 3);
      assert.deepEqual(tensor([[1, 2, 3], [4, 5, 6]]).shape, [2, 3]);
      assert.equal(tensor([true, false]).dtype, "bool");
      assert.equal(tensor([1n, -2n]).dtype, "int64");
      assert.deepEqual(tensor([2n ** 62n]).data(), BigInt64Array.of(2n ** 62n)); // exact, no float detour
      assert.equal(tensor(new Float64Array([1, 2])).dtype, "float64");
      assert.equal(tensor(new Int32Array([1, 2])).dtype, "int32");
      assert.equal(tensor(new Uint8Array([1, 2])).dtype, "uint8");
      assert.equal(tensor(new Int8Array([-1, 2])).dtype, "int8");
      assert.equal(tensor(new Int16Array([-1, 2])).dtype, "int16");
      assert.equal(tensor(new BigInt64Array([1n])).dtype, "int64");
      // A typed-array view starts at its own offset.
      assert.deepEqual(tensor(new Float32Array([1, 2, 3, 4]).subarray(1, 3)).toArray(), [2, 3]);
      const shaped = tensor(new Int32Array([1, 2, 3, 4, 5, 6]), { shape: [3, 2] });
      assert.deepEqual(shaped.toArray(), [[1, 2], [3, 4], [5, 6]]);
      assert.deepEqual(tensor([1, 2, 3, 4], { shape: [2, 2] }).toArray(), [[1, 2], [3, 4]]);
      assert.deepEqual(tensor([]).shape, [0]);
      assert.deepEqual(tensor([[], []]).shape, [2, 0]);
      // A requested dtype converts, as torch.tensor(data, dtype=...) does.
      assert.deepEqual(tensor([1.7, -1.7], { dtype: "int32" }).toArray(), [1, -1]);
      assert.deepEqual(tensor([0, 2], { dtype: "bool" }).toArray(), [false, true]);
      assert.deepEqual(tensor([true, false], { dtype: "float64" }).toArray(), [1, 0]);
      assert.deepEqual(tensor(new Int32Array([1, 2]), { dtype: "float32" }).toArray(), [1, 2]);
      assert.equal(tensor([0.1], { dtype: "float64" }).item(), 0.1); // not rounded through float32
      assert.equal(tensor([1], { device: "cpu" }).device, "cpu");
      const leaf = tensor([1, 2], { requiresGrad: true });
      assert.equal(leaf.requiresGrad, true);
      assert.equal(leaf.isLeaf, true);
    })
  ),
);

Deno.test(
  "tensor() rejects ragged, mixed and non-numeric data with a TypeError",
  noLeaks(() => {
    assert.throws(() => tensor([[1, 2], [3]]), { name: "TypeError", message: /ragged/ });
    assert.throws(() => tensor([[1, 2], 3] as never), { name: "TypeError", message: /ragged/ });
    assert.throws(() => tensor([1, [2]] as never), { name: "TypeError", message: /mixed/ });
    assert.throws(() => tensor([1, true]), { name: "TypeError", message: /mixed/ });
    assert.throws(() => tensor([1, 2n]), { name: "TypeError", message: /mixed/ });
    assert.throws(() => tensor(["a"] as never), { name: "TypeError", message: /type string/ });
    assert.throws(() => tensor([1, 2, 3], { shape: [2, 2] }), { name: "TypeError", message: /shape \[2,2\]/ });
    assert.throws(() => tensor([1], { dtype: "float" as never }), {
      name: "TypeError",
      message: /Unknown dtype "float"/,
    });
    assert.throws(() => tensor([1], { device: "gpu" as never }), {
      name: "TypeError",
      message: /Unknown device "gpu"/,
    });
    // An integer leaf cannot require gradients; the tensor made on the way is freed.
    assert.throws(() => tensor([1], { dtype: "int64", requiresGrad: true }), TorchError);
    assert.throws(() => zeros([1], { dtype: "int64", requiresGrad: true }), TorchError);
  }),
);

Deno.test(
  "full, zeros, ones, empty and eye make the requested shapes, dtypes and values",
  noLeaks(() =>
    scope(() => {
      assert.deepEqual(full([2, 2], 7).toArray(), [[7, 7], [7, 7]]);
      assert.equal(full([1], 7).dtype, "float32");
      assert.deepEqual(full([2], 3, { dtype: "int64" }).toArray(), [3, 3]);
      assert.deepEqual(full([2], 1, { dtype: "bool" }).toArray(), [true, true]);
      assert.deepEqual(zeros([2, 3]).toArray(), [[0, 0, 0], [0, 0, 0]]);
      assert.deepEqual(ones([3], { dtype: "uint8" }).toArray(), [1, 1, 1]);
      assert.deepEqual(zeros([]).shape, []);
      const e = empty([4, 2], { dtype: "float64" });
      assert.deepEqual(e.shape, [4, 2]);
      assert.equal(e.dtype, "float64");
      assert.deepEqual(eye(2).toArray(), [[1, 0], [0, 1]]);
      assert.deepEqual(eye(2, 3, { dtype: "int32" }).toArray(), [[1, 0, 0], [0, 1, 0]]);
      assert.equal(ones([2], { requiresGrad: true }).requiresGrad, true);
      assert.throws(() => zeros([-1]), RangeError);
      assert.throws(() => zeros([1.5]), { name: "TypeError", message: /integer/ });
      assert.throws(() => eye(-1), TorchError);
    })
  ),
);

Deno.test(
  "arange and linspace follow torch.arange / torch.linspace",
  noLeaks(() =>
    scope(() => {
      assert.deepEqual(arange(0, 5).toArray(), [0, 1, 2, 3, 4]);
      assert.deepEqual(arange(1, 2, 0.25).toArray(), [1, 1.25, 1.5, 1.75]);
      assert.deepEqual(arange(5, 0, -2).toArray(), [5, 3, 1]);
      assert.deepEqual(arange(0, 3, 1, { dtype: "int64" }).toArray(), [0, 1, 2]);
      assert.equal(arange(0, 3, 1, { dtype: "int64" }).dtype, "int64");
      assert.deepEqual(linspace(0, 1, 5).toArray(), [0, 0.25, 0.5, 0.75, 1]);
      assert.deepEqual(linspace(2, 2, 1).toArray(), [2]);
      assert.throws(() => arange(0, 3, 0), TorchError);
      assert.throws(() => linspace(0, 1, -1), TorchError);
    })
  ),
);

Deno.test(
  "randn, rand, randint and randperm sample the right ranges and are seeded",
  noLeaks(() =>
    scope(() => {
      manualSeed(7);
      const a = randn([1000]);
      manualSeed(7);
      const b = randn([1000]);
      assert.deepEqual(a.data(), b.data());
      assert.ok(Math.abs(a.mean().item()) < 0.15 && Math.abs(a.std().item() - 1) < 0.15);
      assert.equal(randn([2], { dtype: "float64" }).dtype, "float64");
      const u = rand([1000]);
      assert.ok(u.min().item() >= 0 && u.max().item() < 1);
      const r = randint(-2, 3, [1000]);
      assert.equal(r.dtype, "int64");
      assert.ok(r.min().item() === -2 && r.max().item() === 2);
      assert.equal(randint(0, 2, [2], { dtype: "int32" }).dtype, "int32");
      const p = randperm(10);
      assert.equal(p.dtype, "int64");
      assert.deepEqual(p.sort().values.toArray(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      assert.throws(() => randint(3, 3, [2]), TorchError);
      assert.throws(() => randperm(-1), TorchError);
      assert.throws(() => randn([2], { dtype: "int64" }), TorchError);
    })
  ),
);

Deno.test(
  "zerosLike, onesLike, fullLike, randnLike and randLike keep shape, dtype and device",
  noLeaks(() =>
    scope(() => {
      const x = zeros([2, 3], { dtype: "float64" });
      assert.deepEqual(onesLike(x).toArray(), [[1, 1, 1], [1, 1, 1]]);
      assert.equal(onesLike(x).dtype, "float64");
      assert.deepEqual(zerosLike(x, "int32").toArray(), [[0, 0, 0], [0, 0, 0]]);
      assert.equal(zerosLike(x, "int32").dtype, "int32");
      assert.deepEqual(fullLike(x, 2.5).toArray(), [[2.5, 2.5, 2.5], [2.5, 2.5, 2.5]]);
      assert.deepEqual(randnLike(x).shape, [2, 3]);
      assert.equal(randnLike(x).dtype, "float64");
      const u = randLike(x);
      assert.ok(u.min().item() >= 0 && u.max().item() < 1);
      assert.throws(() => fullLike(zeros([1], { dtype: "uint8" }), 1000), TorchError); // overflow
      assert.throws(() => randnLike(zeros([1], { dtype: "int64" })), TorchError);
    })
  ),
);

Deno.test(
  "zeros() and friends refuse shapes that would wrap in int64 instead of making [0]",
  noLeaks(() => {
    assert.throws(() => zeros([2 ** 64]), { name: "RangeError", message: /Invalid shape \[18446744073709552000\]/ });
    assert.throws(() => zeros([2 ** 64 + 8192, 1]), RangeError);
    assert.throws(() => empty([2 ** 40, 2 ** 40]), /do not fit in int64/);
    assert.throws(() => randn([-1, 2]), /-1 is not a non-negative integer/);
    assert.throws(() => ones([1.5]), TypeError);
    assert.throws(() => full([NaN], 0), TypeError);
    using t = zeros([0, 3]);
    assert.deepEqual(t.shape, [0, 3]);
    using r = tensor([1, 2, 3, 4]);
    assert.throws(() => r.reshape([2 ** 64, 1]), TypeError);
  }),
);
