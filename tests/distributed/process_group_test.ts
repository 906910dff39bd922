/** ProcessGroup over real processes: two Deno ranks on Gloo over 127.0.0.1. */
import assert from "node:assert/strict";
import * as T from "../_all.ts";
import { globalBatch } from "./_data.ts";
import { freePort, type Rank, runRanks, spawnRanks } from "./_spawn.ts";

Deno.test("ProcessGroup collectives give the same sums, means, gathers and broadcasts on 2 ranks", async () => {
  const results = (await runRanks("collectives")).map((r) => r.collectives as Record<string, unknown>);
  for (const r of results) {
    assert.deepEqual(r.sum, [3, 30]);
    assert.deepEqual(r.mean, [0.5, 1]);
    assert.deepEqual(r.coalesced, [[[1.5, 1.5], [1.5, 1.5]], [1, 1, 1]]); // int64 (1 + 2)·0.5 truncates to 1
    assert.deepEqual(r.gathered, [[0, 0], [1, 1]]);
    assert.deepEqual(r.broadcast, [[8, 8], [4]]);
    assert.deepEqual(r.commMean, [2]);
  }
});

Deno.test("ProcessGroup.allGatherWithGrad gives each rank its slice of the global loss's gradient", async () => {
  const results = (await runRanks("gatherGrad")).map((r) => r.gatherGrad as { all: number[][]; grad: number[][] });
  const expected = T.scope(() => {
    const x = globalBatch().x.detach().requiresGrad_();
    x.mm(x.t()).square().sum().backward();
    return x.grad!.toArray() as number[][];
  });
  const world = results.length;
  results.forEach((r, rank) => {
    const slice = expected.slice(rank * 4, rank * 4 + 4);
    // Each rank computed the whole loss, so its gradient is world × its slice of the global one.
    r.grad.forEach((row, i) =>
      row.forEach((v, j) => assert.ok(Math.abs(v / world - slice[i][j]) < 1e-3 * (1 + Math.abs(slice[i][j]))))
    );
  });
});

/** Waits until both ranks joined the group (their first line), failing with a rank's error otherwise. */
async function bothReady(ranks: Rank[]): Promise<void> {
  const first = await Promise.all(
    ranks.map((r) => Promise.race([r.firstLine, r.done.then((d) => d.lines[0] ?? { exitCode: d.code })])),
  );
  first.forEach((line, rank) => assert.equal(line.ready, true, `rank ${rank} did not start: ${JSON.stringify(line)}`));
}

Deno.test("ProcessGroup: a rank killed with SIGKILL makes the other throw DistributedError naming it", async () => {
  // 4 s: long enough for both ranks to start and join on a loaded machine, short for the failure.
  const ranks = spawnRanks("survive", 2, 4000);
  await bothReady(ranks);
  ranks[1].child.kill("SIGKILL");
  const t0 = performance.now();
  const { lines, code } = await ranks[0].done;
  const seconds = (performance.now() - t0) / 1000;
  await ranks[1].done;
  const r = lines.at(-1)!.survive as { failed: string; deadRanks: number[]; name: string };
  assert.equal(code, 0);
  assert.equal(r.name, "DistributedError");
  assert.deepEqual(r.deadRanks, [1]);
  assert.match(r.failed, /Rank 0 of 2: allReduce failed: rank 1 died or stopped answering/);
  assert.ok(seconds < 20, `took ${seconds} s`); // c10d notices a dead peer within about 2× its timeout
});

Deno.test("ProcessGroup: when rank 0 (the store) is killed, rank 1 names it", async () => {
  const ranks = spawnRanks("survive", 2, 4000);
  await bothReady(ranks);
  ranks[0].child.kill("SIGKILL");
  const { lines } = await ranks[1].done;
  await ranks[0].done;
  const r = lines.at(-1)!.survive as { failed: string; deadRanks: number[] };
  assert.deepEqual(r.deadRanks, [0]);
  assert.match(r.failed, /rank 0 \(which serves the rendezvous store\) is unreachable/);
});

Deno.test("ProcessGroup.join throws DistributedError when the other ranks never come", () => {
  const t0 = performance.now();
  assert.throws(
    () => T.ProcessGroup.join({ address: "127.0.0.1", port: freePort(), rank: 0, worldSize: 2, timeoutMs: 500 }),
    (e: Error) => e instanceof T.DistributedError && /could not join the group/.test(e.message),
  );
  assert.ok(performance.now() - t0 < 10_000);
});

Deno.test("ProcessGroup.join rejects a rank outside the world and a bad port", () => {
  assert.throws(() => T.ProcessGroup.join({ address: "127.0.0.1", port: 1234, rank: 2, worldSize: 2 }), RangeError);
  assert.throws(() => T.ProcessGroup.join({ address: "127.0.0.1", port: 0, rank: 0, worldSize: 1 }), RangeError);
});

Deno.test("ProcessGroup on one rank: collectives are identities and nothing leaks", () => {
  const before = T.liveTensors();
  {
    using g = T.ProcessGroup.join({ address: "127.0.0.1", port: freePort(), rank: 0, worldSize: 1 });
    T.scope(() => {
      const x = T.tensor([1, 2]);
      g.allReduceMean_(x);
      assert.deepEqual(x.toArray(), [1, 2]);
      assert.deepEqual(g.allGather(x).toArray(), [1, 2]);
      g.broadcast_([x]);
      g.barrier();
      assert.throws(() => g.broadcast_([x], 1), T.TorchError);
    });
  }
  assert.equal(T.liveTensors(), before);
});
