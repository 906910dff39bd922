/**
 * A rank of the distributed tests: `deno run -A _worker.ts <scenario> <port> <rank> <world> [timeoutMs]`.
 * Joins a Gloo group on 127.0.0.1, runs the scenario and prints one JSON line with its results (or
 * `{"error": …}` and exit code 1). The test process spawns one per rank (see _spawn.ts).
 */
import * as T from "../_all.ts";
import { globalBatch, SCENARIO_SHAPES } from "./_data.ts";

const [scenario, portArg, rankArg, worldArg, timeoutArg] = Deno.args;
const rank = Number(rankArg);
const worldSize = Number(worldArg);
const timeoutMs = Number(timeoutArg ?? 5000);

function collectives(g: T.ProcessGroup): Record<string, unknown> {
  return T.scope(() => {
    const x = T.tensor([rank + 1, 10 * (rank + 1)]);
    g.allReduceSum_(x);
    const m = T.tensor([rank, 2 * rank]);
    g.allReduceMean_(m);
    const a = T.full([2, 2], rank + 1);
    const b = T.full([3], rank + 1, { dtype: "int64" });
    g.allReduceCoalesced_([a, b], 0.5);
    const gathered = g.allGather(T.tensor([[rank, rank]]));
    const p = T.full([2], rank + 7);
    const q = T.full([1], rank + 3, { dtype: "int64" });
    g.broadcast_([p, q], 1);
    g.barrier();
    const comm = T.processGroupComm(g);
    const mean = comm.allReduceMean(T.tensor([rank * 4]));
    return {
      sum: x.toArray(),
      mean: m.toArray(),
      coalesced: [a.toArray(), b.toArray()],
      gathered: gathered.toArray(),
      broadcast: [p.toArray(), q.toArray()],
      commMean: mean.toArray(),
    };
  });
}

/** A linear layer on this rank's slice; gradients averaged; initial weights broadcast from rank 0. */
function gradients(g: T.ProcessGroup): Record<string, unknown> {
  return T.scope(() => {
    const { x, y } = globalBatch();
    const n = x.size(0) / worldSize;
    T.manualSeed(100 + rank); // different initial weights on every rank …
    const w = T.randn(SCENARIO_SHAPES.weight, { requiresGrad: true });
    const bias = T.zeros([SCENARIO_SHAPES.weight[0]], { requiresGrad: true });
    T.broadcastTensors(g, [w, bias]); // … until rank 0's are broadcast
    const loss = T.linear(x.narrow(0, rank * n, n), w, bias).sub(y.narrow(0, rank * n, n)).square().mean();
    loss.backward();
    const averager = new T.GradientAverager(g, [w, bias], { firstBucketBytes: 16, bucketBytes: 16 });
    averager.average();
    return { w: w.toArray(), gw: w.grad!.toArray(), gb: bias.grad!.toArray(), bytes: averager.lastBytes };
  });
}

/** As `gradients`, with the all-reduce started from gradient hooks during backward; two steps. */
function overlap(g: T.ProcessGroup): Record<string, unknown> {
  return T.scope(() => {
    const { x, y } = globalBatch();
    const n = x.size(0) / worldSize;
    T.manualSeed(100);
    const w = T.randn(SCENARIO_SHAPES.weight, { requiresGrad: true });
    const bias = T.zeros([SCENARIO_SHAPES.weight[0]], { requiresGrad: true });
    using averager = new T.GradientAverager(g, [w, bias], { firstBucketBytes: 16, bucketBytes: 16, overlap: true });
    const steps = [0, 1].map(() => {
      w.setGrad(null);
      bias.setGrad(null);
      T.linear(x.narrow(0, rank * n, n), w, bias).sub(y.narrow(0, rank * n, n)).square().mean().backward();
      averager.average();
      return { gw: w.grad!.toArray(), gb: bias.grad!.toArray() };
    });
    return { steps };
  });
}

/** SyncBN over this rank's slice, loss Σ c·y summed over ranks. */
function syncBn(g: T.ProcessGroup): Record<string, unknown> {
  return T.scope(() => {
    const { images, c } = globalBatch();
    const n = images.size(0) / worldSize;
    const x = images.narrow(0, rank * n, n).detach().requiresGrad_();
    const bn = new T.BatchNorm2d(images.size(1));
    T.noGrad(() => bn.weight.mul_(1.5));
    bn.setTrainingNorm((t, o) => T.syncBatchNorm(g, t, o));
    const y = bn.forward(x);
    y.mul(c.narrow(0, rank * n, n)).sum().backward();
    const gw = bn.weight.grad!;
    const gb = bn.bias.grad!;
    g.allReduceSum_(gw);
    g.allReduceSum_(gb);
    const out = {
      y: y.toArray(),
      gx: x.grad!.toArray(),
      gw: gw.toArray(),
      gb: gb.toArray(),
      runningMean: bn.running_mean.toArray(),
      runningVar: bn.running_var.toArray(),
    };
    bn.dispose();
    return out;
  });
}

/** A nonlinear loss of the gathered batch, the same on every rank; gradient through allGatherWithGrad. */
function gatherGrad(g: T.ProcessGroup): Record<string, unknown> {
  return T.scope(() => {
    const { x } = globalBatch();
    const n = x.size(0) / worldSize;
    const mine = x.narrow(0, rank * n, n).detach().requiresGrad_();
    const all = g.allGatherWithGrad(mine);
    const loss = all.mm(all.t()).square().sum(); // [] couples every pair of samples
    loss.backward();
    return { all: all.toArray(), grad: mine.grad!.toArray() };
  });
}

/** Joins, says ready, then all-reduces until a peer disappears. */
function survive(g: T.ProcessGroup): Record<string, unknown> {
  console.log(JSON.stringify({ ready: true }));
  const t0 = performance.now();
  for (;;) {
    try {
      T.scope(() => g.allReduceSum_(T.ones([4])));
    } catch (e) {
      const d = e as T.DistributedError;
      return { failed: d.message, deadRanks: d.deadRanks, name: d.name, seconds: (performance.now() - t0) / 1000 };
    }
  }
}

/** Rank 1 asks to stop at step 3; every rank reports the step at which they agreed. */
function stop(g: T.ProcessGroup): Record<string, unknown> {
  for (let step = 0; step < 10; step++) {
    if (T.agreeToStop(g, rank === 1 && step === 3)) return { stoppedAt: step };
  }
  return { stoppedAt: null };
}

const SCENARIOS: Record<string, (g: T.ProcessGroup) => Record<string, unknown>> = {
  collectives,
  gradients,
  overlap,
  syncBn,
  gatherGrad,
  survive,
  stop,
};

try {
  using g = T.ProcessGroup.join({ address: "127.0.0.1", port: Number(portArg), rank, worldSize, timeoutMs });
  const results: Record<string, unknown> = {};
  for (const name of scenario.split(",")) results[name] = SCENARIOS[name](g);
  console.log(JSON.stringify(results));
} catch (e) {
  console.log(JSON.stringify({ error: (e as Error).message }));
  Deno.exit(1);
}
