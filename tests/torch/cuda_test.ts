import assert from "node:assert/strict";
import { conv2d, softmax } from "../../src/torch/mod.ts";
import { cuda, manualSeed, ones, randn, scope, tensor, TorchError, zeros } from "../../mod.ts";
import { assertClose, noLeaks } from "./_helpers.ts";

const gpu = cuda.isAvailable();

Deno.test(
  "cuda.isAvailable() agrees with cuda.deviceCount(); setCudnnBenchmark() works on any build",
  () => {
    assert.equal(gpu, cuda.deviceCount() > 0);
    cuda.setCudnnBenchmark(false);
  },
);

Deno.test(
  "cuda.autocast('cpu') runs matmul in bfloat16 and restores float32 afterwards, also after a throw",
  noLeaks(() =>
    scope(() => {
      const a = ones([2, 3]);
      const b = ones([3, 2]);
      const inside = cuda.autocast("cpu", () => a.matmul(b));
      assert.equal(inside.dtype, "bfloat16");
      assert.deepEqual(inside.toArray(), [[3, 3], [3, 3]]);
      assert.equal(a.matmul(b).dtype, "float32");
      assert.equal(cuda.autocast("cpu", () => a.add(b.t())).dtype, "float32"); // elementwise ops are not cast
      assert.throws(() =>
        cuda.autocast("cpu", () => {
          throw new Error("boom");
        })
      );
      assert.equal(a.matmul(b).dtype, "float32");
      assert.throws(() => cuda.autocast("gpu" as never, () => 0), TypeError);
    })
  ),
);

Deno.test(
  "nested cuda.autocast keeps autocast on until the outer region ends, and restores each device's state",
  noLeaks(() =>
    scope(() => {
      const a = ones([2, 2]);
      const dtypes = cuda.autocast("cpu", () => {
        const inner = cuda.autocast("cpu", () => a.matmul(a).dtype);
        const afterInner = a.matmul(a).dtype;
        // A CUDA region inside a CPU one leaves CPU autocast as it was (on), and vice versa.
        const underCuda = cuda.autocast("cuda", () => a.matmul(a).dtype);
        const afterCuda = a.matmul(a).dtype;
        return [inner, afterInner, underCuda, afterCuda];
      });
      assert.deepEqual(dtypes, ["bfloat16", "bfloat16", "bfloat16", "bfloat16"]);
      assert.equal(a.matmul(a).dtype, "float32");
      const underCpu = cuda.autocast("cuda", () => {
        const inCpu = cuda.autocast("cpu", () => a.matmul(a).dtype);
        return [inCpu, a.matmul(a).dtype];
      });
      assert.deepEqual(underCpu, ["bfloat16", "float32"]); // CPU autocast ended with its region
      assert.equal(a.matmul(a).dtype, "float32");
    })
  ),
);

Deno.test({
  name: "CUDA runtime functions throw TorchError without CUDA",
  ignore: gpu,
  fn: noLeaks(() => {
    assert.throws(() => cuda.memoryStats(), { name: "TorchError", message: /CUDA is not available/ });
    assert.throws(() => cuda.resetPeakMemoryStats(), { name: "TorchError", message: /CUDA is not available/ });
    assert.throws(() => cuda.emptyCache(), { name: "TorchError", message: /CUDA is not available/ });
    assert.throws(() => cuda.synchronize(), { name: "TorchError", message: /CUDA is not available/ });
    assert.throws(() => zeros([2], { device: "cuda" }), { name: "TorchError", message: /CUDA is not available/ });
  }),
});

Deno.test({
  name: "CUDA tensor ops match the CPU (float64: no TF32)",
  ignore: !gpu,
  fn: noLeaks(() =>
    scope(() => {
      manualSeed(0);
      const x = randn([2, 3, 6, 6], { dtype: "float64" });
      const w = randn([4, 3, 3, 3], { dtype: "float64" });
      const xc = x.to("cuda");
      const wc = w.cuda();
      assert.equal(xc.device, "cuda:0");
      assertClose(conv2d(xc, wc, null, { padding: 1 }).cpu(), conv2d(x, w, null, { padding: 1 }), { atol: 1e-10 });
      const m = x.reshape([6, -1]);
      assertClose(m.cuda().matmul(m.cuda().t()).cpu(), m.matmul(m.t()), { atol: 1e-10 });
      assertClose(softmax(m.cuda(), 1).sum(1).cpu(), ones([6]), { atol: 1e-12 });
      assertClose(tensor([1, 2], { device: "cuda" }).mul(3), [3, 6]);
      assert.equal(zeros([2], { device: "cuda:0" }).device, "cuda:0");
      cuda.synchronize();
      assert.throws(() => zeros([1], { device: "cuda:99" }), TorchError);
    })
  ),
});

Deno.test({
  name: "cuda.autocast('cuda') makes matmul bfloat16 inside and float32 outside",
  ignore: !gpu,
  fn: noLeaks(() =>
    scope(() => {
      const a = ones([4, 4], { device: "cuda" });
      assert.equal(cuda.autocast("cuda", () => a.matmul(a)).dtype, "bfloat16");
      assert.equal(cuda.autocast("cuda", () => a.matmul(a), "float16").dtype, "float16");
      assert.equal(a.matmul(a).dtype, "float32");
      // A CPU region nested in a CUDA one leaves CUDA autocast on until the CUDA region ends.
      const inner = cuda.autocast("cuda", () => [cuda.autocast("cpu", () => a.matmul(a).dtype), a.matmul(a).dtype]);
      assert.deepEqual(inner, ["bfloat16", "bfloat16"]);
      assert.equal(cuda.autocast("cpu", () => a.matmul(a)).dtype, "float32"); // CPU autocast leaves CUDA alone
    })
  ),
});

Deno.test({
  name: "conv2d on CUDA with channels_last input matches the contiguous result",
  ignore: !gpu,
  fn: noLeaks(() =>
    scope(() => {
      manualSeed(1);
      const x = randn([2, 8, 10, 10], { device: "cuda" });
      const w = randn([16, 8, 3, 3], { device: "cuda" });
      const ref = conv2d(x, w, null, { padding: 1 });
      const cl = conv2d(x.contiguous("channels_last"), w.contiguous("channels_last"), null, { padding: 1 });
      assert.equal(cl.isContiguous("channels_last"), true);
      assertClose(cl, ref, { atol: 1e-2, rtol: 1e-2 }); // cuDNN may pick TF32 kernels
    })
  ),
});

Deno.test({
  name: "backward on CUDA gives the CPU gradients, on the CUDA device",
  ignore: !gpu,
  fn: noLeaks(() =>
    scope(() => {
      const w = tensor([1, 2, 3], { dtype: "float64", device: "cuda", requiresGrad: true });
      w.pow(3).sum().backward();
      const g = w.grad!;
      assert.equal(g.device, "cuda:0");
      assert.deepEqual(g.cpu().toArray(), [3, 12, 27]);
    })
  ),
});

Deno.test({
  name: "cuda.memoryStats(): allocated grows after allocating and falls after dispose",
  ignore: !gpu,
  fn: noLeaks(() => {
    cuda.synchronize();
    const before = cuda.memoryStats();
    const t = zeros([16, 1024, 1024], { device: "cuda" }); // 64 MiB
    const during = cuda.memoryStats();
    assert.ok(during.allocated >= before.allocated + 64 * 2 ** 20, `${before.allocated} → ${during.allocated}`);
    assert.ok(during.peakAllocated >= during.allocated && during.reserved >= during.allocated);
    t.dispose();
    assert.ok(cuda.memoryStats().allocated <= during.allocated - 64 * 2 ** 20);
    cuda.resetPeakMemoryStats();
    cuda.emptyCache();
    assert.ok(cuda.memoryStats().reserved <= during.reserved);
    assert.throws(() => cuda.memoryStats(99), TorchError);
  }),
});
