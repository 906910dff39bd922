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
import { METHODS, TABLE1, TARGET_KINDS } from "./src/ssl/mod.ts";
import {
  DEFAULT_CONFIG,
  flagOf,
  openResume,
  readConfigFile,
  recipeConfig,
  type ResumePoint,
  type Setting,
  type SettingName,
  SETTINGS,
  StopRequested,
  train,
  TRAIN_RECIPES,
  type TrainConfig,
  validateConfig,
} from "./src/run/mod.ts";
import { launchLocal, readLaunchEnv } from "./src/distributed/mod.ts";

/** The settings as [field, row, flag], in table order. */
const ROWS = (Object.entries(SETTINGS) as [SettingName, Setting<unknown>][]).map(([field, row]) =>
  [field, row, flagOf(field)] as const
);

/** Flags that are not settings: they say where settings come from, or what to do. */
const OTHER_FLAGS = {
  config: "read settings from a JSON file (a run's config.json works); flags override it",
  nproc: "start N processes on this machine (data parallel: Gloo on CPU, NCCL with one GPU each); " +
    "--batch-size stays the global batch. Under torchrun or srun leave it out: each process joins by itself",
  help: "this text",
} as const;

/** The value a flag shows in `--help`, with its choices. */
function describeFlag(row: Setting<unknown>): string {
  const choices = row.kind.type === "choice" && row.kind.choices.length <= 8 ? ` (${row.kind.choices.join(", ")})` : "";
  return `${row.help}${choices} [${JSON.stringify(row.default)}]`;
}

const HELP = `Usage: deno run -A train.ts [flags]

Trains an encoder with a Siamese self-supervised method (UniGrad framework) and reports kNN and
linear-probe accuracy. Outputs go to --out: config.json, metrics.jsonl, checkpoints/, plot.svg, report.md.

Flags [default]:
${ROWS.map(([, row, flag]) => `  --${flag.padEnd(20)} ${describeFlag(row)}`).join("\n")}
${Object.entries(OTHER_FLAGS).map(([flag, what]) => `  --${flag.padEnd(20)} ${what}`).join("\n")}

Settings come from the defaults, then --recipe NAME, then --config FILE, then the flags; with --resume,
the checkpoint's settings come first, and a flag that changes the run's trajectory is refused.

Recipes (--recipe NAME; config.json records the resolved values):
${Object.entries(TRAIN_RECIPES).map(([name, r]) => `  ${name.padEnd(24)} ${r.description}`).join("\n")}

Methods: ${Object.keys(METHODS).join(", ")}
Table 1 presets (as --method): ${Object.keys(TABLE1).filter((k) => !(k in METHODS)).join(", ")}
Targets: ${TARGET_KINDS.join(", ")} (default: the method's own)

Older spellings are accepted: underscores for hyphens in names (barlow_twins, fashion_mnist,
barlow_twins-a_identity, form=a_identity), --method-opt for --method-option, and "methodOpts" in
config files.
`;

/**
 * The README's flag list: one Markdown line per setting (flag, default, help, whether a resume may
 * change it), then the flags that are not settings. `scripts/readme_flags.ts` writes it into the
 * README; `tests/readme_flags_test.ts` checks that the README holds it.
 */
export function flagList(): string {
  const lines = ROWS.map(([, row, flag]) => {
    const choices = row.kind.type === "choice" && row.kind.choices.length <= 8
      ? ` (${row.kind.choices.join(", ")})`
      : "";
    const resume = row.trajectory ? "; a resume keeps it" : "";
    return `- \`--${flag}\` [\`${JSON.stringify(row.default)}\`]: ${row.help}${choices}${resume}`;
  });
  const others = Object.entries(OTHER_FLAGS).map(([flag, what]) => `- \`--${flag}\`: ${what}`);
  return [...lines, ...others].join("\n");
}

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

/** `--method-opt`: the older spelling of `--method-option`. */
const OLD_METHOD_OPTION = "method-opt";

/** Flags that may be given more than once; any other flag given twice is refused (the last would silently win). */
const REPEATABLE = [flagOf("methodOptions"), OLD_METHOD_OPTION];

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

type FlagValues = Record<string, string | string[] | boolean | undefined>;

function parseFlags(args: string[]): FlagValues {
  refuseRepeats(args);
  const options = Object.fromEntries(ROWS.map(([, row, flag]) => {
    if (row.kind.type === "options") return [flag, { type: "string" as const, multiple: true }];
    const bare = row.kind.type === "boolean" && row.kind.switch === true;
    return [flag, { type: bare ? "boolean" as const : "string" as const }];
  }));
  try {
    return parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        ...options,
        [OLD_METHOD_OPTION]: { type: "string", multiple: true },
        config: { type: "string" },
        nproc: { type: "string" },
        help: { type: "boolean" },
      },
    }).values;
  } catch (e) {
    const unknown = /Unknown option '([^']+)'/.exec((e as Error).message);
    if (!unknown) throw e;
    const valid = [...ROWS.map(([, , flag]) => flag), ...Object.keys(OTHER_FLAGS)].map((f) => `--${f}`).join(", ");
    throw new TypeError(`Unknown flag "${unknown[1]}": expected one of ${valid}`);
  }
}

/** `key=value` pairs of `--method-option` into an options object. */
function methodOptionsOf(pairs: string[], into: Record<string, string | number | boolean>): void {
  for (const kv of pairs) {
    const eq = kv.indexOf("=");
    if (eq < 1) throw new TypeError(`Invalid --method-option "${kv}": expected key=value`);
    into[kv.slice(0, eq)] = parseValue(kv.slice(eq + 1));
  }
}

/** A flag's text as its setting's value: true/false, a decimal number, "null" for a nullable one. */
function flagValue(flag: string, row: Setting<unknown>, raw: string): unknown {
  switch (row.kind.type) {
    case "boolean":
      if (raw !== "true" && raw !== "false") throw new RangeError(`Invalid --${flag} "${raw}": expected true or false`);
      return raw === "true";
    case "integer":
    case "number":
      if (!DECIMAL.test(raw) || !Number.isFinite(Number(raw))) {
        throw new RangeError(`Invalid --${flag} "${raw}": expected a number in decimal (e.g. 16, 0.05, 1e-3)`);
      }
      return Number(raw);
    case "choice":
    case "string":
      return row.kind.nullable && raw === "null" ? null : raw;
    case "options":
      throw new TypeError("method options are key=value pairs");
  }
}

/** Sets the config field of each given flag. */
function applyFlags(config: TrainConfig, values: FlagValues): void {
  const fields = config as unknown as Record<string, unknown>;
  for (const [field, row, flag] of ROWS) {
    const raw = values[flag];
    if (raw === undefined) continue;
    if (row.kind.type === "options") methodOptionsOf(raw as string[], config.methodOptions);
    else fields[field] = typeof raw === "boolean" ? raw : flagValue(flag, row, raw as string);
  }
  methodOptionsOf((values[OLD_METHOD_OPTION] as string[] | undefined) ?? [], config.methodOptions);
}

/**
 * Turns command-line arguments into a validated config: the defaults, then `base` (a resumed run's
 * config), then a recipe named by `--recipe` or the file, then `--config file.json`, then the flags.
 * Returns null for `--help`.
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
  return validateConfig(config);
}

/**
 * The checkpoint `--resume` names, opened once (its config is the command line's base; `train()` gets
 * the rest), or null: no `--resume`, or one that cannot be opened (then `train()` says why).
 */
async function openResumed(args: string[]): Promise<ResumePoint | null> {
  const values = parseFlags(args);
  const resume = values.resume as string | undefined;
  if (values.help || resume === undefined || resume.trim() === "" || resume === "null") return null;
  return await openResume(resume).catch(() => null);
}

/** The known fields of a checkpoint's config. */
function savedConfig(from: ResumePoint | null): Partial<TrainConfig> {
  const saved = (from?.checkpoint.state as { config?: unknown } | undefined)?.config;
  if (typeof saved !== "object" || saved === null || Array.isArray(saved)) return {};
  return Object.fromEntries(Object.entries(saved).filter(([k]) => k in DEFAULT_CONFIG)) as Partial<TrainConfig>;
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
  let from: ResumePoint | null = null;
  try {
    from = await openResumed(args);
    config = parseConfig(args, savedConfig(from));
    launch = parseNproc(args);
  } catch (e) {
    from?.checkpoint.tensors.forEach((t) => t.dispose());
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
    const result = await train(config, console.log, from === null ? {} : { resumeFrom: from });
    if (result.stopped) Deno.exit(result.stopped.exitCode); // 130 (SIGINT) or 143 (SIGTERM), checkpoint written
  } catch (e) {
    if (e instanceof StopRequested) { // a signal during set-up: nothing to save
      console.error(`\n  ${e.message}`);
      Deno.exit(e.exitCode);
    }
    // One line per failing rank, naming it.
    const place = readLaunchEnv();
    const message = (e as Error).message.replaceAll("\n", " ");
    const who = place === null || /^Rank \d+ of \d+/.test(message) ? "" : `rank ${place.rank} of ${place.worldSize}: `;
    console.error(`\nerror: ${who}${message}`);
    Deno.exit(1);
  }
}
