import assert from "node:assert/strict";
import { manualSeed, scope } from "../../mod.ts";
import { barlowTwins } from "../../src/ssl/barlow_twins.ts";
import { gradientInputs, readStats } from "../../src/ssl/method.ts";
import { unigrad } from "../../src/ssl/unigrad.ts";
import { moco } from "../../src/ssl/moco.ts";
import { byol } from "../../src/ssl/byol.ts";
import { disposeState } from "../../src/ssl/state.ts";
import { randomFeatures } from "./_helpers.ts";

Deno.test("gradientInputs() picks u1, u2 or z1, z2 by the method's wrt", () => {
  manualSeed(100);
  scope(() => {
    const f = randomFeatures(2, 3);
    assert.deepEqual(gradientInputs(unigrad(), f), [f.u1, f.u2]);
    assert.deepEqual(gradientInputs(barlowTwins(), f), [f.z1, f.z2]);
    assert.throws(() => gradientInputs(barlowTwins(), { u1: f.u1, u2: f.u2, v1: f.v1, v2: f.v2 }), /z1, z2/);
  });
});

Deno.test("readStats() reads the decomposition: UniGrad's positive part has norm 1 and λ is the option", () => {
  manualSeed(101);
  const m = unigrad({ lambda: 8 });
  const s = m.initState(3, { dtype: "float64" });
  scope(() => {
    const stats = readStats(m.gradient(randomFeatures(4, 3), s).stats);
    assert.ok(Math.abs(stats.positive - 1) < 1e-12);
    assert.equal(stats.lambda, 8);
    assert.ok(stats.negative > 0 && Math.abs(stats.similarity) <= 1);
  });
  disposeState(s);
});

Deno.test("Method.gradient() on a disposed state says so instead of failing inside the formula", () => {
  manualSeed(102);
  for (const m of [unigrad(), moco({ queueSize: 8 }), byol({ form: "original" })]) {
    const s = m.initState(3, { dtype: "float64" });
    disposeState(s);
    scope(() => {
      assert.throws(
        () => m.gradient(randomFeatures(4, 3), s),
        { name: "TypeError", message: new RegExp(`Cannot compute ${m.name} gradient: the method state has no \\w+`) },
      );
    });
  }
});
