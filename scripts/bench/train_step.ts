/**
 * Benchmark: one UniGrad training step (two views through the online encoder with backward, two
 * through the momentum encoder, SGD, EMA), ours against the same step in PyTorch on the same libtorch
 * (Debian's python3-torch 1.13 on CPU; the wheel on a GPU machine), same threads, same model, batch
 * and method, in three numerics settings: fp32 NCHW, fp32 channels_last and bf16 autocast with
 * channels_last. PyTorch runs in a python3 process that times one step per request, so the two sides
 * alternate step by step and load from other processes on a shared machine hurts both alike. Prints
 * median ms/step, pairs/s and the speed-up (median over step pairs of PyTorch ms / ours ms; above 1 =
 * ours faster) per setting, and marks the setting `--precision auto` picks on this machine (its reason
 * names the CPU class; run it under ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2 for an AVX2-only CPU).
 *
 * Usage: `deno task bench:train [-- --arch resnet20 --batch 128 --steps 8 --device cpu
 * --settings fp32-nchw,fp32-cl,bf16-cl]`
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type PythonServer, pythonServer } from "./_python_server.ts";
import type { Arch } from "../../src/ssl/mod.ts";
import {
  buildTrainer,
  cpuCapabilities,
  cuda,
  DEFAULT_CONFIG,
  type Device,
  manualSeed,
  rand,
  scope,
  setNumThreads,
  unigrad,
} from "../../mod.ts";
import { chooseNumerics } from "../../src/run/mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    arch: { type: "string", default: "resnet20" },
    batch: { type: "string", default: String(DEFAULT_CONFIG.batchSize) }, // the default run's step
    steps: { type: "string", default: "8" },
    warmup: { type: "string", default: "2" },
    threads: { type: "string", default: String(navigator.hardwareConcurrency) },
    device: { type: "string", default: "cpu" },
    size: { type: "string", default: "28" },
    channels: { type: "string", default: "1" },
    "proj-hidden": { type: "string", default: "512" },
    "proj-dim": { type: "string", default: "128" },
    "proj-depth": { type: "string", default: "2" },
    settings: { type: "string", default: "fp32-nchw,fp32-cl,bf16-cl" },
    python: { type: "string", default: "/usr/bin/python3" },
  },
  strict: true,
});

/** A numerics setting, as both sides run it. */
interface Setting {
  name: string;
  precision: "fp32" | "bf16";
  channelsLast: boolean;
}
const SETTINGS: Record<string, Setting> = {
  "fp32-nchw": { name: "fp32 NCHW", precision: "fp32", channelsLast: false },
  "fp32-cl": { name: "fp32 channels_last", precision: "fp32", channelsLast: true },
  "bf16-nchw": { name: "bf16 NCHW", precision: "bf16", channelsLast: false },
  "bf16-cl": { name: "bf16 channels_last", precision: "bf16", channelsLast: true },
};
const settings = values.settings!.split(",").map((s) => {
  if (!(s in SETTINGS)) throw new TypeError(`Unknown setting "${s}": expected ${Object.keys(SETTINGS).join(", ")}`);
  return SETTINGS[s];
});

const cfg = {
  arch: values.arch!,
  batch: Number(values.batch),
  steps: Number(values.steps),
  warmup: Number(values.warmup),
  threads: Number(values.threads),
  device: values.device!,
  size: Number(values.size),
  channels: Number(values.channels),
  projHidden: Number(values["proj-hidden"]),
  projDim: Number(values["proj-dim"]),
  projDepth: Number(values["proj-depth"]),
  lambda: (100 * Number(values["proj-dim"])) / 2048,
};
const device = cfg.device as Device;
const onCuda = device !== "cpu";
setNumThreads(cfg.threads);
if (onCuda) cuda.setCudnnBenchmark(true);
const sync = onCuda ? () => cuda.synchronize() : () => {};

/** Our parts in setting `s` (the set-up a run builds: buildTrainer), and a function that runs and times step k (ms). */
function ours(s: Setting): { step(k: number): number; dispose(): void } {
  manualSeed(0);
  const { projHidden, projDim, projDepth } = cfg;
  const setup = buildTrainer({
    encoder: { arch: cfg.arch as Arch, inChannels: cfg.channels, imageSize: cfg.size, projHidden, projDim, projDepth },
    method: unigrad({ lambda: cfg.lambda, checkValues: false }),
    device,
    totalSteps: cfg.steps + cfg.warmup,
    lr: 0.1,
    weightDecay: 5e-4,
    precision: s.precision,
    channelsLast: s.channelsLast,
  });
  const trainer = setup.trainer;
  const x1 = rand([cfg.batch, cfg.channels, cfg.size, cfg.size], { device });
  const x2 = rand([cfg.batch, cfg.channels, cfg.size, cfg.size], { device });
  return {
    step(k: number): number {
      const t0 = performance.now();
      scope(() => trainer.step([x1, x2], k, 0.1)).dispose();
      sync();
      return performance.now() - t0;
    },
    dispose() {
      x1.dispose();
      x2.dispose();
      setup.dispose();
    },
  };
}

/** PyTorch's step in setting `s`: a python3 process that runs and times one step per request. */
function torch(s: Setting): PythonServer {
  const script = new URL("./train_step_torch.py", import.meta.url).pathname;
  const spec = { ...cfg, precision: s.precision, channelsLast: s.channelsLast, serve: true };
  return pythonServer(values.python!, script, [JSON.stringify(spec)]);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
// Per setting: the two sides alternate step by step (who goes first alternates too), so load from
// other processes lands on both alike; the speed-up is the median of the per-step-pair ratios.
const results = [];
for (const s of settings) {
  const a = ours(s);
  const b = torch(s);
  const mine: number[] = [];
  const theirs: number[] = [];
  for (let k = 0; k < cfg.warmup + cfg.steps; k++) {
    const [t1, t2] = k % 2 === 0 ? [a.step(k), await b.time("step")] : [await b.time("step"), a.step(k)].reverse();
    if (k >= cfg.warmup) {
      mine.push(t1);
      theirs.push(t2);
    }
  }
  a.dispose();
  await b.close();
  const speedup = median(theirs.map((t, i) => t / mine[i]));
  results.push({
    s,
    ours: median(mine),
    oursMin: Math.min(...mine),
    torch: median(theirs),
    torchMin: Math.min(...theirs),
    speedup,
  });
}

console.log(
  `UniGrad step, ${cfg.arch} ${
    cfg.size <= 64 ? "small" : "ImageNet"
  } stem, ${cfg.channels}×${cfg.size}², batch ${cfg.batch}, projector ${cfg.projHidden}→${cfg.projDim} (depth ${cfg.projDepth}), ${device}, ${cfg.threads} threads, ${cfg.steps} timed step pairs (ours and PyTorch alternating)`,
);
console.log(
  `${"setting".padEnd(20)} ${"ours ms".padStart(9)} ${"min".padStart(8)} ${"torch ms".padStart(9)} ${
    "min".padStart(8)
  } ${"ours pairs/s".padStart(13)} ${"speed-up".padStart(9)}`,
);
// The setting `--precision auto` picks here, marked in the table.
const auto = chooseNumerics(device, "auto", cpuCapabilities());
const picked = (s: Setting) => s.precision === (auto.bf16 ? "bf16" : "fp32") && s.channelsLast === auto.channelsLast;
for (const r of results) {
  console.log(
    `${(picked(r.s) ? `${r.s.name} ← auto` : r.s.name).padEnd(20)} ${r.ours.toFixed(1).padStart(9)} ${
      r.oursMin.toFixed(1).padStart(8)
    } ${r.torch.toFixed(1).padStart(9)} ${r.torchMin.toFixed(1).padStart(8)} ${
      ((cfg.batch * 1000) / r.ours).toFixed(0).padStart(13)
    } ${r.speedup.toFixed(3).padStart(8)}×`,
  );
}
console.log("speed-up = median over step pairs of PyTorch ms / ours ms (above 1 = ours faster)");
console.log(`auto picks on this machine: ${auto.reason}`);
