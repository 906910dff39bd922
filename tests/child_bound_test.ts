import assert from "node:assert/strict";
import { describeExit, runChild, startChild, waitFor } from "./_child.ts";

const tests = new URL(".", import.meta.url).pathname;

Deno.test("every child process a test starts goes through tests/_child.ts, which bounds its wait", async () => {
  const offenders: string[] = [];
  for await (const path of walk(tests)) {
    if (path.endsWith("/_child.ts") || path.endsWith("/child_bound_test.ts")) continue;
    const text = await Deno.readTextFile(path);
    if (/new Deno\.Command\b|Deno\.run\(/.test(text)) offenders.push(path.slice(tests.length));
  }
  assert.deepEqual(offenders, [], "start children with startChild()/runChild() from tests/_child.ts");
});

Deno.test("a child past its bound is killed, and the failure names its exit and last stderr lines", async () => {
  const t0 = Date.now();
  const r = await runChild("bash", {
    args: ["-c", "echo working >&2; echo 'last words' >&2; sleep 30"],
    timeoutMs: 300,
  });
  assert.ok(Date.now() - t0 < 5_000, `took ${Date.now() - t0} ms`);
  assert.equal(r.timedOut, true);
  assert.equal(r.signal, "SIGTERM");
  assert.match(describeExit(r), /killed at its time bound \(exit 143\); last stderr lines:\nworking\nlast words$/);
});

Deno.test("a child that ignores SIGTERM is killed with SIGKILL 2 s later", async () => {
  const r = await runChild("bash", { args: ["-c", "trap '' TERM; sleep 30 & wait; sleep 30"], timeoutMs: 200 });
  assert.equal(r.timedOut, true);
  assert.equal(r.signal, "SIGKILL");
});

Deno.test("an aborting child is reported with its signal, and waitFor stops waiting when it ends", async () => {
  const child = startChild("bash", {
    args: ["-c", "echo 'double free or corruption (!prev)' >&2; kill -ABRT $$"],
    timeoutMs: 10_000,
  });
  await assert.rejects(
    () => waitFor(() => false, 10_000, "waiting for a checkpoint", child.result),
    /waiting for a checkpoint: the child ended first, ended by SIGABRT \(exit 134\); last stderr lines:\ndouble free/,
  );
});

async function* walk(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    const path = `${dir}${dir.endsWith("/") ? "" : "/"}${e.name}`;
    if (e.isDirectory) yield* walk(path);
    else if (e.name.endsWith(".ts")) yield path;
  }
}
