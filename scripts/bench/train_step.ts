/**
 * Benchmark: one UniGrad training step (two views through the online encoder with backward, two
 * through the momentum encoder, SGD, EMA), ours against the same step in PyTorch on the same libtorch
 * (Debian's python3-torch 1.13 on CPU; the wheel on a GPU machine), in one run, same threads, same
 * model, batch and method. Prints median ms/step, pairs/s and the ratio.
 *
 * Usage: `deno task bench:train [-- --arch resnet20 --batch 256 --steps 10 --device cpu]`
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  type Arch,
  buildTrainer,
  cuda,
  type Device,
  manualSeed,
  rand,
  scope,
  setNumThreads,
  unigrad,
} from "../../mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    arch: { type: "string", default: "resnet20" },
    batch: { type: "string", default: "256" },
    steps: { type: "string", default: "10" },
    warmup: { type: "string", default: "3" },
    threads: { type: "string", default: String(navigator.hardwareConcurrency) },
    device: { type: "string", default: "cpu" },
    size: { type: "string", default: "28" },
    channels: { type: "string", default: "1" },
    "proj-hidden": { type: "string", default: "512" },
    "proj-dim": { type: "string", default: "128" },
    "proj-depth": { type: "string", default: "2" },
    precision: { type: "string", default: "fp32" },
    python: { type: "string", default: "/usr/bin/python3" },
  },
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
  precision: values.precision!,
  lambda: (100 * Number(values["proj-dim"])) / 2048,
};
const device = cfg.device as Device;
const onCuda = device !== "cpu";
setNumThreads(cfg.threads);
manualSeed(0);

// The set-up a run builds (buildTrainer), so the benchmark times the step train.ts takes.
const { projHidden, projDim, projDepth } = cfg;
const setup = buildTrainer({
  encoder: { arch: cfg.arch as Arch, inChannels: cfg.channels, imageSize: cfg.size, projHidden, projDim, projDepth },
  method: unigrad({ lambda: cfg.lambda, checkValues: false }),
  device,
  totalSteps: cfg.steps + cfg.warmup,
  lr: 0.1,
  weightDecay: 5e-4,
  precision: cfg.precision as "fp32" | "bf16",
});
const trainer = setup.trainer;
const x1 = rand([cfg.batch, cfg.channels, cfg.size, cfg.size], { device });
const x2 = rand([cfg.batch, cfg.channels, cfg.size, cfg.size], { device });
const sync = onCuda ? () => cuda.synchronize() : () => {};
if (onCuda) cuda.resetPeakMemoryStats();

for (let k = 0; k < cfg.warmup; k++) scope(() => trainer.step([x1, x2], k, 0.1)).dispose();
sync();
const times: number[] = [];
for (let k = 0; k < cfg.steps; k++) {
  const t0 = performance.now();
  scope(() => trainer.step([x1, x2], cfg.warmup + k, 0.1)).dispose();
  sync();
  times.push(performance.now() - t0);
}
times.sort((a, b) => a - b);
const ours = {
  median_ms: times[times.length >> 1],
  min_ms: times[0],
  peak_gib: onCuda ? cuda.memoryStats().peakAllocated / 2 ** 30 : undefined,
};

const script = new URL("./train_step_torch.py", import.meta.url).pathname;
const py = new Deno.Command(values.python!, { args: [script, JSON.stringify(cfg)] }).outputSync();
if (!py.success) {
  console.error(new TextDecoder().decode(py.stderr));
  Deno.exit(1);
}
const torch = JSON.parse(new TextDecoder().decode(py.stdout));
const pairs = (ms: number) => ((cfg.batch * 1000) / ms).toFixed(0);
console.log(
  `UniGrad step, ${cfg.arch} small stem, ${cfg.channels}×${cfg.size}², batch ${cfg.batch}, projector ${cfg.projHidden}→${cfg.projDim} (depth ${cfg.projDepth}), ${device}, ${cfg.precision}, ${cfg.threads} threads, ${cfg.steps} timed steps`,
);
console.log(`            median ms/step   min ms/step   pairs/s${onCuda ? "   peak GiB" : ""}`);
const row = (name: string, r: { median_ms: number; min_ms: number; peak_gib?: number }) =>
  console.log(
    `${name.padEnd(10)} ${r.median_ms.toFixed(1).padStart(16)} ${r.min_ms.toFixed(1).padStart(13)} ${
      pairs(r.median_ms).padStart(9)
    }${r.peak_gib !== undefined ? r.peak_gib.toFixed(2).padStart(11) : ""}`,
  );
row("unigrad", ours);
row("pytorch", torch);
console.log(
  `ratio (ours / PyTorch, median ms/step): ${(ours.median_ms / torch.median_ms).toFixed(3)}  (below 1 = faster)`,
);
