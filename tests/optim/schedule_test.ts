import assert from "node:assert/strict";
import { emaMomentum, warmupCosine } from "../../src/optim/schedule.ts";

Deno.test("warmupCosine hits its endpoints and is monotone in each phase", () => {
  const lr = warmupCosine({ baseLr: 0.2, warmupSteps: 50, totalSteps: 1000 });
  assert.equal(lr(0), 0.2e-3);
  assert.equal(lr(50), 0.2);
  assert.ok(Math.abs(lr(1000) - 0.2e-3) < 1e-15);
  assert.equal(lr(5000), 0.2e-3);
  for (let k = 1; k <= 50; k++) assert.ok(lr(k) > lr(k - 1));
  for (let k = 51; k <= 1000; k++) assert.ok(lr(k) < lr(k - 1));
  const mid = (50 + 1000) / 2;
  assert.ok(Math.abs(lr(mid) - (0.2 + 0.2e-3) / 2) < 1e-12);
});

Deno.test("warmupCosine without warm-up starts at baseLr; with warmupSteps = totalSteps it ends at baseLr", () => {
  assert.equal(warmupCosine({ baseLr: 1, totalSteps: 10, finalLr: 0 })(0), 1);
  assert.equal(warmupCosine({ baseLr: 1, totalSteps: 10, finalLr: 0 })(10), 0);
  const flat = warmupCosine({ baseLr: 1, warmupSteps: 10, totalSteps: 10, startLr: 0, finalLr: 0 });
  assert.equal(flat(5), 0.5);
  assert.equal(flat(10), 0);
});

Deno.test("warmupCosine rejects bad options with RangeError", () => {
  assert.throws(() => warmupCosine({ baseLr: 1, totalSteps: 0 }), RangeError);
  assert.throws(() => warmupCosine({ baseLr: 1, totalSteps: 10, warmupSteps: 11 }), RangeError);
  assert.throws(() => warmupCosine({ baseLr: -1, totalSteps: 10 }), RangeError);
});

Deno.test("emaMomentum follows 1 − (1 − base)(cos(πk/K) + 1)/2 from base to 1", () => {
  assert.equal(emaMomentum(0, 1000), 0.996);
  assert.equal(emaMomentum(1000, 1000), 1);
  assert.equal(emaMomentum(2000, 1000), 1);
  assert.ok(Math.abs(emaMomentum(250, 1000, 0.99) - (1 - 0.01 * (Math.cos(Math.PI / 4) + 1) / 2)) < 1e-15);
  for (let k = 1; k <= 100; k++) assert.ok(emaMomentum(k, 100) >= emaMomentum(k - 1, 100));
  assert.throws(() => emaMomentum(0, 0), RangeError);
  assert.throws(() => emaMomentum(-1, 10), RangeError);
  assert.throws(() => emaMomentum(0, 10, 1.5), RangeError);
});
