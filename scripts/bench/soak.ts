/**
 * Soak benchmark: live tensor and list handles and the process's resident memory over a long run of a
 * tiny model (ResNet-20 of width 4, a 32→16 projector, batch 8) through the whole run loop (`train()`:
 * loader, augmentation, trainer step, a metrics line every 100 steps, an epoch-end checkpoint every 100
 * steps), printed every 1,000 steps.
 * Goal: handles flat after warm-up, RSS growth under 1 % per 10,000 steps after warm-up, no growth in
 * open file descriptors or threads.
 *
 * The samples are taken from the run's stop request, which the loop polls once per step. With
 * `--nproc N` the same soak runs data parallel on N local processes (Gloo on the CPU, one rendezvous,
 * every step's gradients all-reduced, the stop agreed at each step), each rank printing its own rows.
 *
 * Usage: `deno run -A scripts/bench/soak.ts [-- --steps 10000 --every 1000 --device cpu --nproc 2]`
 *
 * @module
 */
import { parseArgs } from "node:util";
import { DEFAULT_CONFIG, liveTensors, train, type TrainConfig } from "../../mod.ts";
import { liveLists } from "../../src/torch/mod.ts";
import type { StopRequest } from "../../src/run/mod.ts";
import { launchLocal, readLaunchEnv } from "../../src/distributed/mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    steps: { type: "string", default: "10000" },
    every: { type: "string", default: "1000" },
    batch: { type: "string", default: "8" },
    device: { type: "string", default: "cpu" },
    threads: { type: "string", default: "1" },
    nproc: { type: "string", default: "1" },
    out: { type: "string" },
  },
});
const nproc = Number(values.nproc);
if (nproc > 1 && readLaunchEnv() === null) {
  // The launcher: one run folder for the job (rank 0 writes it), then the ranks.
  const folder = await Deno.makeTempDir({ prefix: "unigrad-soak-" });
  const rest = Deno.args.filter((a, i) => !(a.startsWith("--nproc") || Deno.args[i - 1] === "--nproc"));
  const code = await launchLocal({
    nproc,
    args: ["run", "-A", new URL(import.meta.url).pathname, ...rest, "--out", folder],
    env: { UNIGRAD_NUM_THREADS: values.threads! },
  });
  await Deno.remove(folder, { recursive: true });
  Deno.exit(code);
}
const rank = readLaunchEnv()?.rank ?? 0;
const steps = Number(values.steps);
const every = Number(values.every);
const batch = Number(values.batch);
const stepsPerEpoch = 100; // an epoch-end checkpoint (and metrics line) every 100 steps
const limitTrain = stepsPerEpoch * batch;
const out = values.out ?? await Deno.makeTempDir({ prefix: "unigrad-soak-" });

const config: TrainConfig = {
  ...DEFAULT_CONFIG,
  methodOptions: {},
  width: 4,
  projHidden: 32,
  projDim: 16,
  batchSize: batch,
  epochs: Math.ceil(steps / stepsPerEpoch),
  evalEvery: 0,
  limitTrain,
  limitTest: 256,
  logEvery: 100,
  checkpointEvery: 1000,
  probeEpochs: 0,
  device: values.device!,
  threads: Number(values.threads),
  out,
};

const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
const rows: { step: number; tensors: number; lists: number; rss: number; fds: number; threads: number }[] = [];
/** Open file descriptors and threads of this process (Linux /proc). */
function osCounts(): { fds: number; threads: number } {
  const fds = [...Deno.readDirSync("/proc/self/fd")].length;
  const threads = Number(/Threads:\s+(\d+)/.exec(Deno.readTextFileSync("/proc/self/status"))?.[1] ?? 0);
  return { fds, threads };
}
let polls = -1; // the loop polls once before its first step, then once after each step
const sampler: StopRequest = {
  get requested() {
    polls++;
    if (polls > 0 && polls % every === 0) {
      const row = {
        step: polls,
        tensors: liveTensors(),
        lists: liveLists(),
        rss: Deno.memoryUsage().rss,
        ...osCounts(),
      };
      rows.push(row);
      console.log(
        `rank ${rank} step ${String(row.step).padStart(6)}  live tensors ${row.tensors}  live lists ${row.lists}  RSS ${
          mb(row.rss)
        } MB  fds ${row.fds}  threads ${row.threads}`,
      );
    }
    return polls >= steps;
  },
  reason: "the soak's step count",
  exitCode: 0,
};

if (rank === 0) {
  console.log(
    `soak: ${steps} steps of a tiny ResNet-20 (width 4, 32→16 projector), batch ${batch}, ${config.device}` +
      (readLaunchEnv() ? `, data parallel on ${readLaunchEnv()!.worldSize} processes` : ""),
  );
}
const started = performance.now();
try {
  await train(config, () => {}, { stop: sampler });
} finally {
  if (values.out === undefined) await Deno.remove(out, { recursive: true });
}
const seconds = (performance.now() - started) / 1000;
const warm = rows.find((r) => r.step >= 2 * every) ?? rows[0];
const last = rows[rows.length - 1];
const growth = (100 * (last.rss - warm.rss)) / warm.rss;
const per10k = (growth * 10000) / Math.max(1, last.step - warm.step);
console.log(
  `rank ${rank} after warm-up (step ${warm.step} → ${last.step}): tensors ${warm.tensors} → ${last.tensors}, ` +
    `lists ${warm.lists} → ${last.lists}, fds ${warm.fds} → ${last.fds}, threads ${warm.threads} → ${last.threads}, ` +
    `RSS ${mb(warm.rss)} → ${mb(last.rss)} MB (${growth.toFixed(2)} %, ${per10k.toFixed(2)} % per 10,000 steps); ${
      seconds.toFixed(0)
    } s`,
);
