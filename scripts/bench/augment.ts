/**
 * Augmentation throughput: unigrad's batched augmentations against the same augmentations written with PyTorch
 * tensor ops (scripts/bench/augment_torch.py on Debian's python3-torch), on the CPU with the same
 * thread count on both sides, then a CUDA section (skipped without CUDA).
 *
 *   deno run -A scripts/bench/augment.ts              # CPU comparison + CUDA when available
 *   deno run -A scripts/bench/augment.ts --cuda-only  # for a GPU check script
 *   UNIGRAD_NUM_THREADS=2 deno run -A scripts/bench/augment.ts --seconds 4 --rounds 5
 *
 * Views per second = batch size × views per recipe / median seconds per `apply`. The two sides
 * alternate call by call (PyTorch in a python3 process that runs one call per request), and the ratio
 * is the median over call pairs of PyTorch's time / ours, so load from other processes on a shared
 * machine hurts both alike.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { cuda, getNumThreads, manualSeed, rand, scope, setNumThreads, type Tensor } from "../../mod.ts";
import { type Augmentation, augmentation, multiCrop } from "../../src/data/mod.ts";
import { type PythonServer, pythonServer } from "./_python_server.ts";

const args = parseArgs({
  args: Deno.args,
  options: {
    "cuda-only": { type: "boolean", default: false },
    "cpu-only": { type: "boolean", default: false },
    seconds: { type: "string", default: "2" },
    rounds: { type: "string", default: "3" }, // at least 2·rounds call pairs per case
    python: { type: "string", default: "/usr/bin/python3" },
  },
  strict: true,
});
const seconds = Number(args.values.seconds);
const rounds = Number(args.values.rounds);
const threads = Number(Deno.env.get("UNIGRAD_NUM_THREADS") ?? navigator.hardwareConcurrency ?? 1);

interface Case {
  name: string;
  batch: number;
  channels: number;
  side: number;
  recipe: Augmentation;
}

const CPU_CASES: Case[] = [
  { name: "fashion-mnist 28² ×512", batch: 512, channels: 1, side: 28, recipe: augmentation("fashion-mnist") },
  { name: "mocov2 32² ×512", batch: 512, channels: 3, side: 32, recipe: augmentation("mocov2", { size: 32 }) },
  { name: "mocov2 224² ×32", batch: 32, channels: 3, side: 224, recipe: augmentation("mocov2", { size: 224 }) },
];

/** The recipe's views as augment_torch.py reads them. */
function pythonViews(r: Augmentation): unknown[] {
  return r.views.map((v) => {
    const j = v.jitter === null
      ? null
      : { brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1, p: 0.8, ...v.jitter };
    const norm = v.normalize ?? { mean: [0], std: [1] };
    return {
      size: v.size,
      scale: v.scale ?? [0.2, 1],
      jitter: j && [j.brightness, j.contrast, j.saturation, j.hue, j.p],
      gray: v.grayscale ?? 0.2,
      blur: v.blur === null ? 0 : v.blur?.p ?? 0.5,
      solarize: v.solarize ?? 0,
      mean: norm.mean,
      std: norm.std,
    };
  });
}

/** Views per second of `c` on `device`, timing whole `apply` calls for at least `minSeconds`. */
function timeOurs(c: Case, device: "cpu" | "cuda", minSeconds: number): { viewsPerS: number; msPerBatch: number } {
  manualSeed(0);
  const batch: Tensor = scope(() => rand([c.batch, c.channels, c.side, c.side], { device }).mul(255).to("uint8"));
  const sync = () => device === "cuda" && cuda.synchronize();
  // The views are freed at each scope's end (returned from it, they would outlive it and every call
  // would fault in fresh pages), as PyTorch frees a call's outputs.
  scope(() => void c.recipe.apply(batch)); // warm-up
  sync();
  let reps = 0;
  const start = performance.now();
  while (reps < 3 || performance.now() - start < minSeconds * 1000) {
    scope(() => void c.recipe.apply(batch));
    reps++;
  }
  sync();
  const ms = (performance.now() - start) / reps;
  batch.dispose();
  return { viewsPerS: (c.batch * c.recipe.length * 1000) / ms, msPerBatch: ms };
}

/** augment_torch.py serving the cases: `time(String(i))` runs case i once there and returns its ms. */
function torchServer(cases: Case[]): PythonServer {
  const spec = cases.map((c) => ({
    name: c.name,
    batch: c.batch,
    channels: c.channels,
    side: c.side,
    views: pythonViews(c.recipe),
  }));
  const script = new URL("./augment_torch.py", import.meta.url).pathname;
  return pythonServer(args.values.python, script, [String(threads), JSON.stringify(spec), "--serve"]);
}

function row(cells: (string | number)[]): string {
  return cells.map((c, i) => String(c).padStart(i === 0 ? 24 : 14)).join(" ");
}

if (!args.values["cuda-only"]) {
  setNumThreads(threads);
  console.log(
    `CPU, ${getNumThreads()} threads on both sides (Debian torch via ${args.values.python}), the two sides alternating call by call for ≥ ${seconds} s per case`,
  );
  const server = torchServer(CPU_CASES);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  console.log(row(["case", "unigrad v/s", "torch v/s", "ratio"]));
  for (const [i, c] of CPU_CASES.entries()) {
    manualSeed(0);
    const batch: Tensor = scope(() => rand([c.batch, c.channels, c.side, c.side]).mul(255).to("uint8"));
    const ours = () => {
      const t0 = performance.now();
      scope(() => void c.recipe.apply(batch)); // views freed at the scope's end, as PyTorch frees its outputs
      return performance.now() - t0;
    };
    ours(); // warm-up, both sides
    await server.time(String(i));
    const mine: number[] = [], theirs: number[] = [];
    const start = performance.now();
    for (let k = 0; k < 2 * rounds || performance.now() - start < 2 * seconds * 1000; k++) {
      // Who goes first alternates, so neither side always follows the other's memory traffic.
      if (k % 2 === 0) {
        mine.push(ours());
        theirs.push(await server.time(String(i)));
      } else {
        theirs.push(await server.time(String(i)));
        mine.push(ours());
      }
    }
    batch.dispose();
    const views = c.batch * c.recipe.length * 1000;
    // Ratio: the median over call pairs of (PyTorch ms / ours ms), i.e. ours / PyTorch in views per second.
    const ratio = median(theirs.map((t, k) => t / mine[k]));
    console.log(
      row([c.name, (views / median(mine)).toFixed(0), (views / median(theirs)).toFixed(0), `${ratio.toFixed(2)}×`]),
    );
  }
  await server.close();
}

if (!args.values["cpu-only"]) {
  if (!cuda.isAvailable()) {
    console.log("CUDA: not available, section skipped");
  } else {
    // Reference ResNet-18 step time (PyTorch on one H100, bf16): 29.9 ms for 512 pairs at 28².
    const cases: (Case & { stepMs?: number })[] = [
      {
        name: "fashion-mnist 28² ×512",
        batch: 512,
        channels: 1,
        side: 28,
        recipe: augmentation("fashion-mnist"),
        stepMs: 29.9,
      },
      { name: "mocov2 32² ×512", batch: 512, channels: 3, side: 32, recipe: augmentation("mocov2", { size: 32 }) },
      { name: "mocov2 224² ×256", batch: 256, channels: 3, side: 224, recipe: augmentation("mocov2") },
      {
        name: "multicrop 2×224+6×96 ×256",
        batch: 256,
        channels: 3,
        side: 224,
        recipe: multiCrop({}),
      },
    ];
    console.log("CUDA (cuda:0)");
    console.log(row(["case", "views/s", "ms/batch", "% of step"]));
    for (const c of cases) {
      const { viewsPerS, msPerBatch } = timeOurs(c, "cuda", seconds);
      const share = c.stepMs ? `${((100 * msPerBatch) / c.stepMs).toFixed(1)} %` : "-";
      console.log(row([c.name, viewsPerS.toFixed(0), msPerBatch.toFixed(2), share]));
    }
  }
}
