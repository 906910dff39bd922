import assert from "node:assert/strict";
import { liveLists } from "../../src/torch/mod.ts";
import { liveTensors, manualSeed, noGrad, randn, scope } from "../../mod.ts";
import { BatchNorm1d } from "../../src/nn/batchnorm.ts";
import { Linear } from "../../src/nn/linear.ts";
import { Sequential } from "../../src/nn/module.ts";
import { emaMomentum } from "../../src/optim/schedule.ts";
import { targetBranch } from "../../src/ssl/target.ts";
import { assertClose } from "./_helpers.ts";

const net = () => new Sequential([new Linear(3, 2), new BatchNorm1d(2)]);

Deno.test("targetBranch().momentum follows the cosine schedule 0.996 → 1", () => {
  const online = net();
  const target = targetBranch("momentum", online, { copy: net(), totalSteps: 10 });
  assert.equal(target.momentum(0), 0.996);
  assert.ok(Math.abs(target.momentum(5) - 0.998) < 1e-15);
  assert.equal(target.momentum(10), 1);
  assert.equal(target.momentum(1), emaMomentum(1, 10));
  target.dispose();
  online.dispose();
});

Deno.test("targetBranch('momentum').update is the EMA of the weights and copies BN statistics", () => {
  manualSeed(70);
  const before = [liveTensors(), liveLists()];
  const online = net();
  const target = targetBranch("momentum", online, { copy: net(), totalSteps: 4 });
  const snapshot = () => noGrad(() => target.module.parameters().map((p) => p.clone()));
  scope(() => {
    assertClose(target.module.parameters()[0], online.parameters()[0], 0, "starts as a copy");
    assert.equal(target.module.parameters()[0].requiresGrad, false);
    noGrad(() => online.parameters().forEach((p) => p.add_(1)));
    online.forward(randn([5, 3])); // moves the online BN statistics
    const old = snapshot();
    const m = target.update(1);
    assert.equal(m, emaMomentum(1, 4));
    target.module.parameters().forEach((p, i) => {
      const expected = old[i].mul(m).add(online.parameters()[i].mul(1 - m));
      assertClose(p, expected, 1e-6, `parameter ${i}`);
    });
    target.module.buffers().forEach((b, i) =>
      assertClose(b.to("float64"), online.buffers()[i].to("float64"), 0, `buffer ${i}`)
    );
    const y = target.forward(randn([4, 3]));
    assert.equal(y.requiresGrad, false);
    // Its forwards leave its BN statistics alone (the next update overwrites them anyway).
    target.module.buffers().forEach((b, i) =>
      assertClose(b.to("float64"), online.buffers()[i].to("float64"), 0, `buffer ${i} after a forward`)
    );
  });
  target.dispose();
  online.dispose();
  assert.deepEqual([liveTensors(), liveLists()], before);
});

Deno.test("targetBranch('stop-grad') runs the online module under no-grad and never updates", () => {
  manualSeed(71);
  const online = net();
  const target = targetBranch("stop-grad", online);
  assert.equal(target.module, online);
  scope(() => {
    const y = target.forward(randn([4, 3]));
    assert.equal(y.requiresGrad, false);
  });
  assert.equal(target.update(3), 0);
  target.dispose();
  online.dispose();
});

Deno.test("targetBranch() rejects a missing or mismatched copy, an unknown kind and bad schedules", () => {
  const online = net();
  assert.throws(() => targetBranch("momentum-positive", online, { totalSteps: 5 }), /without options.copy/);
  assert.throws(() => targetBranch("momentum", online, { copy: online }), /without options.totalSteps/);
  const other = new Sequential([new Linear(3, 3)]);
  assert.throws(() => targetBranch("momentum", online, { copy: other, totalSteps: 5 }), /differ/);
  assert.throws(() => targetBranch("ema" as "momentum", online), /Unknown target kind "ema"/);
  assert.throws(() => targetBranch("stop-grad", online, { totalSteps: 0 }), RangeError);
  other.dispose();
  online.dispose();
});
