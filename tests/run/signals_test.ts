import assert from "node:assert/strict";
import { StopFlag } from "../../src/run/signals.ts";
import { type BoundedChild, describeExit, startChild } from "../_child.ts";

const STOP = new URL("../../src/run/signals.ts", import.meta.url).href;

/** A child that polls a signal stop every 10 ms; it exits with the request's code when `obey`, else keeps going. */
function child(obey: boolean): BoundedChild {
  const code = `import { stopOnSignals } from "${STOP}";
    const stop = stopOnSignals((s) => console.log("first " + s));
    console.log("ready");
    const t = setInterval(() => { if (${obey} && stop.requested) { console.log("stopping " + stop.reason); Deno.exit(stop.exitCode); } }, 10);`;
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

Deno.test("stopOnSignals(): a second signal ends the process at once", async () => {
  const p = child(false);
  const out = p.stdout!.getReader();
  await waitFor(out, "ready");
  p.child.kill("SIGINT");
  await waitFor(out, "first SIGINT");
  p.child.kill("SIGINT");
  await out.cancel();
  const status = await p.result;
  assert.ok(!status.timedOut && (status.code === 130 || status.signal === "SIGINT"), describeExit(status));
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
