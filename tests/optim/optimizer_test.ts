import assert from "node:assert/strict";
import { full } from "../../src/torch/mod.ts";
import { liveTensors, SGD, type Tensor, zeros } from "../../mod.ts";

Deno.test("Optimizer.loadStateDict() refuses a step that is not a count and mismatched dtypes", () => {
  const before = liveTensors();
  {
    using w = zeros([2], { requiresGrad: true });
    const opt = new SGD([["w", w]], { lr: 0.1, momentum: 0.9 });
    const good = opt.stateDict();
    const attempt = (step: Tensor, buffer = good.get("momentum_buffer.w")!) =>
      opt.loadStateDict(new Map([["step", step], ["momentum_buffer.w", buffer]]));
    for (const bad of [2.5, -1, 1e300, NaN]) {
      using step = full([], bad, { dtype: "float64" });
      assert.throws(() => attempt(step), /"step" is .*, not a non-negative integer/);
    }
    using intStep = full([], 3, { dtype: "int64" });
    assert.throws(() => attempt(intStep), /"step" has dtype int64 but expected float64/);
    using step = full([], 3, { dtype: "float64" });
    using intBuffer = zeros([2], { dtype: "int32" });
    assert.throws(() => attempt(step, intBuffer), /"momentum_buffer.w" has dtype int32/);
    attempt(step);
    assert.equal(opt.steps, 3);
    opt.dispose();
  }
  assert.equal(liveTensors(), before);
});
