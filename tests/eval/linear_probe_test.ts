import assert from "node:assert/strict";
import { liveTensors, manualSeed, rand, randn, scope, tensor } from "../../mod.ts";
import { randint } from "../../src/torch/mod.ts";
import { linearProbe } from "../../src/eval/linear_probe.ts";
import { fashionMnist, hasFashionMnist } from "./_fashion_mnist.ts";

/** Four quadrant classes in the first two of six dims, with a margin of 1.5 around the axes. */
function separable(n: number) {
  return scope(() => {
    const centres = tensor([[3, 3, 0, 0, 0, 0], [3, -3, 0, 0, 0, 0], [-3, 3, 0, 0, 0, 0], [-3, -3, 0, 0, 0, 0]]);
    const labels = randint(0, 4, [n]); // [n]
    const noise = rand([n, 6]).sub(0.5).mul(3); // [n, 6] in [-1.5, 1.5)
    return { features: centres.indexSelect(0, labels).add(noise).add(5), labels }; // offset: not standardised
  });
}

Deno.test("linearProbe() reaches 100 % on linearly separable data", () => {
  const before = liveTensors();
  manualSeed(1);
  scope(() => {
    const train = separable(400);
    const test = separable(100);
    const r = linearProbe(train, test, { epochs: 10, batchSize: 32 });
    assert.equal(r.trainAccuracy, 1, `train accuracy ${r.trainAccuracy}`);
    assert.equal(r.testAccuracy, 1, `test accuracy ${r.testAccuracy}`);
    assert.ok(r.loss < 0.1, `loss ${r.loss}`);
  });
  assert.equal(liveTensors(), before);
});

Deno.test("linearProbe() is deterministic per seed and leaves the global generator alone", () => {
  const before = liveTensors();
  scope(() => {
    manualSeed(3);
    const train = { features: randn([64, 5]), labels: randint(0, 3, [64]) };
    const test = { features: randn([16, 5]), labels: randint(0, 3, [16]) };
    manualSeed(7);
    const expected = randn([4]).toArray();
    manualSeed(7);
    const a = linearProbe(train, test, { epochs: 3, batchSize: 10, seed: 5 });
    assert.deepEqual(randn([4]).toArray(), expected); // the probe drew nothing from the global generator
    const b = linearProbe(train, test, { epochs: 3, batchSize: 10, seed: 5 });
    assert.deepEqual(a, b);
    const c = linearProbe(train, test, { epochs: 3, batchSize: 10, seed: 6 });
    assert.notEqual(a.loss, c.loss);
  });
  assert.equal(liveTensors(), before);
});

Deno.test("linearProbe() streamed in small chunks equals the one-pass result, with top-5", () => {
  const before = liveTensors();
  manualSeed(9);
  scope(() => {
    const centres = randn([16, 6]).mul(0.6); // [C, D]: overlapping classes
    const make = (n: number) => {
      const labels = randint(0, 16, [n]);
      return { features: centres.indexSelect(0, labels).add(randn([n, 6])).add(3), labels };
    };
    const train = make(200);
    const test = make(80);
    const o = { epochs: 4, batchSize: 16, numClasses: 16 };
    const whole = linearProbe(train, test, o);
    const streamed = linearProbe(train, test, { ...o, chunkSize: 7, device: "cpu" });
    assert.equal(streamed.trainAccuracy, whole.trainAccuracy);
    assert.equal(streamed.testAccuracy, whole.testAccuracy);
    assert.equal(streamed.testTop5, whole.testTop5);
    assert.ok(Math.abs(streamed.loss - whole.loss) < 1e-5, `${streamed.loss} vs ${whole.loss}`);
    assert.ok(whole.testAccuracy < whole.testTop5 && whole.testTop5 < 1, JSON.stringify(whole));
  });
  assert.equal(liveTensors(), before);
});

Deno.test("linearProbe() rejects bad inputs", () => {
  const before = liveTensors();
  scope(() => {
    const set = { features: randn([4, 3]), labels: tensor([0n, 1n, 0n, 1n]) };
    const other = { features: randn([4, 2]), labels: tensor([0n, 1n, 0n, 1n]) };
    assert.throws(() => linearProbe(set, other), /train features have width 3 but test features 2/);
    assert.throws(() => linearProbe(set, set, { epochs: 0 }), RangeError);
    assert.throws(() => linearProbe(set, set, { lr: -1 }), RangeError);
  });
  assert.equal(liveTensors(), before);
});

Deno.test({
  name: "linearProbe() on Fashion-MNIST pixels (5k train, 1k test) is near softmax regression",
  ignore: !hasFashionMnist(),
  fn() {
    const before = liveTensors();
    const t0 = performance.now();
    const r = scope(() => {
      const train = fashionMnist("train", 5000);
      const test = fashionMnist("t10k", 1000);
      return linearProbe(
        { features: train.images, labels: train.labels },
        { features: test.images, labels: test.labels },
        { epochs: 8, batchSize: 256 },
      );
    });
    const s = ((performance.now() - t0) / 1000).toFixed(1);
    console.log(
      `Fashion-MNIST pixel linear probe (5k/1k, 8 epochs): train ${r.trainAccuracy}, test ${r.testAccuracy} (${s} s)`,
    );
    // Softmax regression on the full set reaches 84.8 %.
    assert.ok(r.testAccuracy > 0.8 && r.testAccuracy < 0.88, `test accuracy ${r.testAccuracy}`);
    assert.equal(liveTensors(), before);
  },
});
