import assert from "node:assert/strict";
import { isGradEnabled, randint } from "../../src/torch/mod.ts";
import { liveTensors, manualSeed, Module, normalize, randn, scope, type Tensor, tensor, zeros } from "../../mod.ts";
import { extractFeatures, extractLabelledFeatures, knnAccuracy, knnScores } from "../../src/eval/knn.ts";
import { fashionMnist, hasFashionMnist } from "./_fashion_mnist.ts";

/** Three training rows around q = [1, 0]: one of class 0 at sim 1, two of class 1 at sim 0.6. */
function voteCase(temperature: number): number {
  return scope(() => {
    const train = {
      features: tensor([[2, 0], [0.6, 0.8], [1.2, -1.6]]), // norms differ: cosine ignores them
      labels: tensor([0n, 1n, 1n]),
    };
    const test = { features: tensor([[3, 0]]), labels: tensor([0n]) };
    return knnAccuracy(train, test, { k: 3, temperature });
  });
}

Deno.test("knnAccuracy() weights votes by exp(sim/τ), as computed by hand", () => {
  const before = liveTensors();
  // class 0: e^(1/τ); class 1: 2·e^(0.6/τ). τ = 0.5: 7.389 > 6.640 → class 0 (right).
  assert.equal(voteCase(0.5), 1);
  // τ = 0.7: 4.172 < 4.713 → class 1 (wrong). The switch is at τ = 0.4/ln 2 ≈ 0.577.
  assert.equal(voteCase(0.7), 0);
  assert.equal(voteCase(0.57), 1);
  assert.equal(voteCase(0.58), 0);
  assert.equal(liveTensors(), before);
});

Deno.test("knnAccuracy() is 100 % on well-separated clusters, whatever the chunk size", () => {
  const before = liveTensors();
  manualSeed(0);
  scope(() => {
    const centres = randn([4, 16]).mul(3); // [C, D]
    const make = (n: number) => {
      const labels = randint(0, 4, [n]); // [n]
      return { features: centres.indexSelect(0, labels).add(randn([n, 16]).mul(0.1)), labels };
    };
    const train = make(200);
    const test = make(50);
    assert.equal(knnAccuracy(train, test), 1); // k = 200 > rows of a class: weighting makes it work
    assert.equal(knnAccuracy(train, test, { k: 5, chunkSize: 7 }), 1);
    assert.equal(knnAccuracy(train, test, { k: 1, center: true, chunkSize: 1 }), 1);
  });
  assert.equal(liveTensors(), before);
});

/** Top-1 and top-5 of the kNN vote computed in one shot, without chunks: the reference. */
function knnReference(
  train: { features: Tensor; labels: Tensor },
  test: typeof train,
  k: number,
  t: number,
  c: number,
) {
  return scope(() => {
    const sim = normalize(test.features, 1).mm(normalize(train.features, 1).t()); // [M, N]
    const { values, indices } = sim.topk(k, 1);
    const voters = train.labels.indexSelect(0, indices.flatten()).view([-1, k]);
    const votes = zeros([test.features.size(0), c]).scatterAdd(1, voters, values.div(t).exp()); // [M, C]
    const right = votes.topk(5, 1).indices.eq(test.labels.view([-1, 1])).to("float32"); // [M, 5]
    const m = test.features.size(0);
    return { top1: right.narrow(1, 0, 1).sum().item() / m, top5: right.sum().item() / m };
  });
}

Deno.test("knnScores() streamed in bank and test chunks equals the one-shot top-1 and top-5", () => {
  const before = liveTensors();
  manualSeed(4);
  scope(() => {
    const centres = randn([12, 8]); // [C, D]: overlapping classes, so top-1 < top-5 < 1
    const make = (n: number) => {
      const labels = randint(0, 12, [n]);
      return { features: centres.indexSelect(0, labels).add(randn([n, 8]).mul(0.9)), labels };
    };
    const train = make(300);
    const test = make(120);
    const ref = knnReference(train, test, 20, 0.1, 12);
    assert.ok(ref.top1 < ref.top5 && ref.top5 < 1, JSON.stringify(ref));
    const whole = knnScores(train, test, { k: 20, numClasses: 12 });
    const streamed = knnScores(train, test, { k: 20, numClasses: 12, bankChunkSize: 17, chunkSize: 9 });
    const tiny = knnScores(train, test, { k: 20, numClasses: 12, bankChunkSize: 3, chunkSize: 1 }); // chunks smaller than k
    assert.deepEqual(whole, ref);
    assert.deepEqual(streamed, ref);
    assert.deepEqual(tiny, ref);
    assert.equal(knnAccuracy(train, test, { k: 20, bankChunkSize: 17 }), ref.top1);
  });
  assert.equal(liveTensors(), before);
});

Deno.test("extractLabelledFeatures() gathers a stream of batches on the host, as extractFeatures does in one go", async () => {
  const before = liveTensors();
  manualSeed(5);
  const images = scope(() => randint(0, 256, [10, 1, 2, 2]).to("uint8"));
  const labels = randint(0, 3, [10]);
  const net = (x: Tensor) => x.flatten(1).mul(2);
  async function* batches(size: number) {
    for (let s = 0; s < 10; s += size) {
      const n = Math.min(size, 10 - s);
      const b = { images: images.narrow(0, s, n), labels: labels.narrow(0, s, n) };
      yield { ...b, dispose: () => (b.images.dispose(), b.labels.dispose()) };
    }
  }
  const got = await extractLabelledFeatures(net, batches(4));
  const want = extractFeatures(net, images, 3);
  assert.deepEqual(got.features.toArray(), want.toArray());
  want.dispose();
  assert.deepEqual(got.labels.toArray(), labels.toArray());
  assert.equal(got.features.device, "cpu");
  got.features.dispose();
  got.labels.dispose();
  async function* empty() {}
  async function* unlabelled() {
    const x = images.narrow(0, 0, 2);
    yield { images: x, labels: null, dispose: () => x.dispose() };
  }
  await assert.rejects(() => extractLabelledFeatures(net, unlabelled()), /a batch has no labels/);
  await assert.rejects(() => extractLabelledFeatures(net, empty()), /no batches/);
  images.dispose();
  labels.dispose();
  assert.equal(liveTensors(), before);
});

Deno.test("knnAccuracy() rejects bad shapes, labels and options", () => {
  const before = liveTensors();
  scope(() => {
    const good = { features: randn([4, 3]), labels: tensor([0n, 1n, 0n, 1n]) };
    const wide = { features: randn([4, 5]), labels: tensor([0n, 1n, 0n, 1n]) };
    assert.throws(() => knnAccuracy(good, wide), /train features have width 3 but test features 5/);
    assert.throws(
      () => knnAccuracy(good, { features: randn([4, 3]), labels: tensor([0, 1, 0, 1]) }),
      /test labels must be int64, got float32/,
    );
    assert.throws(() => knnAccuracy({ features: randn([4]), labels: good.labels }, good), TypeError);
    assert.throws(() => knnAccuracy(good, good, { k: 0 }), RangeError);
    assert.throws(() => knnAccuracy(good, good, { temperature: 0 }), RangeError);
  });
  assert.equal(liveTensors(), before);
});

Deno.test("extractFeatures() batches, scales uint8, adds a channel dim and flattens", () => {
  const before = liveTensors();
  scope(() => {
    const images = tensor(Uint8Array.from({ length: 5 * 2 * 2 }, (_, i) => i * 10), { shape: [5, 2, 2] });
    const shapes: number[][] = [];
    const feats = extractFeatures(
      (x) => {
        shapes.push(x.shape);
        assert.equal(isGradEnabled(), false);
        return x.mul(255);
      },
      images,
      { batchSize: 2 },
    );
    assert.deepEqual(shapes, [[2, 1, 2, 2], [2, 1, 2, 2], [1, 1, 2, 2]]);
    assert.deepEqual(feats.shape, [5, 4]);
    assert.deepEqual(
      Array.from(feats.data() as Float32Array, Math.round),
      Array.from({ length: 20 }, (_, i) => i * 10),
    );
  });
  assert.equal(liveTensors(), before);
});

Deno.test("extractFeatures() runs a Module in eval mode and restores its mode", () => {
  const before = liveTensors();
  class Probe extends Module {
    seen: boolean[] = [];
    forward(x: Tensor): Tensor {
      this.seen.push(this.training);
      return x.flatten(1);
    }
  }
  const m = new Probe();
  scope(() => {
    const x = randn([3, 2]);
    const f = extractFeatures(m, x, 2);
    assert.deepEqual(f.toArray(), x.toArray());
  });
  assert.deepEqual(m.seen, [false, false]);
  assert.equal(m.training, true);
  m.dispose();
  assert.equal(liveTensors(), before);
});

Deno.test({
  name: "knnAccuracy() on Fashion-MNIST pixels (10k train, 2k test, k = 200, τ = 0.1) is plausible",
  ignore: !hasFashionMnist(),
  fn() {
    const before = liveTensors();
    const acc = scope(() => {
      const train = fashionMnist("train", 10000);
      const test = fashionMnist("t10k", 2000);
      return knnAccuracy(
        { features: train.images, labels: train.labels },
        { features: test.images, labels: test.labels },
        { center: true },
      );
    });
    console.log(`Fashion-MNIST pixel kNN (10k/2k, k=200, τ=0.1, centred): ${(100 * acc).toFixed(2)} %`);
    // 82.4 % with the full 60k training set (k = 200, cosine); fewer neighbours to draw from costs a little.
    assert.ok(acc > 0.77 && acc < 0.85, `accuracy ${acc}`);
    assert.equal(liveTensors(), before);
  },
});
