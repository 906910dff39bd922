import assert from "node:assert/strict";
import { liveTensors, scope, tensor } from "../../mod.ts";

Deno.test("tensor() round-trips nested arrays", () => {
  const before = liveTensors();
  scope(() => {
    const t = tensor([[1, 2], [3, 4]]);
    assert.deepEqual(t.toArray(), [[1, 2], [3, 4]]);
  });
  assert.equal(liveTensors(), before);
});
