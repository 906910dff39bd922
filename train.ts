/**
 * unigrad's command line: trains an encoder with any method of the unified gradient framework and
 * reports how good its representation is (kNN, linear probe), with a run folder of metrics,
 * checkpoints, a plot and a report.
 *
 *   CPU (the default run: UniGrad on Fashion-MNIST, ~15 minutes on 2 cores):
 *     deno run -A train.ts
 *   One GPU:
 *     deno run -A train.ts --device cuda --arch resnet18 --proj-hidden 2048 --proj-dim 2048 --proj-depth 3 \
 *       --batch-size 512 --epochs 40 --precision bf16
 *   Another method, or one of the paper's gradient forms:
 *     deno run -A train.ts --method barlow_twins --method-opt form=l2
 *   Resume a killed run:
 *     deno run -A train.ts --out runs/mine --resume runs/mine
 *
 * Flags override `--config file.json`, which overrides the defaults (`DEFAULT_CONFIG`).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { DEFAULT_CONFIG, type TrainConfig, validateConfig } from "./src/ssl/config.ts";
import { METHODS } from "./src/ssl/mod.ts";
import { train } from "./src/ssl/run.ts";

/** Flag name → config field, for every flag that sets one. */
const FLAGS: Record<string, keyof TrainConfig> = {
  "method": "method",
  "arch": "arch",
  "proj-hidden": "projHidden",
  "proj-dim": "projDim",
  "proj-depth": "projDepth",
  "dataset": "dataset",
  "data-dir": "dataDir",
  "epochs": "epochs",
  "batch-size": "batchSize",
  "lr": "lr",
  "wd": "wd",
  "warmup-epochs": "warmupEpochs",
  "target": "target",
  "device": "device",
  "precision": "precision",
  "seed": "seed",
  "out": "out",
  "resume": "resume",
  "eval-every": "evalEvery",
  "limit-train": "limitTrain",
  "limit-test": "limitTest",
  "log-every": "logEvery",
  "checkpoint-every": "checkpointEvery",
  "probe-epochs": "probeEpochs",
  "threads": "threads",
};

const HELP = `Usage: deno run -A train.ts [flags]

Trains an encoder with a Siamese self-supervised method (UniGrad framework) and reports kNN and
linear-probe accuracy. Outputs go to --out: config.json, metrics.jsonl, checkpoints/, plot.svg, report.md.

Flags (default in brackets):
${
  Object.entries(FLAGS).map(([flag, key]) => `  --${flag.padEnd(18)} [${JSON.stringify(DEFAULT_CONFIG[key])}]`).join(
    "\n",
  )
}
  --method-opt key=value  method option, repeatable (e.g. lambda=6.25, form=original, queueSize=4096)
  --config file.json      read the config from a JSON file (flags override it)
  --help                  this text

Methods: ${Object.keys(METHODS).join(", ")}
Targets: stop-grad, momentum, momentum-positive (default: the method's own)
`;

function parseValue(raw: string): string | number | boolean {
  if (raw === "true" || raw === "false") return raw === "true";
  const n = Number(raw);
  return raw.trim() !== "" && Number.isFinite(n) ? n : raw;
}

/**
 * Turns command-line arguments into a validated config.
 *
 * @throws {TypeError} On an unknown flag or a malformed `--method-opt`.
 * @throws {RangeError} On a bad value (naming the valid ones).
 */
export function parseConfig(args: string[]): TrainConfig | null {
  const options = Object.fromEntries(Object.keys(FLAGS).map((f) => [f, { type: "string" as const }]));
  const { values } = parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      ...options,
      "method-opt": { type: "string", multiple: true },
      config: { type: "string" },
      help: { type: "boolean" },
    },
  });
  if (values.help) return null;
  const config: TrainConfig = { ...DEFAULT_CONFIG, methodOpts: {} };
  if (values.config) Object.assign(config, JSON.parse(Deno.readTextFileSync(values.config as string)));
  for (const [flag, key] of Object.entries(FLAGS)) {
    const raw = (values as Record<string, unknown>)[flag] as string | undefined;
    if (raw === undefined) continue;
    const isNumber = typeof DEFAULT_CONFIG[key] === "number";
    if (isNumber && !Number.isFinite(Number(raw))) {
      throw new RangeError(`Invalid --${flag} "${raw}": expected a number`);
    }
    (config as unknown as Record<string, unknown>)[key] = isNumber ? Number(raw) : raw;
  }
  for (const kv of (values["method-opt"] as string[] | undefined) ?? []) {
    const eq = kv.indexOf("=");
    if (eq < 1) throw new TypeError(`Invalid --method-opt "${kv}": expected key=value`);
    config.methodOpts[kv.slice(0, eq)] = parseValue(kv.slice(eq + 1));
  }
  return validateConfig(config);
}

if (import.meta.main) {
  let config: TrainConfig | null;
  try {
    config = parseConfig(Deno.args);
  } catch (e) {
    console.error(`error: ${(e as Error).message}\nRun with --help for the list of flags.`);
    Deno.exit(2);
  }
  if (config === null) {
    console.log(HELP);
    Deno.exit(0);
  }
  try {
    await train(config);
  } catch (e) {
    console.error(`\nerror: ${(e as Error).message}`);
    Deno.exit(1);
  }
}
