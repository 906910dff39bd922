import assert from "node:assert/strict";
import { join } from "node:path";
import { DataFileError, liveTensors } from "../../mod.ts";
import { DEFAULT_CONFIG, type TrainConfig } from "../../src/run/config.ts";
import { readMetricsLog, type TrainingRecord } from "../../src/io/metrics_log.ts";
import { type RunResult, train } from "../../src/run/train.ts";
import { stepSeed } from "../../src/run/_state.ts";

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
  // The metrics history came along; the config differs from the checkpoint's (probeEpochs does not count).
  assert.equal(readMetricsLog(join(out, "metrics.jsonl"))[0].knn, a.knnInit);
  const warned = await (async () => {
    const l: string[] = [];
    await train({ ...TINY, out: join(root, "changed"), resume: a.out, lr: 0.2 }, (x) => l.push(x));
    return l.find((x) => x.includes("warning"));
  })();
  assert.match(warned!, /differs from the checkpoint's in lr \(0\.1 → 0\.2\)/);
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
