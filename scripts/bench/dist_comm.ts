/**
 * Benchmark: the communication of one data-parallel step of the default run at 2 ranks on CPU (Gloo
 * over 127.0.0.1): the gradient all-reduce of the default encoder (ResNet-20 width 16 + 512→128
 * projector) in buckets, UniGrad's F all-reduce, the SyncBN statistics (forward + backward of the
 * encoder with and without SyncBN), and the initial broadcast. Bytes per step and median ms; the same
 * gradient all-reduce through PyTorch's torch.distributed (Gloo, same libtorch) alternates with ours.
 *
 * Usage: `deno run -A scripts/bench/dist_comm.ts [--steps 20] [--batch 128] [--rounds 2]`
 * (`--batch` is per rank; each rank gets one thread of the 2-core machine).
 *
 * @module
 */
import { parseArgs } from "node:util";
import * as torch from "../../src/torch/mod.ts";
import * as nn from "../../src/nn/mod.ts";
import * as distributed from "../../src/distributed/mod.ts";
import * as ssl from "../../src/ssl/mod.ts";

const T = { ...torch, ...nn, ...distributed, ...ssl };
import { bucketize, tensorBytes } from "../../src/distributed/grad_sync.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    steps: { type: "string", default: "20" },
    batch: { type: "string", default: "128" },
    rounds: { type: "string", default: "2" },
    child: { type: "string" },
    python: { type: "string", default: "/usr/bin/python3" },
  },
});
const steps = Number(values.steps);
const batch = Number(values.batch);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

function timed(n: number, fn: () => void): number {
  fn(); // warm-up
  const times: number[] = [];
  for (let k = 0; k < n; k++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

/** One rank: joins from the torchrun-style variables the parent set, measures, prints JSON. */
function child(kind: string): void {
  T.setNumThreads(1);
  const { group } = T.initDistributed({ timeoutMs: 60_000 })!;
  T.manualSeed(group.rank);
  const enc = T.siameseEncoder({
    arch: "resnet20",
    inChannels: 1,
    imageSize: 28,
    projHidden: 512,
    projDim: 128,
    projDepth: 2,
  });
  const params = enc.parameters();
  const state = [...params, ...enc.buffers()];
  const out: Record<string, unknown> = { rank: group.rank };
  if (kind === "grads") {
    out.broadcastMs = timed(1, () => T.broadcastTensors(group, state));
    out.broadcastBytes = state.reduce((s, t) => s + tensorBytes(t), 0);
    T.noGrad(() => params.forEach((p) => T.scope(() => p.setGrad(T.randnLike(p)))));
    const averager = new T.GradientAverager(group, params);
    out.gradMs = timed(steps, () => averager.average());
    out.gradBytes = averager.lastBytes;
    out.buckets = bucketize(params, 1 << 20, 25 << 20).map((b) => b.reduce((s, t) => s + t.numel, 0));
    const F = T.randn([128, 128]);
    const comm = T.processGroupComm(group);
    out.fMs = timed(steps, () => comm.allReduceMean(F).dispose());
    out.fBytes = tensorBytes(F);
  } else if (kind === "overlap") {
    // fwd+bwd alone, then + the all-reduce after backward, then + the all-reduce from gradient hooks;
    // the three alternate step by step so that drift hits them alike. Local BN: only the gradients travel.
    const x = T.rand([batch, 1, 28, 28]);
    const fwdBwd = () => T.scope(() => enc.forward(x).square().mean().backward());
    const after = new T.GradientAverager(group, params);
    const times: number[][] = [[], [], []];
    for (let k = 0; k <= steps; k++) {
      for (let v = 0; v < 3; v++) {
        params.forEach((p) => p.setGrad(null));
        // Hooks exist only while the third variant runs (made and removed outside the timing).
        const hooked = v === 2 ? new T.GradientAverager(group, params, { overlap: true }) : null;
        const t0 = performance.now();
        fwdBwd();
        if (v === 1) after.average();
        hooked?.average();
        if (k > 0) times[v].push(performance.now() - t0); // step 0 warms up
        hooked?.dispose();
      }
    }
    [out.computeMs, out.afterMs, out.overlapMs] = times.map(median);
  } else {
    const x = T.rand([batch, 1, 28, 28]);
    const all = (m: nn.Module): nn.Module[] => [m, ...m.namedChildren().flatMap(([, c]) => all(c))];
    const norms = all(enc).filter((m): m is nn.BatchNorm => m instanceof T.BatchNorm);
    const step = () => T.scope(() => enc.forward(x).square().mean().backward());
    const n = Math.max(3, steps >> 2);
    // Local and synchronised BN alternate step by step, so that drift on a shared machine hits both alike.
    const times: number[][] = [[], []];
    for (let k = 0; k <= n; k++) {
      for (const v of [0, 1]) {
        norms.forEach((bn) => bn.setTrainingNorm(v === 0 ? null : (t, o) => T.syncBatchNorm(group, t, o)));
        const t0 = performance.now();
        step();
        if (k > 0) times[v].push(performance.now() - t0);
      }
    }
    [out.localBnMs, out.syncBnMs] = times.map(median);
    out.bnLayers = norms.length;
    out.syncBnBytes = 2 * norms.reduce((s, bn) => s + (2 * bn.numFeatures + 1) * 4, 0); // forward + backward
  }
  console.log(JSON.stringify(out));
  group.dispose();
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Runs 2 ranks of `cmd` (extra args per rank) with torchrun-style variables; returns rank 0's JSON. */
async function twoRanks(cmd: string, args: string[]): Promise<Record<string, number>> {
  const port = String(freePort());
  const runs = [0, 1].map((rank) =>
    new Deno.Command(cmd, {
      args,
      env: { RANK: String(rank), WORLD_SIZE: "2", MASTER_ADDR: "127.0.0.1", MASTER_PORT: port },
      stdout: "piped",
      stderr: "inherit",
    }).output()
  );
  const outs = await Promise.all(runs);
  outs.forEach((o, r) => {
    if (!o.success) throw new Error(`rank ${r} of ${cmd} failed`);
  });
  return JSON.parse(new TextDecoder().decode(outs[0].stdout).trim().split("\n").at(-1)!);
}

if (values.child) {
  child(values.child);
} else {
  const self = new URL(import.meta.url).pathname;
  const py = new URL("./dist_comm_torch.py", import.meta.url).pathname;
  const ours: Record<string, number>[] = [];
  const torch: Record<string, number>[] = [];
  for (let r = 0; r < Number(values.rounds); r++) {
    const o = await twoRanks(Deno.execPath(), ["run", "-A", self, "--child", "grads", "--steps", String(steps)]);
    ours.push(o);
    torch.push(await twoRanks(values.python!, [py, JSON.stringify({ buckets: o.buckets, steps })]));
  }
  const bn = await twoRanks(Deno.execPath(), ["run", "-A", self, "--child", "syncbn", "--steps", String(steps)]);
  const ov = await twoRanks(Deno.execPath(), [
    "run",
    "-A",
    self,
    "--child",
    "overlap",
    "--steps",
    String(steps),
    "--batch",
    String(batch),
  ]);
  const o = ours[0];
  const gradOurs = median(ours.map((x) => x.gradMs));
  const gradTorch = median(torch.map((x) => x.gradMs));
  const mb = (b: number) => (b / 2 ** 20).toFixed(2);
  console.log(`Data-parallel communication, default encoder, 2 ranks × 1 thread, Gloo on 127.0.0.1, ${steps} steps`);
  console.log(`gradient all-reduce   ${mb(o.gradBytes)} MiB/step in buckets of [${o.buckets}] elements`);
  console.log(`  ours                ${gradOurs.toFixed(2)} ms/step (rounds: ${ours.map((x) => x.gradMs.toFixed(2))})`);
  console.log(
    `  torch.distributed   ${gradTorch.toFixed(2)} ms/step (rounds: ${torch.map((x) => x.gradMs.toFixed(2))})`,
  );
  console.log(`  ratio ours/PyTorch  ${(gradOurs / gradTorch).toFixed(2)}`);
  console.log(`F all-reduce (UniGrad) ${(o.fBytes / 1024).toFixed(0)} KiB/step, ${o.fMs.toFixed(2)} ms/step`);
  console.log(
    `SyncBN (${bn.bnLayers} layers)     ${(bn.syncBnBytes / 1024).toFixed(1)} KiB per forward+backward; ` +
      `encoder fwd+bwd at batch ${batch}/rank: ${bn.localBnMs.toFixed(1)} ms local BN, ${
        bn.syncBnMs.toFixed(1)
      } ms SyncBN ` +
      `(+${(bn.syncBnMs - bn.localBnMs).toFixed(1)} ms)`,
  );
  console.log(`initial broadcast     ${mb(o.broadcastBytes)} MiB once, ${o.broadcastMs.toFixed(2)} ms`);
  console.log(
    `fwd+bwd at batch ${batch}/rank: ${
      ov.computeMs.toFixed(1)
    } ms alone; with the gradient all-reduce after backward ` +
      `${ov.afterMs.toFixed(1)} ms (+${(ov.afterMs - ov.computeMs).toFixed(1)}), from gradient hooks during backward ` +
      `${ov.overlapMs.toFixed(1)} ms (+${(ov.overlapMs - ov.computeMs).toFixed(1)})`,
  );
}
