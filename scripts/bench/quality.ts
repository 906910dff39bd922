/**
 * Equal-settings quality: the default run (`train`, as `deno task train` runs it) next to a plain
 * PyTorch script at the same settings (scripts/bench/quality_torch.py: ResNet-20 width 16, 512→128
 * projector with BN, λ 6.25, the default's batch and epochs, lr 0.1·B/256 cosine, wd 5e-4, momentum encoder 0.996, crops
 * 0.2–1 by affine grid sampling, flips, brightness/contrast 0.4 with p 0.8), for each seed: kNN
 * (k 200, τ 0.1) at initialisation and after training. Accuracy is deterministic per seed and
 * machine; the minutes are not (shared machines), so only accuracy is compared.
 *
 * Usage: `deno run -A scripts/bench/quality.ts [--seeds 0,1] [--epochs E] [--limit-train N]
 * [--limit-test N] [--torch-only | --ours-only]` (the defaults take a few CPU-minutes per run).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { DEFAULT_CONFIG, train } from "../../mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    seeds: { type: "string", default: "0,1" },
    epochs: { type: "string", default: String(DEFAULT_CONFIG.epochs) },
    "limit-train": { type: "string", default: "0" },
    "limit-test": { type: "string", default: "0" },
    threads: { type: "string", default: String(navigator.hardwareConcurrency) },
    "torch-only": { type: "boolean", default: false },
    "ours-only": { type: "boolean", default: false },
    python: { type: "string", default: "/usr/bin/python3" },
  },
  strict: true,
});
const seeds = values.seeds!.split(",").map(Number);
const common = {
  epochs: Number(values.epochs),
  limitTrain: Number(values["limit-train"]),
  limitTest: Number(values["limit-test"]),
  threads: Number(values.threads),
};

interface Row {
  side: string;
  seed: number;
  knnInit: number | null;
  knnFinal: number;
}

async function ours(seed: number): Promise<Row> {
  const out = await Deno.makeTempDir({ prefix: "unigrad-quality-" });
  try {
    const r = await train({ ...DEFAULT_CONFIG, ...common, seed, out, probeEpochs: 0 }, () => {});
    return { side: "unigrad", seed, knnInit: r.knnInit, knnFinal: r.knnFinal };
  } finally {
    await Deno.remove(out, { recursive: true });
  }
}

async function torch(seed: number): Promise<Row> {
  const spec = {
    seed,
    epochs: common.epochs,
    batch: DEFAULT_CONFIG.batchSize,
    lr: (DEFAULT_CONFIG.lr * DEFAULT_CONFIG.batchSize) / 256, // ours scales the base lr with the batch
    limit_train: common.limitTrain,
    limit_test: common.limitTest,
    threads: common.threads,
  };
  const script = new URL("./quality_torch.py", import.meta.url).pathname;
  const py = await new Deno.Command(values.python!, { args: [script, JSON.stringify(spec)], stderr: "inherit" })
    .output();
  if (!py.success) throw new Error(`${values.python} ${script} failed`);
  const r = JSON.parse(new TextDecoder().decode(py.stdout));
  return { side: "pytorch", seed, knnInit: r.knn_init, knnFinal: r.knn_final };
}

const rows: Row[] = [];
for (const seed of seeds) {
  if (!values["torch-only"]) rows.push(await ours(seed));
  if (!values["ours-only"]) rows.push(await torch(seed));
}
const pct = (v: number | null) => (v === null ? "-" : `${(100 * v).toFixed(1)} %`);
console.log(
  `kNN (k 200, τ 0.1) at initialisation → after ${common.epochs} epoch(s), default settings${
    common.limitTrain ? `, first ${common.limitTrain} training images` : ""
  }${common.limitTest ? `, first ${common.limitTest} test images` : ""}`,
);
console.log(`${"side".padEnd(8)} ${"seed".padStart(4)} ${"kNN init".padStart(9)} ${"kNN final".padStart(10)}`);
for (const r of rows) {
  console.log(
    `${r.side.padEnd(8)} ${String(r.seed).padStart(4)} ${pct(r.knnInit).padStart(9)} ${pct(r.knnFinal).padStart(10)}`,
  );
}
