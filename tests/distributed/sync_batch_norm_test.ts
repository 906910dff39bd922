/** syncBatchNorm over two real Deno ranks equals BatchNorm over the concatenated batch in one process. */
import assert from "node:assert/strict";
import * as T from "../_all.ts";
import { globalBatch } from "./_data.ts";
import { freePort, runRanks } from "./_spawn.ts";

function close(a: unknown, b: unknown, tol = 1e-4): void {
  const [x, y] = [[a].flat(5) as number[], [b].flat(5) as number[]];
  assert.equal(x.length, y.length);
  x.forEach((v, i) => assert.ok(Math.abs(v - y[i]) <= tol * (1 + Math.abs(y[i])), `${v} vs ${y[i]} at ${i}`));
}

/** BatchNorm2d over the whole batch in this process: outputs, gradients and running statistics. */
function reference(): Record<string, number[]> {
  return T.scope(() => {
    const { images, c } = globalBatch();
    const x = images.detach().requiresGrad_();
    const bn = new T.BatchNorm2d(3);
    T.noGrad(() => bn.weight.mul_(1.5));
    const y = bn.forward(x);
    y.mul(c).sum().backward();
    const out = {
      y: y.toArray(),
      gx: x.grad!.toArray(),
      gw: bn.weight.grad!.toArray(),
      gb: bn.bias.grad!.toArray(),
      runningMean: bn.running_mean.toArray(),
      runningVar: bn.running_var.toArray(),
    } as Record<string, number[]>;
    bn.dispose();
    return out;
  });
}

Deno.test("syncBatchNorm on 2 ranks: forward, backward and running statistics equal BatchNorm2d on the global batch", async () => {
  const results = (await runRanks("syncBn")).map((r) => r.syncBn as Record<string, number[]>);
  const ref = reference();
  results.forEach((r, rank) => {
    close(r.y, ref.y.slice(rank * 4, rank * 4 + 4));
    close(r.gx, ref.gx.slice(rank * 4, rank * 4 + 4));
    close(r.gw, ref.gw);
    close(r.gb, ref.gb);
    close(r.runningMean, ref.runningMean);
    close(r.runningVar, ref.runningVar);
  });
});

Deno.test("syncBatchNorm on one rank matches batchNorm in training and eval, and frees its intermediates", () => {
  using g = T.ProcessGroup.join({ address: "127.0.0.1", port: freePort(), rank: 0, worldSize: 1 });
  const before = T.liveTensors();
  T.scope(() => {
    T.manualSeed(3);
    const x = T.randn([6, 4, 3]).mul(3);
    const [rm1, rv1, rm2, rv2] = [T.zeros([4]), T.ones([4]), T.zeros([4]), T.ones([4])];
    const a = T.syncBatchNorm(g, x, { runningMean: rm1, runningVar: rv1 });
    const b = T.batchNorm(x, { runningMean: rm2, runningVar: rv2 });
    close(a.toArray(), b.toArray());
    close(rv1.toArray(), rv2.toArray());
    const e = T.syncBatchNorm(g, x, { runningMean: rm1, runningVar: rv1, training: false });
    close(e.toArray(), T.batchNorm(x, { runningMean: rm2, runningVar: rv2, training: false }).toArray());
    assert.throws(() => T.syncBatchNorm(g, T.ones([3])), TypeError);
  });
  assert.equal(T.liveTensors(), before);
});

Deno.test("syncBatchNorm keeps the variance of features with a large mean (merged from per-rank M2, not E[x²] − E[x]²)", () => {
  using g = T.ProcessGroup.join({ address: "127.0.0.1", port: freePort(), rank: 0, worldSize: 1 });
  T.scope(() => {
    T.manualSeed(4);
    // std 0.01 around 1000: in float32, E[x²] − E[x]² = 1e6 − 1e6 loses the 1e-4 variance entirely (clamped to 0,
    // it made the outputs ~1e2 instead of ~1).
    const x = T.randn([64, 3]).mul(0.01).add(1000);
    const rv = T.ones([3]);
    const got = T.syncBatchNorm(g, x, { runningMean: T.zeros([3]), runningVar: rv });
    const want = T.batchNorm(x.to("float64"), { eps: 1e-5 }).to("float32");
    close(got.toArray(), want.toArray(), 2e-2);
    // The running variance moved by 0.1 · the unbiased batch variance (≈ 1e-4) from 1: 0.9 + ~1e-5.
    for (const v of rv.toArray() as number[]) assert.ok(Math.abs(v - 0.9) < 1e-4, `running var ${v}`);
  });
});
