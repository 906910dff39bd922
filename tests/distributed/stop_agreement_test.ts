/** agreeToStop over two real Deno ranks: one rank's wish stops both after the same step. */
import assert from "node:assert/strict";
import { runRanks } from "./_spawn.ts";

Deno.test("agreeToStop: rank 1's stop at step 3 stops both ranks at step 3", async () => {
  const results = await runRanks("stop");
  assert.deepEqual(results.map((r) => r.stop), [{ stoppedAt: 3 }, { stoppedAt: 3 }]);
});
