/** Gradient averaging and weight broadcast over two real Deno ranks (Gloo on 127.0.0.1). */
import assert from "node:assert/strict";
import * as T from "../_all.ts";
import { bucketize } from "../../src/distributed/grad_sync.ts";
import { globalBatch, SCENARIO_SHAPES } from "./_data.ts";
import { runRanks } from "./_spawn.ts";

function close(a: unknown, b: unknown, tol = 1e-5): void {
  const [x, y] = [[a].flat(3) as number[], [b].flat(3) as number[]];
  assert.equal(x.length, y.length);
  x.forEach((v, i) => assert.ok(Math.abs(v - y[i]) <= tol * (1 + Math.abs(y[i])), `${v} vs ${y[i]} at ${i}`));
}

Deno.test("GradientAverager: averaged gradients of 2 ranks equal the full batch's, after rank 0's weights are broadcast", async () => {
  const results = (await runRanks("gradients")).map((r) => r.gradients as Record<string, number[][]>);
  const expected = T.scope(() => {
    const { x, y } = globalBatch();
    T.manualSeed(100); // rank 0's initial weights
    const w = T.randn(SCENARIO_SHAPES.weight, { requiresGrad: true });
    const bias = T.zeros([3], { requiresGrad: true });
    T.linear(x, w, bias).sub(y).square().mean().backward();
    return { w: w.toArray(), gw: w.grad!.toArray(), gb: bias.grad!.toArray() };
  });
  for (const r of results) {
    close(r.w, expected.w, 0);
    close(r.gw, expected.gw);
    close(r.gb, expected.gb);
    assert.equal(r.bytes, (15 + 3) * 4);
  }
});

Deno.test("GradientAverager with overlap: hooks all-reduce during backward, the same mean on every step", async () => {
  const results = (await runRanks("overlap")).map((r) => r.overlap as { steps: Record<string, number[][]>[] });
  const expected = T.scope(() => {
    const { x, y } = globalBatch();
    T.manualSeed(100);
    const w = T.randn(SCENARIO_SHAPES.weight, { requiresGrad: true });
    const bias = T.zeros([3], { requiresGrad: true });
    T.linear(x, w, bias).sub(y).square().mean().backward();
    return { gw: w.grad!.toArray(), gb: bias.grad!.toArray() };
  });
  for (const r of results) {
    for (const step of r.steps) {
      close(step.gw, expected.gw);
      close(step.gb, expected.gb);
    }
  }
});

Deno.test("bucketize splits in reverse order at the bucket sizes", () => {
  T.scope(() => {
    const ts = [T.zeros([4]), T.zeros([4]), T.zeros([300])]; // 16, 16, 1200 bytes
    const buckets = bucketize(ts, 1000, 20);
    assert.deepEqual(buckets.map((b) => b.map((t) => t.numel)), [[300], [4, 4]]);
    assert.deepEqual(bucketize(ts, 1 << 20, 1 << 20).map((b) => b.length), [3]);
  });
});
