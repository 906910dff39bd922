import assert from "node:assert/strict";
import { StopFlag } from "../../src/run/signals.ts";
import { type BoundedChild, describeExit, startChild } from "../_child.ts";

const STOP = new URL("../../src/run/signals.ts", import.meta.url).href;

/**
 * A child that polls a signal stop every 10 ms; it exits with the request's code when `obey`, else it
 * enters a synchronous computation of a minute (no JavaScript listener could run until its end).
 */
function child(obey: boolean): BoundedChild {
  const code = `import { stopOnSignals } from "${STOP}";
    const stop = stopOnSignals((s) => console.log("first " + s));
    console.log("ready");
    const t = setInterval(() => {
      if (!stop.requested) return;
      if (${obey}) { console.log("stopping " + stop.reason); Deno.exit(stop.exitCode); }
      clearInterval(t);
      const end = Date.now() + 60_000;
      while (Date.now() < end); // a long evaluation that does not poll
    }, 10);`;
  return startChild(Deno.execPath(), { args: ["eval", code], timeoutMs: 60_000, streamStdout: true });
}

async function waitFor(lines: ReadableStreamDefaultReader<string>, text: string): Promise<string> {
  let seen = "";
  while (!seen.includes(text)) {
    const { value, done } = await lines.read();
    if (done) break;
    seen += value;
  }
  return seen;
}

Deno.test("stopOnSignals(): the first SIGTERM or SIGINT is a request the loop sees; it exits 143 or 130", async () => {
  for (const [signal, exit] of [["SIGTERM", 143], ["SIGINT", 130]] as const) {
    const p = child(true);
    const out = p.stdout!.getReader();
    await waitFor(out, "ready");
    p.child.kill(signal);
    assert.match(await waitFor(out, `stopping ${signal}`), new RegExp(`first ${signal}`));
    await out.cancel();
    const r = await p.result;
    assert.equal(r.code, exit, describeExit(r));
  }
});

Deno.test("stopOnSignals(): a second signal ends the process at once, even inside a long synchronous computation", async () => {
  for (const [signal, exit] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
    const p = child(false);
    const out = p.stdout!.getReader();
    await waitFor(out, "ready");
    p.child.kill(signal);
    await waitFor(out, `first ${signal}`);
    await new Promise((r) => setTimeout(r, 200)); // inside the computation now
    const sent = performance.now();
    p.child.kill(signal);
    await out.cancel();
    const status = await p.result;
    assert.equal(status.code, exit, describeExit(status));
    assert.ok(performance.now() - sent < 5_000, `ended ${performance.now() - sent} ms after the second signal`);
  }
});

Deno.test("StopFlag keeps the first reason and maps it to an exit code", () => {
  const flag = new StopFlag();
  assert.deepEqual([flag.requested, flag.reason, flag.exitCode], [false, null, 0]);
  flag.request("SIGTERM");
  flag.request("SIGINT");
  assert.deepEqual([flag.requested, flag.reason, flag.exitCode], [true, "SIGTERM", 143]);
  const other = new StopFlag();
  other.request("time budget");
  assert.equal(other.exitCode, 1);
});
