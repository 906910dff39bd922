import assert from "node:assert/strict";
import { eye } from "../../src/torch/mod.ts";
import { liveTensors, manualSeed, randn, scope, tensor } from "../../mod.ts";
import { alignment, effectiveRank, featureEffectiveRank, featureStd, uniformity } from "../../src/eval/metrics.ts";

function close(actual: number, expected: number, tol = 1e-9): void {
  assert.ok(Math.abs(actual - expected) <= tol, `expected ${expected}, got ${actual}`);
}

Deno.test("alignment() is the mean squared distance of the normalised views", () => {
  const before = liveTensors();
  scope(() => {
    const a = tensor([[1, 0], [0, 3], [2, 2]]);
    close(alignment(a, a.mul(5)), 0); // scale does not matter
    close(alignment(a, a.neg()), 4); // antipodal
    // row 0: e1 vs e2 → 2; rows 1, 2 identical → 0; mean 2/3
    close(alignment(a, tensor([[0, 1], [0, 1], [1, 1]])), 2 / 3, 1e-7);
    close(alignment(a, tensor([[0, 1], [0, 1], [1, 1]]), 1), Math.SQRT2 / 3, 1e-7);
    assert.throws(() => alignment(a, tensor([[1, 0]])), /z1 has shape \[3,2\] but z2 has shape \[1,2\]/);
  });
  assert.equal(liveTensors(), before);
});

Deno.test("uniformity() is log mean exp(−2‖ui − uj‖²) over pairs", () => {
  const before = liveTensors();
  scope(() => {
    close(uniformity(tensor([[1, 0], [-1, 0]])), -8); // one pair, distance² 4
    close(uniformity(eye(3)), -4, 1e-7); // three pairs, distance² 2
    close(uniformity(tensor([[1, 1], [2, 2], [3, 3]])), 0); // collapsed
    // pairs at distance² 2, 2 and 4: log((2e^-4 + e^-8)/3)
    close(uniformity(tensor([[1, 0], [0, 1], [-1, 0]])), Math.log((2 * Math.exp(-4) + Math.exp(-8)) / 3), 1e-7);
    close(uniformity(tensor([[1, 0], [-1, 0]]), 1), -4);
    assert.throws(() => uniformity(tensor([[1, 0]])), RangeError);
  });
  assert.equal(liveTensors(), before);
});

Deno.test("featureStd() is 0 for collapsed features and 1/2 for two orthogonal rows", () => {
  const before = liveTensors();
  scope(() => {
    assert.deepEqual(featureStd(tensor([[1, 2, 2], [2, 4, 4], [0.5, 1, 1]])), { mean: 0, min: 0 });
    const s = featureStd(tensor([[1, 0], [0, 7], [2, 0], [0, 1]]));
    close(s.mean, 0.5);
    close(s.min, 0.5);
    manualSeed(0);
    const healthy = featureStd(randn([4096, 64])); // ≈ 1/√D = 0.125
    assert.ok(Math.abs(healthy.mean - 0.125) < 0.005 && healthy.min > 0.11, JSON.stringify(healthy));
  });
  assert.equal(liveTensors(), before);
});

Deno.test("effectiveRank() is d for the identity, 1 for rank one, exp(entropy) in between", () => {
  const before = liveTensors();
  scope(() => {
    close(effectiveRank(eye(7)), 7, 1e-9);
    close(effectiveRank(tensor([[1, 0, 0], [0, 0, 0], [0, 0, 0]])), 1);
    close(effectiveRank(tensor([[2, 0, 0, 0], [0, 2, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]])), 2);
    const h = -(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25));
    close(effectiveRank(tensor([[3, 0], [0, 1]])), Math.exp(h));
    // rotation does not matter: Q diag(3, 1) Qᵀ with a 45° rotation
    close(effectiveRank(tensor([[2, 1], [1, 2]])), Math.exp(h), 1e-7);
    assert.equal(effectiveRank(tensor([[0, 0], [0, 0]])), 0);
    assert.throws(() => effectiveRank(tensor([[1, 2, 3]])), TypeError);
  });
  assert.equal(liveTensors(), before);
});

Deno.test("featureEffectiveRank() is 1 for collapsed features and D for an orthonormal basis", () => {
  const before = liveTensors();
  scope(() => {
    close(featureEffectiveRank(tensor([[1, 2, 2], [2, 4, 4], [-3, -6, -6]])), 1, 1e-7);
    close(featureEffectiveRank(eye(5).mul(3)), 5, 1e-7);
  });
  assert.equal(liveTensors(), before);
});
