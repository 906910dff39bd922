/** initDistributed: no launcher → null; torchrun variables for a world of one → a joined Gloo group. */
import assert from "node:assert/strict";
import * as T from "../_all.ts";
import { freePort } from "./_spawn.ts";

Deno.test("initDistributed returns null without launcher variables", () => {
  assert.equal(T.initDistributed({ env: {} }), null);
});

Deno.test("initDistributed joins from torchrun variables with Gloo on the CPU", () => {
  const env = { RANK: "0", WORLD_SIZE: "1", MASTER_ADDR: "127.0.0.1", MASTER_PORT: String(freePort()) };
  const d = T.initDistributed({ env, timeoutMs: 5000 })!;
  try {
    assert.equal(d.group.backend, T.cuda.isAvailable() && T.c10dBackends().includes("nccl") ? "nccl" : "gloo");
    assert.equal(d.group.worldSize, 1);
    assert.equal(d.launch.source, "torchrun");
  } finally {
    d.group.dispose();
  }
});

Deno.test("initDistributed refuses a backend the shim lacks", () => {
  if (T.c10dBackends().includes("nccl")) return;
  const env = { RANK: "0", WORLD_SIZE: "1", MASTER_PORT: String(freePort()) };
  assert.throws(() => T.initDistributed({ env, backend: "nccl" }), /Cannot join the distributed job with nccl/);
});
