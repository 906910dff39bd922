import assert from "node:assert/strict";
import { liveTensors, manualSeed, rand, scope, type Tensor } from "../../mod.ts";
import { augment, Augmentation, multiCrop, parseMultiCrop } from "../../src/data/pipeline.ts";
import { augmentation, AUGMENTATIONS } from "../../src/data/augmentations.ts";
import { maxDiff } from "./_helpers.ts";

const images = () => rand([6, 3, 40, 40]).mul(255).to("uint8");

Deno.test("augmentation() builds every named augmentation with outputs of the right shape", () => {
  const before = liveTensors();
  manualSeed(0);
  scope(() => {
    const rgb = images();
    for (const name of ["mocov2", "byol"] as const) {
      const views = augmentation(name, { size: 24 }).apply(rgb);
      assert.deepEqual(views.map((v) => v.shape), [[6, 3, 24, 24], [6, 3, 24, 24]], name);
      assert.ok(views.every((v) => v.dtype === "float32"));
    }
    const gray = augmentation("fashion-mnist").apply(rand([6, 1, 28, 28]));
    assert.deepEqual(gray.map((v) => v.shape), [[6, 1, 28, 28], [6, 1, 28, 28]]);
    assert.deepEqual(Object.keys(AUGMENTATIONS), ["mocov2", "byol", "fashion-mnist"]);
  });
  assert.equal(liveTensors(), before);
});

Deno.test("augmentation() rejects an unknown name, listing the known ones", () => {
  assert.throws(
    () => augmentation("simclrr" as "byol"),
    /Unknown augmentation "simclrr": expected one of mocov2, byol, fashion-mnist/,
  );
});

Deno.test("Augmentation.apply() is reproducible under manualSeed and differs between views and seeds", () => {
  const run = (seed: number) => {
    manualSeed(seed);
    return scope(() => {
      const x = rand([4, 3, 32, 32]);
      return augmentation("mocov2", { size: 16 }).apply(x).map((v: Tensor) => v.toArray());
    });
  };
  const a = run(3), b = run(3), c = run(4);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.notDeepEqual(a[0], a[1]);
});

Deno.test("augment() without normalisation keeps values in [0, 1]", () => {
  manualSeed(5);
  scope(() => {
    const v = augment(images(), { size: 20, normalize: null, solarize: 0.5, blur: { p: 1 } });
    assert.ok(v.min().item() >= 0 && v.max().item() <= 1 + 1e-6);
    const id = augment(images(), {
      size: 40,
      scale: [1, 1],
      ratio: [1, 1],
      flip: 0,
      jitter: null,
      grayscale: 0,
      blur: null,
      normalize: null,
    });
    assert.equal(id.shape[3], 40);
  });
});

Deno.test("augment() with every op off returns the input as floats", () => {
  scope(() => {
    const x = images();
    const y = augment(x, {
      size: 40,
      scale: [1, 1],
      ratio: [1, 1],
      flip: 0,
      jitter: null,
      grayscale: 0,
      blur: null,
      normalize: null,
    });
    assert.ok(maxDiff(y, x.to("float32").div(255)) < 1e-5); // grid rounding
  });
});

Deno.test("multiCrop() makes global then local views", () => {
  manualSeed(6);
  scope(() => {
    const r = multiCrop({ blur: null }, {
      global: { count: 2, size: 24 },
      local: { count: 6, size: 12 },
    });
    assert.equal(r.length, 8);
    const views = r.apply(images());
    assert.deepEqual(views.map((v) => v.shape[2]), [24, 24, 12, 12, 12, 12, 12, 12]);
    assert.ok(maxDiff(views[2], views[3]) > 0.01);
  });
});

Deno.test("Augmentation rejects an empty view list", () => {
  assert.throws(() => new Augmentation([]), RangeError);
});

Deno.test("parseMultiCrop() reads global and local groups with optional scales, and names a bad group", () => {
  assert.deepEqual(parseMultiCrop("2x224,6x96"), {
    global: { count: 2, size: 224, scale: [0.14, 1] },
    local: { count: 6, size: 96, scale: [0.05, 0.14] },
  });
  assert.deepEqual(parseMultiCrop("2x32:0.2-1").local, { count: 0, size: 32, scale: [0.05, 0.14] });
  assert.throws(() => parseMultiCrop("2x224,6y96"), /Invalid multi-crop group "6y96" in "2x224,6y96"/);
  assert.throws(() => parseMultiCrop("2x224,6x96:0.5-0.1"), /0 < LO <= HI <= 1/);
  assert.throws(() => parseMultiCrop("3x224,6x96"), /there must be 2 global views, got 3/);
  assert.throws(() => parseMultiCrop("2x224,6x96,1x32"), /Invalid multi-crop "2x224,6x96,1x32"/);
  manualSeed(0);
  scope(() => {
    const views = multiCrop({ jitter: null, blur: null }, parseMultiCrop("2x16,3x8")).apply(rand([2, 3, 20, 20]));
    assert.deepEqual(views.map((v) => v.shape[2]), [16, 16, 8, 8, 8]);
  });
});
