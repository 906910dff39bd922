/**
 * unigrad's command line: trains an encoder with any method of the unified gradient framework and
 * reports how good its representation is (kNN, linear probe), with a run folder of metrics,
 * checkpoints, a plot and a report.
 *
 *   CPU (the default run: UniGrad on Fashion-MNIST, about 3 minutes on 2 cores with native bf16):
 *     deno run -A train.ts
 *   One GPU:
 *     deno run -A train.ts --device cuda --arch resnet18 --proj-hidden 2048 --proj-dim 2048 --proj-depth 3 \
 *       --batch-size 512 --epochs 40 --precision bf16
 *   Another method, or one of the paper's gradient forms:
 *     deno run -A train.ts --method barlow-twins --method-option form=l2
 *   Resume a stopped or killed run (Ctrl-C or SIGTERM stop it after the current step with a checkpoint):
 *     deno run -A train.ts --out runs/mine            # stopped, then:
 *     deno run -A train.ts --resume runs/mine         # its settings come from the checkpoint; continues in runs/mine
 *
 *   The paper's ImageNet run (ResNet-50, 100 epochs) on a GPU node, and its Table 3 variants:
 *     deno run -A train.ts --recipe unigrad-imagenet-100ep --data-dir /data/imagenet --device cuda
 *     deno run -A train.ts --recipe unigrad-cutmix --data-dir /data/imagenet --device cuda
 *
 * Flags override `--config file.json`, which overrides `--recipe NAME`, which overrides the defaults
 * (`DEFAULT_CONFIG`).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { ARCHS, METHODS, TABLE1, TARGET_KINDS } from "./src/ssl/mod.ts";
import {
  AUGMENTS,
  CONV_INITS,
  DATASETS,
  DEFAULT_CONFIG,
  IMAGE_STORAGES,
  OPTIMIZERS,
  PRECISIONS,
  readConfigFile,
  recipeConfig,
  resumeConfig,
  train,
  TRAIN_RECIPES,
  type TrainConfig,
  validateConfig,
} from "./src/run/mod.ts";
import { launchLocal, readLaunchEnv } from "./src/distributed/mod.ts";

/** Flag name → the config field it sets and what it means (the default comes from `DEFAULT_CONFIG`). */
const FLAGS: Record<string, [keyof TrainConfig, string]> = {
  "method": ["method", `method: ${Object.keys(METHODS).join(", ")}`],
  "arch": ["arch", `backbone: ${ARCHS.join(", ")}`],
  "width": ["width", "channels of the backbone's first stage, doubled per stage (0: the arch's own)"],
  "proj-hidden": ["projHidden", "projector hidden width"],
  "proj-dim": ["projDim", "projector output width d"],
  "proj-depth": ["projDepth", "projector Linear layers"],
  "zero-init-residual": ["zeroInitResidual", "start the last BN γ of every residual block at 0"],
  "conv-init": ["convInit", `backbone conv weights: ${CONV_INITS.join(", ")} (torch: nn.Conv2d's default)`],
  "dataset": ["dataset", DATASETS.join(", ")],
  "data-dir": ["dataDir", "folder of the dataset files (null: the dataset's usual folder)"],
  "eval-data-dir": ["evalDataDir", "image-folder: labelled train/ + val/ to evaluate a flat unlabelled --data-dir on"],
  "image-size": ["imageSize", "image-folder: side of the global views and of the evaluation centre crop"],
  "image-canvas": ["imageCanvas", "image-folder: side each whole image is letterboxed into (0: image-size·8/7)"],
  "image-storage": [
    "imageStorage",
    `image-folder: ${IMAGE_STORAGES.join(" or ")} (cache: JPEGs bounded to the canvas, built once)`,
  ],
  "decode-workers": ["decodeWorkers", "image-folder: decoding threads (0: one per core)"],
  "augment": ["augment", `views: ${AUGMENTS.join(", ")} (null: fashion-mnist for (Fashion-)MNIST, else mocov2)`],
  "multi-crop": ["multiCrop", "global and local views, COUNTxSIZE[:LO-HI], e.g. 2x224,6x96 (null: two views)"],
  "cutmix": ["cutmix", "α of an extra CutMix view (Beta(α, α) boxes; 0: none)"],
  "epochs": ["epochs", "training epochs (0: as many as fit --train-minutes, measured on this machine first)"],
  "train-minutes": ["trainMinutes", "with --epochs 0: minutes of training to fill (evaluation not counted)"],
  "batch-size": ["batchSize", "image pairs per step"],
  "lr": ["lr", "base learning rate for batch 256 (scaled linearly with the batch)"],
  "wd": ["wd", "weight decay"],
  "wd-exclude-norm-bias": ["wdExcludeNormBias", "no weight decay (nor LARS adaptation) on BN parameters and biases"],
  "optimizer": ["optimizer", OPTIMIZERS.join(" or ")],
  "momentum": ["momentum", "momentum of SGD / LARS"],
  "lars-trust": ["larsTrust", "LARS trust coefficient η"],
  "lr-min": ["lrMin", "floor of the cosine decay, for batch 256 like --lr (official: 1e-3·lr)"],
  "warmup-epochs": ["warmupEpochs", "linear warm-up epochs before the cosine decay"],
  "target": ["target", `target branch: ${TARGET_KINDS.join(", ")} (null: the method's own)`],
  "device": ["device", "cpu, cuda or cuda:<index>"],
  "precision": ["precision", `${PRECISIONS.join(", ")} (auto: bf16 autocast where the CPU computes bf16 natively)`],
  "seed": ["seed", "seed of the weights, the data order and the augmentation"],
  "out": ["out", "run folder (null: runs/<method>-<dataset>, or the resumed run's folder)"],
  "resume": ["resume", "resume from a run folder, its checkpoints folder or a ckpt-* folder (its settings by default)"],
  "overwrite": ["overwrite", "start a new run in a folder that holds another run's checkpoints, deleting them"],
  "eval-every": ["evalEvery", "kNN every N epochs (0: only at the start and the end)"],
  "limit-train": ["limitTrain", "use only the first N training images (0: all)"],
  "limit-test": ["limitTest", "use only the first N test images (0: all)"],
  "log-every": ["logEvery", "a metrics line every N steps (each one syncs the device)"],
  "checkpoint-every": ["checkpointEvery", "a checkpoint every N steps (and at each epoch end)"],
  "probe-epochs": ["probeEpochs", "epochs of the final linear probe (0: skip it)"],
  "threads": ["threads", "CPU threads (0: all cores)"],
  "sync-bn": ["syncBn", "with several processes: batch norm over the global batch (true, false)"],
  "dist-timeout": ["distTimeout", "with several processes: seconds to wait for the other ranks"],
  "recipe": ["recipe", "a named recipe setting every option at once (see below); other flags override it"],
};

const OTHER_FLAGS = ["method-option", "config", "nproc", "help"];

/** Boolean fields set by a bare flag (`--overwrite`); the other booleans take a value (`--sync-bn false`). */
const SWITCHES: (keyof TrainConfig)[] = ["overwrite"];

const HELP = `Usage: deno run -A train.ts [flags]

Trains an encoder with a Siamese self-supervised method (UniGrad framework) and reports kNN and
linear-probe accuracy. Outputs go to --out: config.json, metrics.jsonl, checkpoints/, plot.svg, report.md.

Flags [default]:
${
  Object.entries(FLAGS).map(([flag, [key, what]]) =>
    `  --${flag.padEnd(18)} ${what} [${JSON.stringify(DEFAULT_CONFIG[key])}]`
  ).join("\n")
}
  --method-option k=v     a method option, repeatable (e.g. lambda=6.25, form=unified, queueSize=4096)
  --config file.json      read the config from a JSON file (a run's config.json works); flags override it
                          (with --resume, the checkpoint's config comes first, then the file, then the flags)
  --nproc N               start N processes on this machine (data parallel, Gloo on CPU, NCCL with one GPU
                          each); --batch-size stays the global batch. Under torchrun or srun, leave it out:
                          every process joins the job from RANK/WORLD_SIZE/... or SLURM_* by itself
  --help                  this text

Recipes (--recipe NAME; then --config, then flags override; config.json records the resolved values):
${Object.entries(TRAIN_RECIPES).map(([name, r]) => `  ${name.padEnd(24)} ${r.description}`).join("\n")}

Methods: ${Object.keys(METHODS).join(", ")}
Table 1 presets (as --method): ${Object.keys(TABLE1).filter((k) => !(k in METHODS)).join(", ")}
Targets: ${TARGET_KINDS.join(", ")} (default: the method's own)

Older spellings are accepted: underscores for hyphens in names (barlow_twins, fashion_mnist,
barlow_twins-a_identity, form=a_identity), --method-opt for --method-option, and "methodOpts" in
config files.
`;

/**
 * A number as people write one in decimal: digits with an optional sign, fraction and exponent (`16`,
 * `0.05`, `1e-3`). Not what `Number()` also takes: hexadecimal, binary and octal (`0x10` is 16),
 * `Infinity`, surrounding blanks.
 */
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function parseValue(raw: string): string | number | boolean {
  if (raw === "true" || raw === "false") return raw === "true";
  return DECIMAL.test(raw) ? Number(raw) : raw;
}

/** Flags that may be given more than once; any other flag given twice is refused (the last would silently win). */
const REPEATABLE = ["method-option", "method-opt"];

/** Refuses a single-valued flag given twice (`--resume A --resume B`), naming it and both values. */
function refuseRepeats(args: string[]): void {
  const seen = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(args[i]);
    if (!m || REPEATABLE.includes(m[1])) continue;
    const value = m[2] ?? (args[i + 1] !== undefined && !args[i + 1].startsWith("--") ? args[i + 1] : "");
    const before = seen.get(m[1]);
    if (before !== undefined) {
      throw new RangeError(`--${m[1]} is given twice ("${before}" and "${value}"): give it once`);
    }
    seen.set(m[1], value);
  }
}

function parseFlags(args: string[]): Record<string, string | string[] | boolean | undefined> {
  refuseRepeats(args);
  const options = Object.fromEntries(
    Object.entries(FLAGS).map((
      [f, [key]],
    ) => [f, { type: SWITCHES.includes(key) ? "boolean" as const : "string" as const }]),
  );
  try {
    return parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        ...options,
        "method-option": { type: "string", multiple: true },
        "method-opt": { type: "string", multiple: true },
        config: { type: "string" },
        nproc: { type: "string" },
        help: { type: "boolean" },
      },
    }).values;
  } catch (e) {
    const unknown = /Unknown option '([^']+)'/.exec((e as Error).message);
    if (!unknown) throw e;
    const valid = [...Object.keys(FLAGS), ...OTHER_FLAGS].map((f) => `--${f}`).join(", ");
    throw new TypeError(`Unknown flag "${unknown[1]}": expected one of ${valid}`);
  }
}

/** Sets the config field of each given flag; "null" clears a field whose default is null. */
function applyFlags(config: TrainConfig, values: Record<string, unknown>): void {
  for (const [flag, [key]] of Object.entries(FLAGS)) {
    const raw = values[flag] as string | boolean | undefined;
    if (raw === undefined) continue;
    const fallback = DEFAULT_CONFIG[key];
    if (typeof raw === "boolean") { // a switch
      (config as unknown as Record<string, unknown>)[key] = raw;
      continue;
    }
    let value: string | number | boolean | null = raw;
    if (typeof fallback === "boolean") {
      if (raw !== "true" && raw !== "false") throw new RangeError(`Invalid --${flag} "${raw}": expected true or false`);
      value = raw === "true";
    } else if (typeof fallback === "number") {
      value = Number(raw);
      if (!DECIMAL.test(raw) || !Number.isFinite(value)) {
        throw new RangeError(`Invalid --${flag} "${raw}": expected a number in decimal (e.g. 16, 0.05, 1e-3)`);
      }
    } else if (fallback === null && raw === "null") value = null;
    (config as unknown as Record<string, unknown>)[key] = value;
  }
}

/**
 * Turns command-line arguments into a validated config: the defaults, then `base` (a resumed run's
 * config, see `resumeConfig`), then a recipe named by `--recipe` or the file, then `--config
 * file.json`, then the flags. Returns null for `--help`.
 *
 * @throws {TypeError} On an unknown flag (listing the valid ones), a malformed `--method-option` or an
 * unknown method option.
 * @throws {RangeError} On a bad value (naming the valid ones).
 * @throws {Error} On a `--config` file that cannot be read or is not a JSON object.
 */
export function parseConfig(args: string[], base: Partial<TrainConfig> = {}): TrainConfig | null {
  const values = parseFlags(args);
  if (values.help) return null;
  const { out: _out, resume: _resume, overwrite: _overwrite, ...kept } = base; // where to, not how
  const config: TrainConfig = { ...DEFAULT_CONFIG, ...kept, methodOptions: { ...kept.methodOptions } };
  const file = values.config ? readConfigFile(values.config as string) : {};
  const named = (values.recipe as string | undefined) ?? file.recipe ?? null;
  if (named !== null && named !== "null") Object.assign(config, recipeConfig(named)); // the file and flags override it
  Object.assign(config, file);
  config.methodOptions = { ...config.methodOptions };
  applyFlags(config, values);
  const given = [
    ...(values["method-opt"] as string[] | undefined) ?? [],
    ...(values["method-option"] as string[] | undefined) ?? [],
  ];
  for (const kv of given) {
    const eq = kv.indexOf("=");
    if (eq < 1) throw new TypeError(`Invalid --method-option "${kv}": expected key=value`);
    config.methodOptions[kv.slice(0, eq)] = parseValue(kv.slice(eq + 1));
  }
  return validateConfig(config);
}

/** The config a `--resume` flag's checkpoint was saved with (only known fields), or nothing. */
async function resumedBase(args: string[]): Promise<Partial<TrainConfig>> {
  const values = parseFlags(args);
  const resume = values.resume as string | undefined;
  if (values.help || resume === undefined || resume.trim() === "" || resume === "null") return {};
  const saved = await resumeConfig(resume);
  return Object.fromEntries(Object.entries(saved ?? {}).filter(([k]) => k in DEFAULT_CONFIG)) as Partial<TrainConfig>;
}

/**
 * `--nproc N` (null when absent): the number of local processes to launch; the arguments without it.
 *
 * @throws {RangeError} On a count that is not a positive integer, or `--nproc` inside a launched job.
 */
export function parseNproc(args: string[]): { nproc: number | null; rest: string[] } {
  const raw = parseFlags(args).nproc as string | undefined;
  if (raw === undefined) return { nproc: null, rest: args };
  const nproc = Number(raw);
  if (!Number.isInteger(nproc) || nproc < 1) throw new RangeError(`Invalid --nproc "${raw}": expected an integer ≥ 1`);
  if (readLaunchEnv() !== null) {
    throw new RangeError("--nproc starts the processes itself: under torchrun or srun leave it out");
  }
  const rest = args.filter((a, i) => !(a === "--nproc" || a.startsWith("--nproc=") || args[i - 1] === "--nproc"));
  return { nproc, rest };
}

if (import.meta.main) {
  const args = Deno.args[0] === "--" ? Deno.args.slice(1) : Deno.args;
  let config: TrainConfig | null;
  let launch: { nproc: number | null; rest: string[] };
  try {
    config = parseConfig(args, await resumedBase(args));
    launch = parseNproc(args);
  } catch (e) {
    console.error(`error: ${(e as Error).message}\nRun with --help for the list of flags.`);
    Deno.exit(2);
  }
  if (config === null) {
    console.log(HELP);
    Deno.exit(0);
  }
  if (launch.nproc !== null && launch.nproc > 1) {
    // One process per rank (per GPU with CUDA), each running this file without --nproc.
    Deno.exit(
      await launchLocal({
        nproc: launch.nproc,
        args: ["run", "-A", new URL(import.meta.url).pathname, ...launch.rest],
      }),
    );
  }
  try {
    const result = await train(config);
    if (result.stopped) Deno.exit(result.stopped.exitCode); // 130 (SIGINT) or 143 (SIGTERM), checkpoint written
  } catch (e) {
    // One line per failing rank, naming it.
    const place = readLaunchEnv();
    const message = (e as Error).message.replaceAll("\n", " ");
    const who = place === null || /^Rank \d+ of \d+/.test(message) ? "" : `rank ${place.rank} of ${place.worldSize}: `;
    console.error(`\nerror: ${who}${message}`);
    Deno.exit(1);
  }
}
