import assert from "node:assert/strict";
import { LOCK_FILE, RunLock } from "../../src/run/lock.ts";
import { type BoundedChild, startChild } from "../_child.ts";

const LOCK = new URL("../../src/run/lock.ts", import.meta.url).href;

/** A child process that takes the lock of `dir`, prints "locked", and waits to be killed. */
function holder(dir: string): BoundedChild {
  const code = `import { RunLock } from "${LOCK}";
    await RunLock.acquire("${dir}"); console.log("locked"); setInterval(() => {}, 1000);`;
  return startChild(Deno.execPath(), { args: ["eval", code], timeoutMs: 60_000, streamStdout: true });
}

async function firstLine(child: BoundedChild): Promise<string> {
  const reader = child.stdout!.getReader();
  const { value } = await reader.read();
  reader.releaseLock();
  return value ?? "";
}

Deno.test("RunLock.acquire() refuses a folder another live process holds, naming its pid", async () => {
  const dir = await Deno.makeTempDir();
  const child = holder(dir);
  try {
    assert.match(await firstLine(child), /locked/);
    await assert.rejects(
      () => RunLock.acquire(dir),
      new RegExp(`another run \\(pid ${child.child.pid}, since .*\\) holds`),
    );
  } finally {
    child.child.kill("SIGKILL");
    await child.result;
  }
  // Killed with SIGKILL, it left its lock behind: a stale lock, taken over.
  const stale = JSON.parse(await Deno.readTextFile(`${dir}/${LOCK_FILE}`));
  assert.equal(stale.pid, child.child.pid);
  const lock = await RunLock.acquire(dir);
  assert.equal(JSON.parse(await Deno.readTextFile(`${dir}/${LOCK_FILE}`)).pid, Deno.pid);
  lock.release();
  assert.deepEqual([...Deno.readDirSync(dir)], []);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("RunLock.acquire() tells a reused pid apart, and refuses a lock from another host", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/${LOCK_FILE}`;
  // Our own pid with another start time: the process that wrote it is gone.
  await Deno.writeTextFile(path, JSON.stringify({ pid: Deno.pid, host: Deno.hostname(), startTicks: "1", since: "x" }));
  (await RunLock.acquire(dir)).release();
  await Deno.writeTextFile(path, JSON.stringify({ pid: 1, host: "node-17", startTicks: null, since: "x" }));
  await assert.rejects(() => RunLock.acquire(dir), /pid 1 on host node-17.*remove the file if that run is gone/);
  await Deno.remove(dir, { recursive: true });
});
