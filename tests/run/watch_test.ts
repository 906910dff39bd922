import assert from "node:assert/strict";
import { join } from "node:path";
import { findRuns, MAX_POINTS, seriesOf, watchRuns } from "../../src/run/watch.ts";

const root = await Deno.makeTempDir({ prefix: "unigrad-watch-test-" });
addEventListener("unload", () => Deno.removeSync(root, { recursive: true }));

const line = (r: Record<string, unknown>) => JSON.stringify(r) + "\n";

async function tree(): Promise<void> {
  for (const d of ["runs/a", "runs/b/checkpoints/ckpt-00000004", "repro/rows/e/seed-0", "empty/x"]) {
    await Deno.mkdir(join(root, d), { recursive: true });
  }
  await Deno.writeTextFile(join(root, "runs/a/metrics.jsonl"), line({ step: 0, epoch: 0, knn: 0.5 }));
  await Deno.writeTextFile(
    join(root, "runs/a/config.json"),
    JSON.stringify({ method: "unigrad", dataset: "fashion-mnist", batchSize: 32, derived: { totalSteps: 100 } }),
  );
  // A run killed mid-write and resumed: a malformed line in the middle, and an unfinished last line.
  await Deno.writeTextFile(
    join(root, "runs/b/metrics.jsonl"),
    line({ step: 2, epoch: 0.5, loss: -0.1 }) + '{"step": 4, "epo\n' + line({ step: 4, epoch: 1, loss: -0.2 }) +
      '{"step": 6,',
  );
  await Deno.writeTextFile(join(root, "repro/rows/e/seed-0/metrics.jsonl"), line({ step: 0, epoch: 0, knn: 0.1 }));
  await Deno.symlink("/etc", join(root, "runs/link")); // not followed
  await Deno.mkdir(join(root, "runs/b/heartbeats"));
  const beat = (rank: number, step: number) =>
    JSON.stringify({ rank, worldSize: 2, step, time: Date.now(), host: "n" });
  await Deno.writeTextFile(join(root, "runs/b/heartbeats/rank-0.json"), beat(0, 4));
  await Deno.writeTextFile(join(root, "runs/b/heartbeats/rank-1.json"), beat(1, 2));
}

Deno.test("watchRuns(): finds runs down to a reproduction's rows, reads logs as they grow, skips malformed lines", async () => {
  await tree();
  assert.deepEqual((await findRuns([root])).map((f) => f.slice(root.length + 1)), [
    "repro/rows/e/seed-0",
    "runs/a",
    "runs/b",
  ]);
  await using server = watchRuns([root], { port: 0, pollMs: 50 });
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  const runs = await (await fetch(`${server.url}api/runs`)).json();
  assert.deepEqual(runs.map((r: { name: string }) => r.name), ["repro/rows/e/seed-0", "runs/a", "runs/b"]);
  const b = await (await fetch(`${server.url}api/run/2`)).json();
  assert.deepEqual(b.series.loss, [[2, -0.1], [4, -0.2]]);
  assert.equal(b.skippedLines, 1); // the cut line; the unfinished last one waits for its end
  assert.deepEqual(b.checkpoints, ["ckpt-00000004"]);
  assert.deepEqual(b.ranks.map((k: { rank: number; step: number }) => [k.rank, k.step]), [[0, 4], [1, 2]]);
  // The unfinished line is completed and a new one appended: both appear.
  await Deno.writeTextFile(
    join(root, "runs/b/metrics.jsonl"),
    ' "epoch": 1.5, "loss": -0.3}\n' + line({ step: 8, epoch: 2, loss: -0.4 }),
    {
      append: true,
    },
  );
  const later = await (await fetch(`${server.url}api/run/2`)).json();
  assert.deepEqual(later.series.loss.map((p: number[]) => p[0]), [2, 4, 6, 8]);
  const a = (await (await fetch(`${server.url}api/runs`)).json())[1];
  assert.deepEqual([a.method, a.totalSteps, a.last.knn], ["unigrad", 100, 0.5]);
  // Read-only, and no path reaches the server: runs are indices.
  const status = async (path: string, init?: RequestInit) => {
    const r = await fetch(`${server.url}${path}`, init);
    await r.body?.cancel();
    return r.status;
  };
  assert.equal(await status("api/run/9"), 404);
  assert.equal(await status("api/run/..%2F..%2Fetc%2Fpasswd"), 404);
  assert.equal(await status("api/runs", { method: "POST" }), 405);
  const page = await (await fetch(server.url)).text();
  assert.match(page, /<title>unigrad watch<\/title>/);
  assert.doesNotMatch(page, /<script [^>]*src=|<link [^>]*href="http/); // nothing from the internet
});

Deno.test("watchRuns(): a log of 10^6 lines is served downsampled, and events announce changes", async () => {
  const big = join(root, "big");
  await Deno.mkdir(big);
  const lines: string[] = [];
  for (let i = 0; i < 1_000_000; i++) lines.push(`{"step":${i},"epoch":${i / 1000},"loss":${-i / 1e6}}`);
  await Deno.writeTextFile(join(big, "metrics.jsonl"), lines.join("\n") + "\n");
  await using server = watchRuns([big], { port: 0, pollMs: 50 });
  const started = performance.now();
  const run = await (await fetch(`${server.url}api/run/0`)).json();
  const seconds = (performance.now() - started) / 1000;
  assert.ok(run.series.loss.length <= MAX_POINTS, `${run.series.loss.length} points`);
  assert.deepEqual(run.series.loss.at(-1), [999_999, -0.999999]); // the last point exact
  assert.ok(seconds < 30, `${seconds.toFixed(1)} s for 10^6 lines`);
  console.log(`10^6 metrics lines: read and downsampled in ${seconds.toFixed(2)} s`);
  // Server-sent events: an appended line is announced.
  const events = await fetch(`${server.url}api/events`);
  const reader = events.body!.pipeThrough(new TextDecoderStream()).getReader();
  await reader.read(); // ": watching"
  await Deno.writeTextFile(join(big, "metrics.jsonl"), `{"step":1000000,"epoch":1000,"loss":-1}\n`, { append: true });
  let got = "";
  while (!got.includes("event: change")) got += (await reader.read()).value ?? "";
  assert.match(got, /data: \[0\]/);
  await reader.cancel();
});

Deno.test("seriesOf(): every numeric field as [step, value], non-finite values left out", () => {
  const s = seriesOf([{ step: 1, epoch: 0.5, loss: 2, knn: null }, { step: 2, epoch: 1, loss: NaN, knn: 0.3 }]);
  assert.deepEqual(s, { epoch: [[1, 0.5], [2, 1]], loss: [[1, 2]], knn: [[2, 0.3]] });
});
