import assert from "node:assert/strict";
import { liveTensors, manualSeed, randn, scope, tensor } from "../../mod.ts";
import { BatchNorm1d, BatchNorm2d } from "../../src/nn/batchnorm.ts";
import { assertClose, golden } from "./_golden.ts";

const G = golden<Record<string, Record<string, number[] | string[]>>>("layers.json");

Deno.test("BatchNorm1d matches torch.nn.BatchNorm1d over two training steps and eval", () => {
  const g = G.batchnorm1d as Record<string, number[]>;
  const before = liveTensors();
  const bn = new BatchNorm1d(3);
  assert.deepEqual([...bn.stateDict().keys()], G.batchnorm1d.keys);
  scope(() => {
    const x1 = tensor(g.x1).reshape([5, 3]);
    assertClose(bn.forward(x1).data() as Float32Array, g.y1);
    bn.forward(tensor(g.x2).reshape([5, 3]));
    assert.equal(bn.num_batches_tracked.item(), 2);
    assertClose(bn.running_mean.data() as Float32Array, g.running_mean);
    assertClose(bn.running_var.data() as Float32Array, g.running_var);
    bn.eval();
    assertClose(bn.forward(x1).data() as Float32Array, g.y_eval);
    assert.equal(bn.num_batches_tracked.item(), 2);
  });
  bn.dispose();
  assert.equal(liveTensors(), before);
});

Deno.test("BatchNorm2d matches torch.nn.BatchNorm2d in training, NCHW and channels_last", () => {
  const g = G.batchnorm2d as Record<string, number[]>;
  const before = liveTensors();
  for (const format of ["contiguous", "channels_last"] as const) {
    const bn = new BatchNorm2d(2);
    scope(() => {
      const x = tensor(g.x).reshape([2, 2, 3, 3]).contiguous(format);
      assertClose(bn.forward(x).contiguous().data() as Float32Array, g.y);
      assertClose(bn.running_mean.data() as Float32Array, g.running_mean);
      assertClose(bn.running_var.data() as Float32Array, g.running_var);
    });
    bn.dispose();
  }
  assert.equal(liveTensors(), before);
});

Deno.test("BatchNorm updateRunningStats = false: the same training output, running statistics and counter untouched", () => {
  const before = liveTensors();
  manualSeed(0);
  const [a, b] = [new BatchNorm2d(3, { momentum: 0.3 }), new BatchNorm2d(3, { momentum: 0.3 })];
  b.updateRunningStats = false;
  scope(() => {
    const x = randn([4, 3, 5, 5]).mul(2).add(1);
    assert.deepEqual(b.forward(x).toArray(), a.forward(x).toArray());
    assert.notDeepEqual(a.running_mean.toArray(), [0, 0, 0]); // the update this layer skips did happen in a
    assert.deepEqual(b.running_mean.toArray(), [0, 0, 0]);
    assert.deepEqual(b.running_var.toArray(), [1, 1, 1]);
    assert.equal(b.num_batches_tracked.item(), 0);
    b.eval(); // eval still normalises with the running statistics
    assert.deepEqual(b.forward(x).toArray(), x.div(Math.sqrt(1 + 1e-5)).toArray());
  });
  a.dispose();
  b.dispose();
  assert.equal(liveTensors(), before);
});

Deno.test("BatchNorm zeroInit starts γ at 0", () => {
  const bn = new BatchNorm2d(4, { zeroInit: true });
  assert.deepEqual(bn.weight.toArray(), [0, 0, 0, 0]);
  assert.deepEqual(bn.bias.toArray(), [0, 0, 0, 0]);
  assert.equal(bn.num_batches_tracked.dtype, "int64");
  bn.dispose();
});

Deno.test("BatchNorm rejects wrong input ranks and channel counts with TypeError", () => {
  const before = liveTensors();
  const bn1 = new BatchNorm1d(3);
  const bn2 = new BatchNorm2d(3);
  scope(() => {
    assert.throws(() => bn1.forward(randn([2, 3, 4, 4])), TypeError);
    assert.throws(() => bn2.forward(randn([2, 3])), TypeError);
    assert.throws(() => bn2.forward(randn([2, 4, 2, 2])), /BatchNorm2d\(3\): input has shape \[2, 4, 2, 2\]/);
  });
  assert.throws(() => new BatchNorm1d(0), RangeError);
  assert.throws(() => new BatchNorm1d(3, { momentum: 2 }), RangeError);
  bn1.dispose();
  bn2.dispose();
  assert.equal(liveTensors(), before);
});
