/** launchLocal: real Deno processes with torchrun-style variables; a failing rank stops the others. */
import assert from "node:assert/strict";
import { launchLocal } from "../../mod.ts";

Deno.test("launchLocal gives every rank its torchrun variables and returns 0 when all succeed", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const script = `const e = Deno.env.toObject();
      Deno.writeTextFileSync("${dir}/" + e.RANK, [e.RANK, e.WORLD_SIZE, e.LOCAL_RANK, e.MASTER_ADDR, e.MASTER_PORT].join(" "));`;
    const code = await launchLocal({ nproc: 2, args: ["eval", script], port: 12345 });
    assert.equal(code, 0);
    assert.equal(await Deno.readTextFile(`${dir}/0`), "0 2 0 127.0.0.1 12345");
    assert.equal(await Deno.readTextFile(`${dir}/1`), "1 2 1 127.0.0.1 12345");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("launchLocal: a failing rank stops the others and its exit code is returned", async () => {
  const lines: string[] = [];
  const script = `if (Deno.env.get("RANK") === "1") Deno.exit(3); await new Promise((r) => setTimeout(r, 60000));`;
  const t0 = performance.now();
  const code = await launchLocal({ nproc: 2, args: ["eval", script], log: (l) => lines.push(l) });
  assert.equal(code, 3);
  assert.ok(performance.now() - t0 < 20_000, "the sleeping rank was not stopped");
  assert.deepEqual(lines, ["launcher: rank 1 of 2 exited with code 3; stopping the other ranks"]);
});

Deno.test("launchLocal: a rank that aborts (as NCCL's watchdog does) is reported as SIGABRT, exit 134", async () => {
  const lines: string[] = [];
  const script =
    `if (Deno.env.get("RANK") === "0") Deno.kill(Deno.pid, "SIGABRT"); await new Promise((r) => setTimeout(r, 60000));`;
  const code = await launchLocal({ nproc: 2, args: ["eval", script], log: (l) => lines.push(l) });
  assert.equal(code, 134);
  assert.deepEqual(lines, ["launcher: rank 0 of 2 was killed by SIGABRT; stopping the other ranks"]);
});

Deno.test("launchLocal rejects a non-positive process count", async () => {
  await assert.rejects(() => launchLocal({ nproc: 0, args: ["eval", ""] }), RangeError);
});
