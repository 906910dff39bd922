import assert from "node:assert/strict";
import { join } from "node:path";
import { DataFileError, liveTensors } from "../../mod.ts";
import { DEFAULT_CONFIG, type Setting, type SettingName, SETTINGS, type TrainConfig } from "../../src/run/settings.ts";
import { readMetricsLog, type TrainingRecord } from "../../src/io/metrics_log.ts";
import { type RunResult, train } from "../../src/run/training.ts";
import { stepSeed } from "../../src/run/_state.ts";
import { RunLock } from "../../src/run/lock.ts";
import type { StopRequest } from "../../src/run/signals.ts";

/** A run of 8 steps (128 images, batch 32, 2 epochs) of a 4/8/16-wide ResNet-20 with a 32→16 projector, one thread. */
const TINY: TrainConfig = {
  ...DEFAULT_CONFIG,
  methodOptions: {},
  limitTrain: 128,
  limitTest: 64,
  batchSize: 32,
  epochs: 2,
  width: 4,
  projHidden: 32,
  projDim: 16,
  checkpointEvery: 3,
  logEvery: 2,
  probeEpochs: 0,
  threads: 1,
};

const root = await Deno.makeTempDir({ prefix: "unigrad-run-test-" });
addEventListener("unload", () => Deno.removeSync(root, { recursive: true }));

/** Runs `config` into a fresh folder under `root`, collecting the log lines. */
async function run(name: string, config: Partial<TrainConfig>): Promise<RunResult & { lines: string[] }> {
  const lines: string[] = [];
  const result = await train({ ...TINY, out: join(root, name), ...config }, (l) => lines.push(l));
  return { ...result, lines };
}

/** The run that several tests read: UniGrad with its momentum target (F, EMA, optimizer momentum). */
let reference: Promise<RunResult & { lines: string[] }> | null = null;
function referenceRun(): Promise<RunResult & { lines: string[] }> {
  reference ??= run("reference", { probeEpochs: 2 });
  return reference;
}

function ckpt(out: string, step: number): string {
  return join(out, "checkpoints", `ckpt-${String(step).padStart(8, "0")}`);
}

async function copyDir(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) await Deno.copyFile(join(from, e.name), join(to, e.name));
}

/** The metrics lines without the fields that measure time. */
function withoutTimes(records: TrainingRecord[]): TrainingRecord[] {
  return records.map(({ pairsPerSecond: _p, trainSeconds: _t, ...rest }) => rest);
}

/**
 * Copies the reference's checkpoint at `step` and its metrics (plus a line written after the checkpoint,
 * as a killed run leaves) into a new run folder, resumes it, and checks that the final checkpoint's
 * tensors and the metrics equal the uninterrupted run's.
 */
async function assertResumeReproduces(a: RunResult, config: Partial<TrainConfig>, step: number): Promise<void> {
  const b = join(root, `${a.out.split("/").pop()}-resumed-${step}`);
  await copyDir(ckpt(a.out, step), ckpt(b, step));
  const lost = JSON.stringify({ step: step + 1, epoch: 0, loss: 123 }) + "\n";
  await Deno.writeTextFile(join(b, "metrics.jsonl"), Deno.readTextFileSync(join(a.out, "metrics.jsonl")) + lost);
  const result = await train({ ...TINY, ...config, out: null, resume: b }, () => {});
  assert.equal(result.out, b);
  assert.equal(result.steps, a.steps);
  const final = (out: string) => Deno.readFileSync(join(ckpt(out, a.steps), "tensors.safetensors"));
  assert.deepEqual(final(b), final(a.out), "the final weights, EMA target, optimizer and method state differ");
  assert.equal(result.knnFinal, a.knnFinal);
  assert.equal(result.knnInit, a.knnInit);
  const metrics = (out: string) => withoutTimes(readMetricsLog(join(out, "metrics.jsonl")));
  assert.deepEqual(metrics(b), metrics(a.out));
}

Deno.test("train() writes the run folder, logs each interval and epoch, and frees every tensor", async () => {
  const live = liveTensors();
  const a = await referenceRun();
  assert.equal(liveTensors(), live);
  assert.equal(a.steps, 8);
  assert.ok(a.knnInit! > 0 && a.knnFinal > 0 && a.linearProbe! > 0);
  assert.ok(a.pairsPerSecond > 0 && a.trainSeconds > 0);
  const records = readMetricsLog(join(a.out, "metrics.jsonl"));
  assert.deepEqual(records.map((r) => [r.step, Object.keys(r).includes("loss"), r.knn !== undefined]), [
    [0, false, true], // kNN at initialisation
    [2, true, false],
    [4, true, false],
    [4, false, true], // epoch 1
    [6, true, false],
    [8, true, false],
    [8, false, true], // epoch 2
    [8, false, false], // linear probe
  ]);
  assert.equal(records.at(-1)!.linearProbe, a.linearProbe);
  assert.equal(records.at(-2)!.knn, a.knnFinal);
  for (const r of records.filter((r) => r.loss !== undefined)) {
    for (const k of ["lr", "positive", "negative", "balance", "lambda", "similarity", "momentum", "pairsPerSecond"]) {
      assert.equal(typeof r[k], "number", `metrics line at step ${r.step} lacks ${k}`);
    }
  }
  const saved = [...Deno.readDirSync(join(a.out, "checkpoints"))].map((e) => e.name).sort();
  assert.deepEqual(saved, ["ckpt-00000004", "ckpt-00000006", "ckpt-00000008"]); // every 3 steps and each epoch end; 3 kept
  assert.ok(a.lines.some((l) => /^unigrad {2}step 8\/8 {2}loss -?\d/.test(l)), "no final progress line");
  assert.ok(a.lines.some((l) => l.includes("epoch 2/2: kNN")));
});

Deno.test("train() resumed from a mid-epoch checkpoint reproduces the uninterrupted UniGrad run bit for bit", async () => {
  const live = liveTensors();
  await assertResumeReproduces(await referenceRun(), { probeEpochs: 2 }, 6);
  assert.equal(liveTensors(), live);
});

Deno.test("train() resumed reproduces MoCo (queue, momentum-positive) and BYOL (predictor) bit for bit", async () => {
  const live = liveTensors();
  const configs: Partial<TrainConfig>[] = [
    { method: "moco", methodOptions: { queueSize: 48 }, target: "momentum-positive", evalEvery: 2 },
    { method: "byol", methodOptions: { hiddenDim: 16 } },
  ];
  for (const config of configs) {
    const a = await run(config.method!, config);
    const knn = readMetricsLog(join(a.out, "metrics.jsonl")).filter((r) => r.knn !== undefined).map((r) => r.step);
    assert.deepEqual(knn, config.evalEvery === 2 ? [0, 8] : [0, 4, 8]); // at the start, every evalEvery epochs, at the end
    await assertResumeReproduces(a, config, 6);
    await assertResumeReproduces(a, config, 4); // an epoch-end checkpoint
  }
  assert.equal(liveTensors(), live);
});

Deno.test("train() resumed after the last step re-evaluates only, into a new run folder", async () => {
  const a = await referenceRun();
  const lines: string[] = [];
  const out = join(root, "finished");
  const result = await train({ ...TINY, out, resume: a.out, epochs: 2 }, (l) => lines.push(l));
  assert.equal(result.steps, 8);
  assert.equal(result.knnFinal, a.knnFinal);
  assert.ok(lines.some((l) => l.includes("resumed from") && l.includes("at step 8")));
  // The metrics history came along.
  assert.equal(readMetricsLog(join(out, "metrics.jsonl"))[0].knn, a.knnInit);
  // Another config than the checkpoint's: refused, listing the differences, leaving no folder behind.
  const changed = join(root, "changed");
  await assert.rejects(
    () => train({ ...TINY, out: changed, resume: a.out, lr: 0.2, seed: 3 }, () => {}),
    /Cannot resume from checkpoint ".*ckpt-00000008": the config differs from the checkpoint's in lr \(0\.1 → 0\.2\), seed \(0 → 3\)/,
  );
  assert.equal(await Deno.stat(changed).then(() => true, () => false), false);
});

/** A valid value of `field` other than `value` (what a user might pass with --resume). */
function otherValue(field: SettingName, value: unknown): unknown {
  const special: Partial<Record<SettingName, unknown>> = {
    methodOptions: { lambda: 1 },
    multiCrop: "2x28,2x12",
    dataset: "mnist",
    method: "moco",
    momentum: 0.5,
    imageSize: 112,
  };
  if (field in special) return special[field];
  const kind = (SETTINGS[field] as Setting<unknown>).kind;
  switch (kind.type) {
    case "choice":
      return kind.choices.find((c) => c !== value && c !== "image-folder");
    case "integer":
    case "number":
      return (value as number) + 1;
    case "boolean":
      return !value;
    default:
      return "other";
  }
}

Deno.test("train() --resume refuses a change of every setting that changes the trajectory (walks the settings table)", async () => {
  const live = liveTensors();
  const a = await referenceRun();
  const fields = (Object.keys(SETTINGS) as SettingName[]).filter((k) => SETTINGS[k].trajectory);
  assert.ok(fields.length >= 30 && fields.includes("optimizer") && fields.includes("cutmix"), fields.join());
  for (const field of fields) {
    const config = {
      ...TINY,
      out: join(root, `changed-${field}`),
      resume: a.out,
      [field]: otherValue(field, TINY[field]),
    };
    await assert.rejects(
      () => train(config, () => {}),
      new RegExp(`the config differs from the checkpoint's in ${field} \\(`),
      field,
    );
  }
  // A setting that does not change the trajectory may change.
  const lines: string[] = [];
  await train(
    { ...TINY, out: join(root, "more-threads"), resume: a.out, threads: 2, limitTest: 32 },
    (l) => lines.push(l),
  );
  assert.ok(lines.some((l) => l.includes("resumed from")));
  assert.equal(liveTensors(), live);
});

Deno.test("train() refuses an edited state.json: by its SHA-256, and by the loader position a step leads to", async () => {
  const live = liveTensors();
  const a = await referenceRun();
  type Record_ = { stateSha256?: string; state: { loader: { position: number; seed: number } } };
  const edited = async (name: string, edit: (record: Record_) => void) => {
    const folder = join(root, name);
    await copyDir(ckpt(a.out, 6), ckpt(folder, 6));
    const file = join(ckpt(folder, 6), "state.json");
    const record = JSON.parse(await Deno.readTextFile(file));
    edit(record);
    await Deno.writeTextFile(file, JSON.stringify(record));
    return folder;
  };
  // The loader position of a mid-run checkpoint set far beyond the data: the state's SHA-256 catches it.
  const far = await edited("far", (r) => r.state.loader.position = 1e15);
  await assert.rejects(
    () => train({ ...TINY, resume: far, out: far }, () => {}),
    /state\.json's state does not match its SHA-256 \(edited or corrupt\)/,
  );
  // Without a recorded SHA-256 (an older checkpoint), the position is checked against the step.
  const old = await edited("old", (r) => {
    r.state.loader.position = 1e15;
    delete r.stateSha256;
  });
  await assert.rejects(
    () => train({ ...TINY, resume: old, out: old }, () => {}),
    /has loader epoch 1, position 1000000000000000 \(over 1 process\(es\)\), which is not where step 6/,
  );
  const shifted = await edited("shifted", (r) => {
    r.state.loader.position += 32; // one batch further: a different path, as silent as 1e15 was
    delete r.stateSha256;
  });
  await assert.rejects(() => train({ ...TINY, resume: shifted, out: shifted }, () => {}), /not where step 6/);
  const reseeded = await edited("reseeded", (r) => {
    r.state.loader.seed = 5;
    delete r.stateSha256;
  });
  await assert.rejects(
    () => train({ ...TINY, resume: reseeded, out: reseeded }, () => {}),
    /loader seed 5, not the run's seed 0/,
  );
  assert.equal(liveTensors(), live);
});

Deno.test("train() follows no link out of a checkpoint folder and does not describe its target", async () => {
  const a = await referenceRun();
  const linked = join(root, "linked");
  await copyDir(ckpt(a.out, 8), ckpt(linked, 8));
  const file = join(ckpt(linked, 8), "tensors.safetensors");
  await Deno.remove(file);
  await Deno.symlink("/etc/passwd", file);
  const size = (await Deno.stat("/etc/passwd")).size;
  await assert.rejects(
    () => train({ ...TINY, resume: linked, out: linked }, () => {}),
    (e: Error) =>
      /tensors\.safetensors is a symbolic link \(a checkpoint holds its own files; not followed\)/.test(e.message) &&
      !e.message.includes(`${size} bytes`),
  );
  // state.json too.
  const state = join(ckpt(linked, 8), "state.json");
  await Deno.rename(state, join(linked, "elsewhere.json"));
  await Deno.symlink(join(linked, "elsewhere.json"), state);
  await assert.rejects(
    () => train({ ...TINY, resume: linked, out: linked }, () => {}),
    /state\.json is a symbolic link/,
  );
});

Deno.test("train() refuses a truncated or foreign checkpoint and a folder without one, naming the path", async () => {
  const live = liveTensors();
  const a = await referenceRun();
  const bad = join(root, "truncated");
  await copyDir(ckpt(a.out, 8), ckpt(bad, 8));
  const file = join(ckpt(bad, 8), "tensors.safetensors");
  await Deno.truncate(file, 1000);
  await assert.rejects(
    () => train({ ...TINY, resume: bad, out: bad }, () => {}),
    (e: Error) => e.message.includes(ckpt(bad, 8)) && e.message.includes("truncated"),
  );
  await assert.rejects(
    () => train({ ...TINY, resume: a.out, out: join(root, "foreign"), projDim: 8 }, () => {}),
    (e: Error) => e.message.startsWith(`Cannot resume from checkpoint "${ckpt(a.out, 8)}"`),
  );
  await assert.rejects(
    () => train({ ...TINY, resume: root, out: join(root, "none") }, () => {}),
    new RegExp(`Cannot resume from "${root}": it holds no checkpoint`),
  );
  assert.equal(liveTensors(), live);
});

Deno.test("train() stops a diverging run with a RangeError naming the step, and frees every tensor", async () => {
  const live = liveTensors();
  await assert.rejects(
    () => run("diverged", { lr: 1e6, epochs: 10, evalEvery: 0 }),
    (e: Error) =>
      e instanceof RangeError && /^Training diverged at step \d+ \(epoch \d+\.\d\d, lr [\d.e+]+\): /.test(e.message),
  );
  assert.equal(liveTensors(), live);
});

Deno.test("train() throws on a missing dataset folder and an absent CUDA device, freeing every tensor", async () => {
  const live = liveTensors();
  await assert.rejects(() => run("nodata", { dataDir: "/nonexistent/fashion" }), DataFileError);
  await assert.rejects(
    () => run("nocuda", { device: "cuda" }),
    /Cannot train on device "cuda": CUDA is not available|only \d+ CUDA device/,
  );
  assert.equal(liveTensors(), live);
});

Deno.test("stepSeed() gives distinct non-negative 63-bit seeds per (seed, step)", () => {
  const seeds = new Set<bigint>();
  for (const seed of [0, 1, 2 ** 40]) for (let step = 0; step < 100; step++) seeds.add(stepSeed(seed, step));
  assert.equal(seeds.size, 300);
  for (const s of seeds) assert.ok(s >= 0n && s < 2n ** 63n);
  assert.equal(stepSeed(3, 7), stepSeed(3, 7));
});

/** A stop request that turns on at its `after`-th poll (the loop polls once per step, after the step). */
function stopAfter(after: number): StopRequest & { polls: number } {
  return {
    polls: 0,
    get requested() {
      return ++this.polls >= after;
    },
    reason: "a test",
    exitCode: 1,
  };
}

Deno.test("train() with a stop request finishes the step, checkpoints, says how to resume; the resume reproduces the run", async () => {
  const live = liveTensors();
  const a = await referenceRun();
  const out = join(root, "stopped");
  const lines: string[] = [];
  const result = await train({ ...TINY, out, probeEpochs: 2 }, (l) => lines.push(l), { stop: stopAfter(3) });
  assert.equal(result.steps, 3);
  assert.deepEqual(result.stopped, { reason: "a test", exitCode: 1, checkpoint: ckpt(out, 3) });
  assert.ok(lines.includes(`  stopped by a test at step 3: checkpoint ${ckpt(out, 3)}; resume with --resume ${out}`));
  assert.ok(!(await Deno.stat(join(out, "report.md")).then(() => true, () => false)), "evaluated a stopped run");
  const resumed = await train({ ...TINY, out: null, resume: out, probeEpochs: 2 }, () => {});
  assert.equal(resumed.stopped, null);
  const final = (dir: string) => Deno.readFileSync(join(ckpt(dir, 8), "tensors.safetensors"));
  assert.deepEqual(final(out), final(a.out));
  assert.equal(resumed.knnFinal, a.knnFinal);
  assert.equal(liveTensors(), live);
});

Deno.test("train() holds its folder: a locked folder and another run's checkpoints are refused; failed starts leave nothing", async () => {
  const a = await referenceRun();
  // Another process's lock (here: this process's, taken directly).
  const locked = join(root, "locked");
  await Deno.mkdir(locked);
  const lock = await RunLock.acquire(locked);
  await assert.rejects(() => train({ ...TINY, out: locked }, () => {}), new RegExp(`another run \\(pid ${Deno.pid},`));
  lock.release();
  // A folder with another run's checkpoints: refused, unless overwritten.
  const taken = join(root, "taken");
  await copyDir(ckpt(a.out, 8), ckpt(taken, 8));
  await assert.rejects(
    () => train({ ...TINY, out: taken }, () => {}),
    new RegExp(
      `Cannot start a new run in "${taken}": it holds another run's checkpoints \\(ckpt-00000008\\); resume it`,
    ),
  );
  const over = await train({ ...TINY, out: taken, overwrite: true, epochs: 1, seed: 5 }, () => {});
  assert.equal(over.steps, 4);
  const names = [...Deno.readDirSync(join(taken, "checkpoints"))].map((e) => e.name).sort();
  assert.deepEqual(names, ["ckpt-00000003", "ckpt-00000004"]); // the other run's ckpt-00000008 is gone
  assert.ok(!Deno.readDirSync(taken).some((e) => e.name === "run.lock"), "the lock outlived the run");
  // A start that fails (no data) removes the folder it created.
  const failed = join(root, "failed-start");
  await assert.rejects(() => train({ ...TINY, out: failed, dataDir: "/nonexistent" }, () => {}), DataFileError);
  assert.equal(await Deno.stat(failed).then(() => true, () => false), false);
});

/** Copies the reference's checkpoints at `steps` into a new run folder (with its metrics log). */
async function copyRun(a: RunResult, name: string, steps: number[]): Promise<string> {
  const b = join(root, name);
  for (const step of steps) await copyDir(ckpt(a.out, step), ckpt(b, step));
  await Deno.copyFile(join(a.out, "metrics.jsonl"), join(b, "metrics.jsonl"));
  return b;
}

/** Rewrites a checkpoint's state.json through `edit`, and its recorded size and SHA-256 after `tensors`. */
async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function editCheckpoint(
  path: string,
  edit: (record: { step: number; state: Record<string, unknown> }) => void,
  tensors?: (bytes: Uint8Array) => void,
): Promise<void> {
  const record = JSON.parse(await Deno.readTextFile(join(path, "state.json")));
  edit(record);
  if (tensors) {
    const bytes = await Deno.readFile(join(path, "tensors.safetensors"));
    tensors(bytes);
    await Deno.writeFile(join(path, "tensors.safetensors"), bytes);
    record.tensors.sha256 = await sha256Hex(bytes);
  }
  // A forged checkpoint: its digests match its edits, so only the checks of the values can refuse it.
  record.stateSha256 = await sha256Hex(new TextEncoder().encode(JSON.stringify(record.state)));
  await Deno.writeTextFile(join(path, "state.json"), JSON.stringify(record));
}

Deno.test("train() resumes from the newest intact checkpoint, saying why the newer one was refused", async () => {
  const a = await referenceRun();
  const b = await copyRun(a, "fallback", [6, 8]);
  const bytes = await Deno.readFile(join(ckpt(b, 8), "tensors.safetensors"));
  bytes[bytes.length - 1] ^= 1;
  await Deno.writeFile(join(ckpt(b, 8), "tensors.safetensors"), bytes);
  const lines: string[] = [];
  const result = await train({ ...TINY, out: null, resume: b, probeEpochs: 2 }, (l) => lines.push(l));
  assert.ok(lines.includes(`  resumed from ${ckpt(b, 6)} at step 6`), lines.join("\n"));
  assert.ok(
    lines.some((l) => l.startsWith(`  passed over ${ckpt(b, 8)}: `) && l.includes("does not match its SHA-256")),
  );
  assert.equal(result.knnFinal, a.knnFinal);
});

Deno.test("train() refuses a checkpoint whose dtypes, shapes or run-state numbers are wrong, before loading", async () => {
  const live = liveTensors();
  const a = await referenceRun();
  const cases: [string, Parameters<typeof editCheckpoint>[1], Parameters<typeof editCheckpoint>[2], RegExp][] = [
    ["relabel", () => {}, (bytes) => {
      // the first conv weight's header entry F32 → I32: the same bytes read as integers
      const text = new TextDecoder().decode(bytes.subarray(0, 8192));
      const entry = /"(online\.[^"]*conv1\.weight)":\{"dtype":"F32"/.exec(text)!;
      bytes.set(new TextEncoder().encode("I32"), entry.index + entry[0].length - 4);
    }, /"online\.[^"]*conv1\.weight" has dtype int32 but expected float32/],
    ["knn", (r) => r.state.knnInit = 7, undefined, /its state has knnInit 7, not an accuracy/],
    ["step", (r) => r.state.step = 2.5, undefined, /its state has step 2.5, not the checkpoint's step 8/],
    ["seconds", (r) => r.state.trainSeconds = -1, undefined, /trainSeconds -1, not a finite number/],
    [
      "queue",
      (r) => (r.state.method as Record<string, unknown>).step = 1e300,
      undefined,
      /method.step 1e\+300, not a count/,
    ],
    ["null", (r) => r.state = null as never, undefined, /has null "state", not an object/],
  ];
  for (const [name, edit, tensors, message] of cases) {
    const b = await copyRun(a, `bad-${name}`, [8]);
    await editCheckpoint(ckpt(b, 8), edit, tensors);
    await assert.rejects(() => train({ ...TINY, out: null, resume: ckpt(b, 8) }, () => {}), (e: Error) => {
      assert.ok(e.message.includes(ckpt(b, 8)), e.message);
      assert.match(e.message, message);
      return true;
    });
  }
  assert.equal(liveTensors(), live);
});

Deno.test("train() without per-step checks skips non-finite steps on the device, and stops after a few in a row", async () => {
  const live = liveTensors();
  await assert.rejects(
    () => run("guarded", { lr: 1e6, epochs: 10, evalEvery: 0, methodOptions: { checkValues: false } }),
    (e: Error) =>
      e instanceof RangeError &&
      /^Training diverged at step \d+ .*: the last \d+ steps were not finite and were skipped/.test(e.message),
  );
  assert.equal(liveTensors(), live);
});

/** An IDX file of unsigned bytes: magic 0x0000080n, big-endian dims, data. */
function idx(dims: number[], data: Uint8Array): Uint8Array {
  const head = new Uint8Array(4 + 4 * dims.length);
  const view = new DataView(head.buffer);
  view.setUint32(0, 0x0800 + dims.length, false);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(head.length + data.length);
  out.set(head);
  out.set(data, head.length);
  return out;
}

/** A Fashion-MNIST-format folder whose training and test images have the given sides. */
async function mnistFolder(name: string, trainSide: number, testSide: number): Promise<string> {
  const dir = join(root, name);
  await Deno.mkdir(dir);
  for (const [prefix, side] of [["train", trainSide], ["t10k", testSide]] as const) {
    const n = 64;
    const pixels = Uint8Array.from({ length: n * side * side }, (_, i) => (i * 37) % 256);
    await Deno.writeFile(join(dir, `${prefix}-images-idx3-ubyte`), idx([n, side, side], pixels));
    await Deno.writeFile(
      join(dir, `${prefix}-labels-idx1-ubyte`),
      idx([n], Uint8Array.from({ length: n }, (_, i) => i % 10)),
    );
  }
  return dir;
}

Deno.test("train() refuses training and test images of different shapes, and images too small to train on", async () => {
  const live = liveTensors();
  const mixed = await mnistFolder("mixed-sides", 28, 14);
  await assert.rejects(
    () => run("mixed", { dataDir: mixed, limitTrain: 0, limitTest: 0 }),
    new RegExp(
      `Cannot train on fashion-mnist in ${mixed}: training images are \\[1, 28, 28\\] but test images are \\[1, 14, 14\\]`,
    ),
  );
  const tiny = await mnistFolder("one-pixel", 1, 1);
  await assert.rejects(
    () => run("one-pixel", { dataDir: tiny, limitTrain: 0, limitTest: 0 }),
    /images of \[1, 1, 1\] are smaller than 8×8/,
  );
  assert.equal(await Deno.stat(join(root, "mixed")).then(() => true, () => false), false);
  assert.equal(liveTensors(), live);
});

Deno.test("train() keeps the newest keepCheckpoints checkpoints", async () => {
  const out = join(root, "keep-one");
  await train({ ...TINY, out, keepCheckpoints: 1, probeEpochs: 0 }, () => {});
  const names = [...Deno.readDirSync(join(out, "checkpoints"))].map((e) => e.name);
  assert.deepEqual(names, ["ckpt-00000008"]);
});
