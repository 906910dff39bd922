/**
 * The watch page in a real browser (headless Chromium, installed by `scripts/setup.ts --test`; without
 * it these tests say why and are ignored): against a run that is training, new points appear and the
 * decomposition chart has the method's series; over a smoke reproduction, the runs sit side by side.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { describeExit, runChild, startChild } from "./_child.ts";
import { watchRuns } from "../src/run/watch.ts";

const repo = new URL("..", import.meta.url).pathname;
const root = await Deno.makeTempDir({ prefix: "unigrad-watch-browser-" });
addEventListener("unload", () => Deno.removeSync(root, { recursive: true }));

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}
// The browser itself, not Debian's wrapper script (whose /dev/shm check fails in some environments).
const browser = ["/usr/lib/chromium/chromium", "/usr/bin/chromium", "/usr/bin/google-chrome"].find(exists) ?? null;
if (browser === null) {
  console.warn("watch_browser_test: ignored, no Chromium (scripts/setup.ts --test installs it as root)");
}

const HEADLESS = [
  ...["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars"],
  "--virtual-time-budget=5000", // the page's script runs (it polls every 2 s of this time) before the DOM is dumped
];

/** The page's DOM after its script ran. */
async function dom(url: string): Promise<string> {
  const r = await runChild(browser!, { args: [...HEADLESS, "--dump-dom", url], timeoutMs: 60_000 });
  assert.equal(r.code, 0, describeExit(r));
  return r.stdout;
}

/** Points drawn for a series of a panel (the largest over runs). */
function points(html: string, panel: string, series: string): number {
  const chart = new RegExp(`<svg[^>]*data-panel="${panel}"[^>]*>([\\s\\S]*?)</svg>`).exec(html)?.[1] ?? "";
  const counts = [...chart.matchAll(new RegExp(`data-series="${series}" data-points="(\\d+)"`, "g"))].map((m) => +m[1]);
  return Math.max(0, ...counts);
}

Deno.test({
  name: "watch page in Chromium: a training run's new points appear, the decomposition has the method's series",
  ignore: browser === null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const port = 20_000 + (Deno.pid % 20_000);
    const out = join(root, "live");
    const run = startChild(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "train.ts",
        ...["--limit-train", "4096", "--limit-test", "256", "--batch-size", "32", "--epochs", "50", "--width", "4"],
        ...["--proj-hidden", "32", "--proj-dim", "16", "--log-every", "2", "--probe-epochs", "1", "--threads", "1"],
        ...["--watch", String(port), "--out", out],
      ],
      cwd: repo,
      timeoutMs: 240_000,
      streamStdout: true,
    });
    let seen = "";
    const reader = run.stdout!.getReader();
    while (!/watch: (http:\S+)/.test(seen) || !seen.includes("step")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`train.ts ended before its page was up: ${describeExit(await run.result)}`);
      seen += value;
    }
    const url = /watch: (http:\S+)/.exec(seen)![1];
    try {
      const first = await dom(url);
      await new Promise((r) => setTimeout(r, 3000));
      const second = await dom(url);
      const [a, b] = [points(first, "loss", "loss"), points(second, "loss", "loss")];
      assert.ok(a > 0 && b > a, `loss points ${a} then ${b}: new points should appear`);
      assert.ok(points(second, "decomposition", "positive") > 0, "no positive-gradient series");
      assert.ok(points(second, "decomposition", "negative") > 0, "no negative-gradient series");
      assert.match(second, /unigrad/); // the run's method in the table
      // A screenshot (Chromium under a loaded CPU now and then exits 0 without one: a few tries).
      const shot = join(root, "live.png");
      let why = "";
      for (let attempt = 0; attempt < 3 && !exists(shot); attempt++) {
        const r = await runChild(browser!, {
          args: [...HEADLESS, `--screenshot=${shot}`, "--window-size=1280,1600", url],
          timeoutMs: 60_000,
        });
        why = describeExit(r);
      }
      assert.ok(exists(shot) && Deno.statSync(shot).size > 10_000, `no screenshot: ${why}`);
    } finally {
      await reader.cancel();
      try {
        run.child.kill("SIGINT");
      } catch { /* it finished first */ }
      await run.result;
    }
  },
});

Deno.test({
  name: "watch page in Chromium: a smoke reproduction's runs side by side, one kNN curve and one table row each",
  ignore: browser === null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const out = join(root, "repro");
    const r = await runChild(Deno.execPath(), {
      args: ["run", "-A", "scripts/repro.ts", "--budget", "smoke", "--out", out],
      cwd: repo,
      timeoutMs: 600_000,
      env: { UNIGRAD_NUM_THREADS: "1" },
    });
    assert.equal(r.code, 0, describeExit(r));
    await using server = watchRuns([out], { port: 0 });
    const runs = await (await fetch(`${server.url}api/runs`)).json();
    assert.ok(runs.length >= 10, `${runs.length} runs found`);
    const html = await dom(server.url);
    assert.equal((html.match(/<tr class="run[^"]*" data-id="\d+">/g) ?? []).length, runs.length);
    const knn = /<svg[^>]*data-panel="knn"[^>]*>([\s\S]*?)<\/svg>/.exec(html)?.[1] ?? "";
    const curves = new Set([...knn.matchAll(/data-run="(\d+)" data-series="knn"/g)].map((m) => m[1]));
    assert.equal(curves.size, Math.min(10, runs.length)); // the first ten are drawn at first
  },
});
