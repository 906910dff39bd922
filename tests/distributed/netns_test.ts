/**
 * A two-node job on one machine: each rank of `train.ts` runs in its own network namespace, node 0's
 * address is MASTER_ADDR, and the faults a cluster meets are put on the link between them (see
 * `_netns.ts`): a slow, lossy link must give the same result as a clean one; a partition and a paused
 * rank must end every survivor non-zero within --dist-timeout plus a few seconds, naming the rank, and
 * the last checkpoint must resume. Needs root; without it each test says so and is ignored.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type BoundedChild, type ChildResult, describeExit, runChild, startChild } from "../_child.ts";
import { makeNodes, type Nodes } from "./_netns.ts";

const repo = new URL("../..", import.meta.url).pathname;
const root = await Deno.makeTempDir({ prefix: "unigrad-netns-test-" });
addEventListener("unload", () => Deno.removeSync(root, { recursive: true }));

/** Seconds a collective waits for the other rank. */
const DIST_TIMEOUT = 8;
/** What a survivor may take beyond --dist-timeout to notice, explain and exit. */
const SLACK_S = 15;

/** 16 steps (256 images, global batch 32, 2 epochs) of a tiny ResNet-20 on 2 ranks. */
const TINY = [
  ...["--limit-train", "256", "--limit-test", "64", "--batch-size", "32", "--epochs", "2", "--width", "4"],
  ...["--proj-hidden", "32", "--proj-dim", "16", "--checkpoint-every", "2", "--log-every", "2"],
  ...["--probe-epochs", "2", "--threads", "1", "--dist-timeout", String(DIST_TIMEOUT)],
];

const nodes = await makeNodes();
const skip = typeof nodes === "string" ? nodes : null;
if (skip !== null) console.warn(`netns_test: skipped, ${skip}`);

/** Both ranks of one job, rank k in node k, joining at node 0's address. */
function job(n: Nodes, args: string[], port: number): [BoundedChild, BoundedChild] {
  return [0, 1].map((rank) =>
    startChild("ip", {
      args: n.exec(rank as 0 | 1, [Deno.execPath(), "run", "-A", join(repo, "train.ts"), ...args]),
      cwd: repo,
      env: {
        RANK: String(rank),
        WORLD_SIZE: "2",
        LOCAL_RANK: "0",
        MASTER_ADDR: n.addresses[0],
        MASTER_PORT: String(port),
        UNIGRAD_NUM_THREADS: "1",
        NO_COLOR: "1",
      },
      timeoutMs: 240_000,
    })
  ) as [BoundedChild, BoundedChild];
}

let nextPort = 29_500 + (Deno.pid % 1000);

async function waitForPath(path: string, children: BoundedChild[], timeoutMs = 120_000): Promise<void> {
  const ended: ChildResult[] = [];
  children.forEach((c) => c.result.then((r) => ended.push(r)));
  const start = Date.now();
  while (!(await Deno.stat(path).then(() => true, () => false))) {
    if (ended.length > 0) throw new Error(`waiting for ${path}: a rank ended first, ${describeExit(ended[0])}`);
    if (Date.now() - start > timeoutMs) throw new Error(`waiting for ${path}: not after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The logged losses and kNN accuracies of a run folder, in order. */
async function curve(out: string): Promise<number[]> {
  const lines = (await Deno.readTextFile(join(out, "metrics.jsonl"))).trim().split("\n").map((l) => JSON.parse(l));
  return lines.flatMap((r) => [r.loss, r.knn, r.linearProbe].filter((v) => typeof v === "number"));
}

async function runJob(n: Nodes, out: string, extra: string[] = []): Promise<[ChildResult, ChildResult]> {
  const ranks = job(n, [...TINY, "--out", out, ...extra], nextPort++);
  return await Promise.all(ranks.map((r) => r.result)) as [ChildResult, ChildResult];
}

function assertBothOk([a, b]: ChildResult[]): void {
  assert.equal(a.code, 0, `rank 0: ${describeExit(a)}`);
  assert.equal(b.code, 0, `rank 1: ${describeExit(b)}`);
}

let baseline: Promise<number[]> | null = null;
/** The job on a clean link: its losses and accuracies. */
function clean(n: Nodes): Promise<number[]> {
  baseline ??= (async () => {
    const out = join(root, "clean");
    assertBothOk(await runJob(n, out));
    return await curve(out);
  })();
  return baseline;
}

Deno.test({
  name: "two nodes: a slow, queueing link that drops what overflows gives the same result as a clean one",
  ignore: skip !== null,
  sanitizeResources: false,
  fn: async () => {
    const n = nodes as Nodes;
    const reference = await clean(n);
    // 4 Mbit/s with a 50 ms queue: every all-reduce of the gradients waits in it, and bursts beyond it are
    // dropped (TCP retransmits them).
    assert.ok(await n.shape(["tbf", "rate", "4mbit", "burst", "16kb", "latency", "50ms"]), "tc tbf");
    const started = performance.now();
    try {
      const out = join(root, "throttled");
      assertBothOk(await runJob(n, out));
      assert.deepEqual(await curve(out), reference);
    } finally {
      await n.heal();
    }
    console.log(`throttled link: ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const netem = await n.shape(["netem", "delay", "50ms", "10ms", "loss", "5%"]);
    if (!netem) {
      console.warn(
        "netns_test: this kernel has no sch_netem (tc netem): the 50 ms ± 10 ms delay with 5 % loss case is skipped",
      );
      return;
    }
    try {
      const out = join(root, "netem");
      assertBothOk(await runJob(n, out));
      assert.deepEqual(await curve(out), reference);
    } finally {
      await n.heal();
    }
  },
});

/** Waits for both ranks; asserts each exits non-zero within the bound after `from`, naming the other rank. */
async function assertSurvivorsFail(ranks: BoundedChild[], from: number, survivors: number[]): Promise<void> {
  for (const k of survivors) {
    const r = await ranks[k].result;
    const seconds = (performance.now() - from) / 1000;
    assert.notEqual(r.code, 0, `rank ${k} exited 0 after the fault`);
    assert.ok(seconds < DIST_TIMEOUT + SLACK_S, `rank ${k} took ${seconds.toFixed(1)} s: ${describeExit(r)}`);
    const other = 1 - k;
    assert.match(r.stderr, new RegExp(`rank ${other}\\b`), `rank ${k} does not name rank ${other}: ${describeExit(r)}`);
    console.log(
      `rank ${k} exited ${r.code} ${seconds.toFixed(1)} s after the fault: ${r.stderr.trim().split("\n").pop()}`,
    );
  }
}

Deno.test({
  name:
    "two nodes: a partition mid-run ends both ranks within --dist-timeout, naming the other; the checkpoint resumes",
  ignore: skip !== null,
  sanitizeResources: false,
  fn: async () => {
    const n = nodes as Nodes;
    const reference = await clean(n);
    const out = join(root, "partition");
    const ranks = job(n, [...TINY, "--out", out], nextPort++);
    await waitForPath(join(out, "checkpoints", "ckpt-00000004"), ranks);
    await n.partition();
    const cut = performance.now();
    try {
      await assertSurvivorsFail(ranks, cut, [0, 1]);
    } finally {
      await n.heal();
    }
    assertBothOk(await runJob(n, out, ["--resume", out]));
    assert.deepEqual(await curve(out), reference);
  },
});

Deno.test({
  name: "two nodes: a rank paused with SIGSTOP ends the other within --dist-timeout, naming it; the checkpoint resumes",
  ignore: skip !== null,
  sanitizeResources: false,
  fn: async () => {
    const n = nodes as Nodes;
    const reference = await clean(n);
    const out = join(root, "paused");
    const ranks = job(n, [...TINY, "--out", out], nextPort++);
    await waitForPath(join(out, "checkpoints", "ckpt-00000004"), ranks);
    ranks[1].child.kill("SIGSTOP");
    const paused = performance.now();
    try {
      await assertSurvivorsFail(ranks, paused, [0]);
    } finally {
      ranks[1].child.kill("SIGKILL");
      await ranks[1].result;
    }
    assertBothOk(await runJob(n, out, ["--resume", out]));
    assert.deepEqual(await curve(out), reference);
  },
});

Deno.test({
  name: "two nodes: the namespaces are deleted at the end",
  ignore: skip !== null,
  fn: async () => {
    const n = nodes as Nodes;
    await n.dispose();
    const listed = (await runChild("ip", { args: ["netns", "list"], timeoutMs: 10_000 })).stdout;
    for (const name of n.names) assert.ok(!listed.includes(name), `${name} is still there`);
  },
});
