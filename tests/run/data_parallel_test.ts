/**
 * Data-parallel training end to end, with real processes (Gloo on 127.0.0.1): the trainer of 2 ranks
 * equals one process on the same global batch; `train.ts --nproc 2` writes one run folder and its
 * checkpoint resumes on 1 process; a killed rank makes the other exit naming it; SIGTERM to both ranks
 * gives one checkpoint that resumes.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { assertExit, type BoundedChild, type ChildResult, describeExit, startChild } from "../_child.ts";

const root = new URL("../../", import.meta.url).pathname;
const WORKER = new URL("./_dp_worker.ts", import.meta.url).pathname;
const TRAIN = join(root, "train.ts");
const TINY = [
  "--width=4",
  "--proj-hidden=32",
  "--proj-dim=16",
  "--limit-train=256",
  "--limit-test=64",
  "--batch-size=32",
  "--probe-epochs=0",
  "--threads=1",
];

/** TINY with the `--name=value` flags of `extra` replacing its own (a flag given twice is refused). */
function tiny(...extra: string[]): string[] {
  const names = new Set(extra.map((a) => a.split("=")[0]));
  return [...TINY.filter((a) => !names.has(a.split("=")[0])), ...extra];
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

function spawn(args: string[], env: Record<string, string> = {}, streamStdout = false): BoundedChild {
  return startChild(Deno.execPath(), {
    args: ["run", "-A", ...args],
    env: { UNIGRAD_NUM_THREADS: "1", NO_COLOR: "1", ...env },
    timeoutMs: 240_000,
    streamStdout,
  });
}

function finish(child: BoundedChild): Promise<ChildResult> {
  return child.result;
}

/** Ranks of train.ts started as torchrun would (the test keeps each process to signal it). */
function trainRanks(args: string[], world = 2): BoundedChild[] {
  const port = String(freePort());
  return Array.from({ length: world }, (_, rank) =>
    spawn([TRAIN, ...args], {
      RANK: String(rank),
      WORLD_SIZE: String(world),
      LOCAL_RANK: String(rank),
      MASTER_ADDR: "127.0.0.1",
      MASTER_PORT: port,
    }));
}

/** Waits until the run's metrics log has a line with a loss (training has started), or the deadline. */
async function trainingStarted(out: string, seconds = 60): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    const text = await Deno.readTextFile(join(out, "metrics.jsonl")).catch(() => "");
    if (text.includes('"loss"')) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`training did not start within ${seconds} s`);
}

function maxDiff(a: number[], b: number[]): number {
  assert.equal(a.length, b.length);
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
}

Deno.test("2 ranks take the same steps as 1 process on the same global batch (UniGrad, SimCLR, Barlow Twins, BYOL + SyncBN)", async () => {
  const port = String(freePort());
  const runs = await Promise.all([
    finish(spawn([WORKER, "0", "0", "0"])),
    finish(spawn([WORKER, port, "0", "2"])),
    finish(spawn([WORKER, port, "1", "2"])),
  ]);
  runs.forEach((r, i) => assertExit(r, 0, `run ${i}`));
  const [one, rank0, rank1] = runs.map((r) => JSON.parse(r.stdout.trim().split("\n").at(-1)!));
  for (const name of Object.keys(one)) {
    for (const rank of [rank0, rank1]) {
      // Float32 summation order differs (gathered vs one batch): measured 4e-6 to 1.1e-5 of the weights' scale,
      // natively and on AVX2 kernels; without SyncBN the ranks' weights are off by about 1× their scale.
      const scale = 1 + Math.max(...one[name].weights.map(Math.abs));
      const d = maxDiff(rank[name].weights, one[name].weights);
      assert.ok(d < 5e-5 * scale, `${name}: weights differ from the 1-process run by ${d} (scale ${scale})`);
      if (one[name].F) assert.ok(maxDiff(rank[name].F, one[name].F) < 1e-5, `${name}: F differs`);
      if (one[name].target) {
        const dt = maxDiff(rank[name].target, one[name].target);
        assert.ok(dt < 5e-5 * scale, `${name}: the momentum encoder differs by ${dt}`);
      }
    }
    // Every rank holds the same weights, momentum encoder and method state (F).
    for (const key of ["weights", "target", "F"]) {
      assert.deepEqual(rank0[name][key], rank1[name][key], `${name}: the ranks' ${key} differ`);
    }
  }
});

Deno.test("train.ts --nproc 2 runs 2 ranks that write one run folder (rank 0 alone speaks and saves)", async () => {
  const out = await Deno.makeTempDir();
  try {
    const two = await finish(spawn([TRAIN, ...TINY, "--epochs=1", "--nproc=2", `--out=${out}`]));
    assertExit(two, 0, "train.ts --nproc 2");
    assert.match(two.stdout, /data parallel: 2 processes × 16 pairs, SyncBN true/);
    assert.equal(two.stdout.match(/kNN at initialisation/g)?.length, 1, "only rank 0 speaks");
    assert.deepEqual([...Deno.readDirSync(join(out, "checkpoints"))].map((e) => e.name), ["ckpt-00000008"]);
    const steps = Deno.readTextFileSync(join(out, "metrics.jsonl")).trim().split("\n").map((l) => JSON.parse(l).step);
    assert.equal(Math.max(...steps), 8);
    // Each rank's heartbeat, for the watch page: its last logged step.
    const beats = [0, 1].map((k) => JSON.parse(Deno.readTextFileSync(join(out, "heartbeats", `rank-${k}.json`))));
    assert.deepEqual(beats.map((b) => [b.rank, b.worldSize, b.step]), [[0, 2, 8], [1, 2, 8]]);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("a rank killed with SIGKILL makes the other exit non-zero within the timeout, naming it", async () => {
  const out = await Deno.makeTempDir();
  try {
    const ranks = trainRanks([...TINY, "--epochs=50", "--log-every=1", "--dist-timeout=5", `--out=${out}`]);
    await trainingStarted(out);
    ranks[1].child.kill("SIGKILL");
    const t0 = Date.now();
    const [survivor] = await Promise.all([finish(ranks[0]), finish(ranks[1])]);
    assert.equal(survivor.code, 1);
    assert.match(survivor.stderr, /error: Rank 0 of 2: .*rank 1 died or stopped answering/);
    assert.ok(Date.now() - t0 < 20_000, `took ${Date.now() - t0} ms`);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("SIGTERM to both ranks: they stop after the same step, rank 0 writes one checkpoint, it resumes on 1 process", async () => {
  const out = await Deno.makeTempDir();
  try {
    // 128 steps per epoch and no periodic checkpoint: the only checkpoint is the one the signal causes.
    const long = ["--limit-train=4096", "--checkpoint-every=100000", "--eval-every=0", "--log-every=1"];
    const ranks = trainRanks(tiny(...long, "--epochs=2", `--out=${out}`));
    await trainingStarted(out);
    ranks.forEach((r) => r.child.kill("SIGTERM"));
    const [r0, r1] = await Promise.all(ranks.map(finish));
    assert.deepEqual([r0.code, r1.code], [143, 143], r0.stderr + r1.stderr);
    // Either rank's signal may be the one the ranks agreed on first.
    const m = r0.stdout.match(
      /stopped by (?:SIGTERM|another rank's stop request) at step (\d+): checkpoint .*; resume/,
    );
    assert.ok(m, r0.stdout + r0.stderr);
    assert.equal(r1.stdout.trim(), "", "rank 0 speaks for the job");
    const saved = [...Deno.readDirSync(join(out, "checkpoints"))].map((e) => e.name);
    assert.deepEqual(saved, [`ckpt-${m[1].padStart(8, "0")}`]);
    // Resumed on 1 process (killed once it has said where it continues from).
    const resumed = spawn([TRAIN, ...tiny(...long, "--epochs=2", `--resume=${out}`)], {}, true);
    const lines = resumed.stdout!.values();
    let seen = "";
    while (!/resumed from .* at step \d+/.test(seen)) {
      const next = await lines.next();
      if (next.done) break;
      seen += next.value;
    }
    resumed.child.kill("SIGKILL");
    await resumed.result;
    assert.match(seen, new RegExp(`resumed from .*ckpt-0*${m[1]} at step ${m[1]}`));
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("ranks that find different newest checkpoints refuse to resume, each naming what every rank found", async () => {
  const a = await Deno.makeTempDir();
  const b = await Deno.makeTempDir();
  try {
    // One process, 2 epochs of 8 steps, a checkpoint every 4 steps: ckpt 4, 8, 12, 16 (the last three kept).
    const one = await finish(spawn([TRAIN, ...TINY, "--epochs=2", "--checkpoint-every=4", `--out=${a}`]));
    assertExit(one, 0, "the run to resume");
    // b: the same run folder as a node whose file system has not yet seen the newest checkpoint.
    for (const e of Deno.readDirSync(a)) if (e.isFile) Deno.copyFileSync(join(a, e.name), join(b, e.name));
    await Deno.mkdir(join(b, "checkpoints"));
    for (const ckpt of ["ckpt-00000008", "ckpt-00000012"]) {
      await Deno.mkdir(join(b, "checkpoints", ckpt));
      for (const f of Deno.readDirSync(join(a, "checkpoints", ckpt))) {
        Deno.copyFileSync(join(a, "checkpoints", ckpt, f.name), join(b, "checkpoints", ckpt, f.name));
      }
    }
    const port = String(freePort());
    const env = (rank: number) => ({
      RANK: String(rank),
      WORLD_SIZE: "2",
      LOCAL_RANK: String(rank),
      MASTER_ADDR: "127.0.0.1",
      MASTER_PORT: port,
    });
    const ranks = [[a, 0], [b, 1]].map(([dir, rank]) =>
      spawn([TRAIN, ...TINY, "--epochs=2", "--checkpoint-every=4", `--resume=${dir}`], env(rank as number))
    );
    const [r0, r1] = await Promise.all(ranks.map(finish));
    for (const r of [r0, r1]) {
      assert.equal(r.code, 1, describeExit(r));
      assert.match(
        r.stderr,
        /Cannot resume: the ranks found different checkpoints \(rank 0: step 16 \(sha256 [0-9a-f]{12}…\); rank 1: step 12 /,
      );
    }
  } finally {
    await Deno.remove(a, { recursive: true });
    await Deno.remove(b, { recursive: true });
  }
});

Deno.test("a stop on 2 ranks: no rank exits before rank 0's checkpoint is written (a launcher would kill rank 0 mid-save)", async () => {
  const out = await Deno.makeTempDir();
  try {
    // A 4096-wide projector makes the checkpoint ~230 MB: a save of about a second, against the milliseconds
    // rank 1 needs to exit once it stops waiting.
    const big = ["--proj-hidden=4096", "--proj-dim=4096", "--limit-train=4096", "--checkpoint-every=100000"];
    const ranks = trainRanks(tiny(...big, "--eval-every=0", "--log-every=1", "--epochs=2", `--out=${out}`));
    await trainingStarted(out);
    ranks.forEach((r) => r.child.kill("SIGTERM"));
    const exited: number[] = [];
    const [r0, r1] = await Promise.all(ranks.map((r, i) => finish(r).then((res) => (exited[i] = Date.now(), res))));
    assert.deepEqual([r0.code, r1.code], [143, 143], describeExit(r0) + describeExit(r1));
    const [ckpt] = [...Deno.readDirSync(join(out, "checkpoints"))].map((e) => e.name);
    const written = Deno.statSync(join(out, "checkpoints", ckpt, "state.json")).mtime!.getTime();
    assert.ok(exited[1] >= written, `rank 1 exited ${written - exited[1]} ms before rank 0's checkpoint was written`);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
