/**
 * Augmentation throughput: unigrad's batched recipes against the same recipes written with PyTorch
 * tensor ops (scripts/bench/augment_torch.py on Debian's python3-torch), on the CPU with the same
 * thread count on both sides, then a CUDA section (skipped without CUDA).
 *
 *   deno run -A scripts/bench/augment.ts              # CPU comparison + CUDA when available
 *   deno run -A scripts/bench/augment.ts --cuda-only  # for a GPU check script
 *   UNIGRAD_NUM_THREADS=2 deno run -A scripts/bench/augment.ts --seconds 2
 *
 * Views per second = batch size × views per recipe / seconds per `apply`. The two sides run in
 * alternating rounds and each reports its best round, so load from other processes on a shared
 * machine hurts both alike.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { cuda, getNumThreads, manualSeed, rand, scope, setNumThreads, type Tensor } from "../../mod.ts";
import { multiCrop, type Recipe, recipe } from "../../src/data/mod.ts";

const args = parseArgs({
  args: Deno.args,
  options: {
    "cuda-only": { type: "boolean", default: false },
    "cpu-only": { type: "boolean", default: false },
    seconds: { type: "string", default: "2" },
    rounds: { type: "string", default: "3" },
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
  recipe: Recipe;
}

const CPU_CASES: Case[] = [
  { name: "fashion-mnist 28² ×512", batch: 512, channels: 1, side: 28, recipe: recipe("fashion-mnist") },
  { name: "mocov2 32² ×512", batch: 512, channels: 3, side: 32, recipe: recipe("mocov2", { size: 32 }) },
  { name: "mocov2 224² ×32", batch: 32, channels: 3, side: 224, recipe: recipe("mocov2", { size: 224 }) },
];

/** The recipe's views as augment_torch.py reads them. */
function pythonViews(r: Recipe): unknown[] {
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
  scope(() => c.recipe.apply(batch)); // warm-up
  sync();
  let reps = 0;
  const start = performance.now();
  while (reps < 3 || performance.now() - start < minSeconds * 1000) {
    scope(() => c.recipe.apply(batch));
    reps++;
  }
  sync();
  const ms = (performance.now() - start) / reps;
  batch.dispose();
  return { viewsPerS: (c.batch * c.recipe.length * 1000) / ms, msPerBatch: ms };
}

async function timeTorch(cases: Case[]): Promise<Map<string, number>> {
  const spec = cases.map((c) => ({
    name: c.name,
    batch: c.batch,
    channels: c.channels,
    side: c.side,
    views: pythonViews(c.recipe),
    min_reps: 3,
    min_seconds: seconds,
  }));
  const script = new URL("./augment_torch.py", import.meta.url).pathname;
  const out = await new Deno.Command(args.values.python, {
    args: [script, String(threads), JSON.stringify(spec)],
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`${args.values.python} ${script} failed`);
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  return new Map(
    lines.map((l) => JSON.parse(l)).map((r: { name: string; views_per_s: number }) => [r.name, r.views_per_s]),
  );
}

function row(cells: (string | number)[]): string {
  return cells.map((c, i) => String(c).padStart(i === 0 ? 24 : 14)).join(" ");
}

if (!args.values["cuda-only"]) {
  setNumThreads(threads);
  console.log(
    `CPU, ${getNumThreads()} threads on both sides (Debian torch via ${args.values.python}), best of ${rounds} rounds`,
  );
  const best = new Map(CPU_CASES.map((c) => [c.name, { ours: 0, torch: 0 }]));
  for (let r = 0; r < rounds; r++) {
    const torch = await timeTorch(CPU_CASES);
    for (const c of CPU_CASES) {
      const b = best.get(c.name)!;
      b.torch = Math.max(b.torch, torch.get(c.name)!);
      b.ours = Math.max(b.ours, timeOurs(c, "cpu", seconds).viewsPerS);
    }
  }
  console.log(row(["case", "unigrad v/s", "torch v/s", "ratio"]));
  for (const c of CPU_CASES) {
    const { ours, torch } = best.get(c.name)!;
    console.log(row([c.name, ours.toFixed(0), torch.toFixed(0), `${(ours / torch).toFixed(2)}×`]));
  }
}

if (!args.values["cpu-only"]) {
  if (!cuda.isAvailable()) {
    console.log("CUDA: not available, section skipped");
  } else {
    // Reference ResNet-18 step times (DESIGN.md, one H100, bf16): 29.9 ms for 512 pairs at 28².
    const cases: (Case & { stepMs?: number })[] = [
      {
        name: "fashion-mnist 28² ×512",
        batch: 512,
        channels: 1,
        side: 28,
        recipe: recipe("fashion-mnist"),
        stepMs: 29.9,
      },
      { name: "mocov2 32² ×512", batch: 512, channels: 3, side: 32, recipe: recipe("mocov2", { size: 32 }) },
      { name: "mocov2 224² ×256", batch: 256, channels: 3, side: 224, recipe: recipe("mocov2") },
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
