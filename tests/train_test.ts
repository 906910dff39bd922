import assert from "node:assert/strict";
import { join } from "node:path";
import { cuda } from "../mod.ts";
import { parseConfig } from "../train.ts";
import { DEFAULT_CONFIG, readConfigFile, validateConfig } from "../src/run/mod.ts";
import { METHODS } from "../src/ssl/registry.ts";
import { readMetricsLog, type TrainingRecord } from "../src/io/metrics_log.ts";
import { assertExit, type BoundedChild, type ChildResult, describeExit, startChild, waitFor } from "./_child.ts";

const repo = new URL("..", import.meta.url).pathname;
const root = await Deno.makeTempDir({ prefix: "unigrad-train-test-" });
addEventListener("unload", () => Deno.removeSync(root, { recursive: true }));

/**
 * 12 steps (128 images, batch 32, 3 epochs) of a 4/8/16-wide ResNet-20 with a 32→16 projector; one
 * libtorch thread, so that the reductions, and hence the weights, are the same from run to run.
 */
const TINY = [
  ...["--limit-train", "128", "--limit-test", "64", "--batch-size", "32", "--epochs", "3", "--width", "4"],
  ...["--proj-hidden", "32", "--proj-dim", "16", "--checkpoint-every", "2", "--log-every", "2"],
  ...["--probe-epochs", "2", "--threads", "1"],
];

/** Every train.ts child gets this long: a tiny run takes a few seconds, a crash fails its test at once. */
const CHILD_MS = 120_000;

function cli(args: string[]): BoundedChild {
  return startChild(Deno.execPath(), { args: ["run", "-A", "train.ts", ...args], cwd: repo, timeoutMs: CHILD_MS });
}

type Finished = ChildResult;

function finish(child: BoundedChild): Promise<Finished> {
  return child.result;
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

/**
 * An uninterrupted run (A), and beside it the same run (B) killed with SIGKILL as soon as its first
 * checkpoint exists, then resumed with --resume.
 */
async function runs(): Promise<
  { a: Finished; killed: Finished; left: string[]; resumed: Finished; outA: string; outB: string }
> {
  const [outA, outB] = [join(root, "a"), join(root, "b")];
  const childA = cli([...TINY, "--out", outA]);
  const childB = cli([...TINY, "--out", outB]);
  await waitForPath(join(outB, "checkpoints", "ckpt-00000002"), childB);
  childB.child.kill("SIGKILL");
  const [a, killed] = await Promise.all([finish(childA), finish(childB)]);
  const left = [...Deno.readDirSync(join(outB, "checkpoints"))].map((e) => e.name).sort();
  const resumed = await finish(cli([...TINY, "--resume", outB]));
  return { a, killed, left, resumed, outA, outB };
}
let shared: ReturnType<typeof runs> | null = null;

Deno.test("train.ts: a tiny run writes config.json, metrics.jsonl, checkpoints, plot.svg and report.md", async () => {
  shared ??= runs();
  const { a, outA } = await shared;
  assertExit(a, 0, "train.ts");
  // config.json: the config, the derived numbers, the method's options; usable again as --config.
  const saved = JSON.parse(await Deno.readTextFile(join(outA, "config.json")));
  assert.deepEqual(saved.derived, { stepsPerEpoch: 4, totalSteps: 12, effectiveLr: 0.0125, warmupSteps: 1 });
  assert.deepEqual(saved.resolvedMethodOptions, { lambda: 0.78125 });
  assert.deepEqual(validateConfig({ ...DEFAULT_CONFIG, ...readConfigFile(join(outA, "config.json")) }).epochs, 3);
  // metrics.jsonl: one object per log interval (every 2 steps) and per epoch, then the probe.
  const records = readMetricsLog(join(outA, "metrics.jsonl"));
  const kind = (r: TrainingRecord) =>
    r.loss !== undefined ? "log" : r.linearProbe !== undefined ? "probe" : r.step === 0 ? "init" : "epoch";
  assert.deepEqual(
    records.map((r) => `${kind(r)}@${r.step}`).join(" "),
    [
      "init@0 log@2 log@4 epoch@4 log@6 log@8 epoch@8 log@10 log@12 epoch@12 probe@12",
    ].join(),
  );
  assert.ok(records.filter((r) => kind(r) === "epoch").every((r) => typeof r.knn === "number"));
  // checkpoints: complete ckpt-* folders, the last three kept.
  const ckpts = [...Deno.readDirSync(join(outA, "checkpoints"))].map((e) => e.name).sort();
  assert.deepEqual(ckpts, ["ckpt-00000008", "ckpt-00000010", "ckpt-00000012"]);
  for (const c of ckpts) {
    const state = JSON.parse(await Deno.readTextFile(join(outA, "checkpoints", c, "state.json")));
    assert.equal(state.format, "unigrad-checkpoint");
    assert.equal((await Deno.stat(join(outA, "checkpoints", c, "tensors.safetensors"))).size, state.tensors.bytes);
  }
  // plot.svg: the loss, kNN and gradient-decomposition panels.
  const svg = await Deno.readTextFile(join(outA, "plot.svg"));
  assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.ok(svg.trimEnd().endsWith("</svg>"));
  for (const title of ["Loss", "kNN accuracy", "Gradient decomposition"]) assert.ok(svg.includes(`>${title}<`), title);
  // report.md: the results table with every column filled.
  const report = await Deno.readTextFile(join(outA, "report.md"));
  assert.ok(report.includes("| method | epochs | kNN init | kNN final | linear probe | pairs/s | wall time |"));
  assert.match(
    report,
    /\| unigrad \(unified, momentum\) \| 3 \| \d+\.\d % \| \d+\.\d % \| \d+\.\d % \| [\d,]+ \| [\d.]+ s \|/,
  );
  assert.ok(report.includes("![training curves](plot.svg)"));
  // Not on a terminal: plain progress lines (step, loss, lr, pairs/s) and the messages.
  assert.match(a.stdout, /^unigrad {2}step 12\/12 {2}loss -?[\d.]+ {2}lr [\d.e-]+ {2}\d+ pairs\/s {2}[\d.]+ s total$/m);
  assert.match(a.stdout, /kNN at initialisation: \d+\.\d\d %/);
  assert.match(a.stdout, /linear probe: \d+\.\d\d %/);
  assert.ok(!a.stdout.includes("\r"));
});

Deno.test("train.ts: a run killed with SIGKILL and resumed with --resume ends with the same weights bit for bit", async () => {
  shared ??= runs();
  const { a, killed, left, resumed, outA, outB } = await shared;
  assertExit(a, 0, "train.ts");
  assert.equal(killed.signal, "SIGKILL", "the run ended before it could be killed");
  assert.ok(left.length > 0 && !left.includes("ckpt-00000012"), `killed run left ${left}`);
  assertExit(resumed, 0, "train.ts");
  assert.match(resumed.stdout, new RegExp(`resumed from .*${left.at(-1)} at step ${Number(left.at(-1)!.slice(5))}\n`));
  // Online weights, EMA target, optimizer momentum and F: the same bytes.
  const tensors = (out: string) => Deno.readFileSync(join(out, "checkpoints", "ckpt-00000012", "tensors.safetensors"));
  assert.deepEqual(tensors(outB), tensors(outA));
  // The same metrics history (time measurements aside), with no line repeated.
  const lines = (out: string) =>
    readMetricsLog(join(out, "metrics.jsonl")).map(({ pairsPerSecond: _p, trainSeconds: _t, ...r }) => r);
  assert.deepEqual(lines(outB), lines(outA));
});

Deno.test("train.ts refuses bad input with a non-zero exit and a message naming the problem", async () => {
  const bad = join(root, "bad.json");
  await Deno.writeTextFile(bad, '{ "epochs": 3, }');
  const truncated = join(root, "truncated", "checkpoints", "ckpt-00000002");
  await Deno.mkdir(truncated, { recursive: true });
  await Deno.writeTextFile(join(truncated, "state.json"), '{"format": "unigrad-checkpoint", "step": 2, "tens');
  const cases: [string[], number, RegExp][] = [
    [
      ["--foo", "1"],
      2,
      /Unknown flag "--foo": expected one of --method, --method-option, --arch, .*--threads, .*--help/,
    ],
    [["--epochs", "abc"], 2, /Invalid --epochs "abc": expected a number/],
    [["--method-opt", "lamda=1"], 2, /Unknown unigrad option "lamda": expected one of lambda, rho/],
    [["--config", bad], 2, new RegExp(`Cannot read config file "${bad}": not valid JSON`)],
    [
      // --out: the default runs/ folder may hold the main job's run (the README's first command)
      [...TINY, "--data-dir", "/nonexistent", "--out", join(root, "no-data")],
      1,
      /Cannot read \/nonexistent\/train-images-idx3-ubyte\.gz: no such file/,
    ],
    [
      [...TINY, "--resume", join(root, "truncated")],
      1,
      new RegExp(`Cannot load checkpoint "${truncated}": state.json`),
    ],
    [["--out="], 2, /Invalid out "": expected a non-blank string, or null/],
    [["--resume="], 2, /Invalid resume "": expected a non-blank string, or null/],
    [["--seed", "1e300"], 2, /Invalid seed 1e\+300: expected an integer from 0 to 2\^53 − 1/],
    [["--seed=-1"], 2, /Invalid seed -1: expected an integer from 0 to 2\^53 − 1/],
    [["--proj-depth=1e12"], 2, /Invalid projDepth 1000000000000: expected an integer from 1 to 16/],
    [
      ["--proj-hidden", "65536", "--proj-depth", "16", "--out", join(root, "huge")],
      1,
      /Cannot build the networks: resnet20 .* about 6\d\.\d billion parameters, \d+\.\d GiB in training, and this machine has/,
    ],
    [
      ["--config", "/dev/zero"],
      2,
      /Cannot read config file "\/dev\/zero": it is a character device, not a regular file/,
    ],
    [[...TINY, "--data-dir", "/nonexistent", "--out", join(root, "never")], 1, /no such file/],
    ...(cuda.isAvailable() ? [] : [[[...TINY, "--device", "cuda"], 1, /CUDA is not available/] as [
      string[],
      number,
      RegExp,
    ]]),
  ];
  const results = await Promise.all(cases.map(([args]) => finish(cli(args))));
  results.forEach((r, i) => {
    const [args, code, message] = cases[i];
    assert.equal(r.code, code, `${args.join(" ")}: exit ${r.code}\n${r.stderr}`);
    assert.match(r.stderr, message, args.join(" "));
  });
  assert.equal(await exists(join(root, "never")), false, "a failed start left its run folder behind");
});

/** Waits until `path` exists; fails at once if `child` ends first, and after CHILD_MS. */
function waitForPath(path: string, child: BoundedChild): Promise<void> {
  return waitFor(() => exists(path), CHILD_MS, `waiting for ${path}`, child.result);
}

Deno.test("train.ts: a signal is acted on at once during the initial kNN (set-up) and the final linear probe, never exit 0", async () => {
  const small = ["--width", "4", "--proj-hidden", "16", "--proj-dim", "8", "--threads", "1", "--epochs", "1"];
  // The initial kNN over all 70,000 images: the signal lands inside it (config.json is written just before).
  const setUp = join(root, "signal-set-up");
  const a = cli([...small, "--out", setUp]);
  await waitForPath(join(setUp, "config.json"), a);
  const sentA = performance.now();
  a.child.kill("SIGTERM");
  const ra = await finish(a);
  const secondsA = (performance.now() - sentA) / 1000;
  assert.equal(ra.code, 143, describeExit(ra));
  assert.match(ra.stderr, /stopped by SIGTERM during set-up \(nothing trained, nothing saved\)/);
  assert.ok(secondsA < 5, `ended ${secondsA.toFixed(1)} s after the signal`);
  assert.equal(await exists(setUp), false); // a stopped start leaves no folder
  // The final evaluation with a probe of 10^5 epochs: the signal lands in the probe (the last checkpoint is written first).
  const probe = join(root, "signal-probe");
  const b = cli([...small, "--limit-train", "1024", "--limit-test", "64", "--probe-epochs", "100000", "--out", probe]);
  await waitForPath(join(probe, "checkpoints", "ckpt-00000008"), b);
  await new Promise((r) => setTimeout(r, 500));
  const sentB = performance.now();
  b.child.kill("SIGINT");
  const rb = await finish(b);
  const secondsB = (performance.now() - sentB) / 1000;
  assert.equal(rb.code, 130, describeExit(rb));
  assert.match(rb.stdout, /stopped by SIGINT during the final evaluation: evaluation abandoned/);
  assert.match(rb.stdout, /resume with --resume/);
  assert.ok(secondsB < 5, `ended ${secondsB.toFixed(1)} s after the signal`);
  console.log(`signal to exit: ${secondsA.toFixed(2)} s in the initial kNN, ${secondsB.toFixed(2)} s in the probe`);
});

Deno.test("train.ts killed mid-training leaves a plot.svg and report.md that show its last evaluation", async () => {
  const out = join(root, "killed-mid-run");
  const child = cli([...TINY, "--out", out]);
  await waitForPath(join(out, "checkpoints", "ckpt-00000008"), child); // after epoch 2's kNN
  child.child.kill("SIGKILL");
  await finish(child);
  const knn = readMetricsLog(join(out, "metrics.jsonl")).filter((r) => r.knn !== undefined).map((r) => r.knn!);
  assert.equal(knn.length, 3); // at initialisation, epochs 1 and 2
  const report = await Deno.readTextFile(join(out, "report.md"));
  assert.match(report, /in progress: step 8 of 12/);
  assert.ok(report.includes(`${(knn[2] * 100).toFixed(1)} %`), report);
  const plot = await Deno.readTextFile(join(out, "plot.svg"));
  assert.match(plot, /kNN accuracy/);
  assert.equal(plot.match(/<circle [^>]*fill="#2ca02c"/g)?.length, 3); // the three kNN points, no more
});

Deno.test("train.ts: SIGTERM and SIGINT stop after the step with a checkpoint and exit 143 / 130; --resume alone finishes bit for bit", async () => {
  shared ??= runs();
  const { outA } = await shared;
  const outs = { SIGTERM: join(root, "sigterm"), SIGINT: join(root, "sigint") };
  const ended = await Promise.all((["SIGTERM", "SIGINT"] as const).map(async (signal) => {
    const child = cli([...TINY, "--out", outs[signal]]);
    await waitForPath(join(outs[signal], "checkpoints", "ckpt-00000002"), child);
    child.child.kill(signal);
    return await finish(child);
  }));
  for (const [i, signal] of (["SIGTERM", "SIGINT"] as const).entries()) {
    const r = ended[i];
    assert.equal(r.code, signal === "SIGTERM" ? 143 : 130, r.stderr);
    const line = new RegExp(
      `stopped by ${signal} at step (\\d+): checkpoint (\\S+); resume with --resume ${outs[signal]}$`,
      "m",
    ).exec(r.stdout);
    assert.ok(line, r.stdout);
    assert.ok(Number(line[1]) < 12, "the run ended before the signal");
    assert.equal(line[2], join(outs[signal], "checkpoints", `ckpt-${line[1].padStart(8, "0")}`));
    assert.ok(await exists(join(line[2], "state.json")));
    assert.ok(!(await exists(join(outs[signal], "run.lock"))), "the lock outlived the run");
  }
  // The settings come from the checkpoint: --resume alone continues the same run.
  const resumed = await finish(cli(["--resume", outs.SIGTERM]));
  assertExit(resumed, 0, "train.ts");
  const tensors = (out: string) => Deno.readFileSync(join(out, "checkpoints", "ckpt-00000012", "tensors.safetensors"));
  assert.deepEqual(tensors(outs.SIGTERM), tensors(outA));
});

Deno.test("train.ts refuses a second run into a running run's folder, a new run over another's, and a resume with other flags", async () => {
  shared ??= runs();
  const { outA } = await shared;
  const busy = join(root, "busy");
  const first = cli([...TINY.map((a, i) => TINY[i - 1] === "--epochs" ? "50" : a), "--out", busy]);
  try {
    await waitForPath(join(busy, "run.lock"), first);
    const [second, over, changed] = await Promise.all([
      finish(cli([...TINY, "--out", busy])),
      finish(cli([...TINY, "--out", outA])),
      finish(cli(["--resume", outA, "--lr", "0.5", "--batch-size", "16"])),
    ]);
    assert.equal(second.code, 1);
    assert.match(
      second.stderr,
      new RegExp(`Cannot use run folder "${busy}": another run \\(pid ${first.child.pid}, since`),
    );
    assert.equal(over.code, 1);
    assert.match(
      over.stderr,
      /it holds another run's checkpoints \(ckpt-00000008, ckpt-00000010, ckpt-00000012\); resume it/,
    );
    assert.equal(changed.code, 1);
    assert.match(
      changed.stderr,
      /the config differs from the checkpoint's in batchSize \(32 → 16\), lr \(0\.1 → 0\.5\)/,
    );
  } finally {
    first.child.kill("SIGKILL");
    await first.result;
  }
});

Deno.test("train.ts --epochs 0: the epochs that fit --train-minutes, measured first, recorded, and the same run as --epochs N", async () => {
  const tiny = TINY.filter((_, i) => TINY[i] !== "--epochs" && TINY[i - 1] !== "--epochs");
  const [auto, fixed] = [join(root, "budget-auto"), join(root, "budget-fixed")];
  // 128 images of batch 32: 4 steps an epoch; 1.2 s at this network's few hundred pairs/s is one to a few epochs.
  const a = await finish(cli([...tiny, "--epochs", "0", "--train-minutes", "0.02", "--out", auto]));
  assertExit(a, 0, "train.ts --epochs 0");
  const saved = JSON.parse(await Deno.readTextFile(join(auto, "config.json")));
  const { budget, epochs } = saved;
  assert.ok(Number.isInteger(epochs) && epochs >= 1, `epochs ${epochs}`);
  assert.equal(budget.epochs, epochs);
  assert.equal(budget.trainMinutes, 0.02);
  assert.equal(budget.stepsPerEpoch, 4);
  assert.ok(budget.timedSteps >= 3 && budget.pairsPerSecond > 0, JSON.stringify(budget));
  // ⌊0.9 · budget · rate / pairs per epoch⌋, at least 1.
  const fit = (rate: number) => Math.max(1, Math.floor((0.9 * 0.02 * 60 * rate) / (4 * 32)));
  assert.ok(fit(budget.pairsPerSecond - 0.05) <= epochs && epochs <= fit(budget.pairsPerSecond + 0.05)); // rate rounded
  assert.match(a.stdout, new RegExp(`^  epochs ${epochs}: what fits 0.02 min of training here \\(`, "m"));
  assert.deepEqual(saved.derived.totalSteps, 4 * epochs);
  // The calibration steps leave no trace: the same run with --epochs N gives the same weights, bit for bit.
  const f = await finish(cli([...tiny, "--epochs", String(epochs), "--out", fixed]));
  assertExit(f, 0, `train.ts --epochs ${epochs}`);
  const last = `ckpt-${String(4 * epochs).padStart(8, "0")}`;
  const tensors = (out: string) => Deno.readFileSync(join(out, "checkpoints", last, "tensors.safetensors"));
  assert.deepEqual(tensors(auto), tensors(fixed));
  assert.equal(JSON.parse(await Deno.readTextFile(join(fixed, "config.json"))).budget, undefined);
});

Deno.test("train.ts --help lists every flag, its default, and every method", async () => {
  const help = await finish(cli(["--help"]));
  assertExit(help, 0, "train.ts --help");
  const fields = Object.keys(DEFAULT_CONFIG).filter((k) => k !== "methodOptions");
  const flag = (k: string) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  for (const k of fields) {
    const value = JSON.stringify(DEFAULT_CONFIG[k as keyof typeof DEFAULT_CONFIG]);
    assert.match(help.stdout, new RegExp(`^  ${flag(k)} .*\\[${value.replace(/[.[\]]/g, "\\$&")}\\]$`, "m"), k);
  }
  for (const f of ["--method-option", "--config", "--help"]) assert.ok(help.stdout.includes(`  ${f} `), f);
  assert.ok(help.stdout.includes(`Methods: ${Object.keys(METHODS).join(", ")}`));
});

Deno.test("parseConfig() throws on bad values, naming the valid ones", async () => {
  const unknownField = join(root, "unknown.json");
  await Deno.writeTextFile(unknownField, '{ "epoch": 3 }');
  const cases: [string[], RegExp][] = [
    [["--method", "simclrr"], /Invalid method "simclrr": expected one of unigrad, moco, simclr, byol/],
    [["--precision", "fp16"], /Invalid precision "fp16": expected one of auto, fp32, bf16/],
    [["--target", "ema"], /Invalid target "ema": expected one of stop-grad, momentum, momentum-positive/],
    [["--batch-size", "1"], /Invalid batchSize 1: expected an integer from 2 to/],
    [["--method-option", "lambda"], /Invalid --method-option "lambda": expected key=value/],
    [["--method", "moco", "--method-opt", "lambda=1"], /Unknown moco option "lambda": expected one of tau, queueSize/],
    [["--config", unknownField], /Unknown config field\(s\) epoch: expected method/],
    [["--epochs"], /argument missing/],
    [["extra"], /Unexpected argument 'extra'/],
    // Numbers in decimal only: Number() would read 0x10 as 16.
    [["--seed", "0x10"], /Invalid --seed "0x10": expected a number in decimal/],
    [["--batch-size", "0b10000"], /Invalid --batch-size "0b10000": expected a number in decimal/],
    [["--lr", "Infinity"], /Invalid --lr "Infinity": expected a number in decimal/],
    [["--epochs", " 3"], /Invalid --epochs " 3": expected a number in decimal/],
    // A single-valued flag given twice: the last would silently win.
    [["--resume", "a", "--resume", "b"], /--resume is given twice \("a" and "b"\): give it once/],
    [["--lr=0.1", "--lr", "0.2"], /--lr is given twice \("0.1" and "0.2"\)/],
  ];
  // Decimal forms and the repeatable flags still work.
  assert.equal(parseConfig(["--lr", "1e-1", "--seed", "+7"])!.lr, 0.1);
  assert.deepEqual(
    parseConfig(["--method-option", "lambda=2", "--method-option", "rho=0.9"])!.methodOptions,
    { lambda: 2, rho: 0.9 },
  );
  assert.throws(() => parseConfig(["--method", "moco", "--method-option", "queueSize=0x10"]), /queueSize/);
  for (const [args, message] of cases) assert.throws(() => parseConfig(args), message, args.join(" "));
});

Deno.test("parseConfig(): flags override --config, which overrides the defaults", async () => {
  const file = join(root, "config.json");
  await Deno.writeTextFile(file, JSON.stringify({ epochs: 5, lr: 0.3, methodOpts: { rho: 0.9 }, out: "x" }));
  const c = parseConfig(["--config", file, "--lr", "0.2", "--method-option", "lambda=2", "--out", "null"])!;
  assert.equal(c.epochs, 5); // from the file
  assert.equal(c.lr, 0.2); // the flag wins
  assert.equal(c.out, null); // "null" clears a nullable field
  assert.deepEqual(c.methodOptions, { rho: 0.9, lambda: 2 }); // methodOpts: the older name, accepted
  assert.equal(c.batchSize, DEFAULT_CONFIG.batchSize); // the default
  assert.deepEqual(parseConfig([]), { ...DEFAULT_CONFIG, methodOptions: {} });
  assert.equal(parseConfig(["--help"]), null);
  // --method-opt: the older spelling of --method-option, accepted
  assert.deepEqual(parseConfig(["--method-opt", "form=unified", "--method", "byol"])!.methodOptions, {
    form: "unified",
  });
});
