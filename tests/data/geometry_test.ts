import assert from "node:assert/strict";
import { affineGrid, gridSample, interpolate } from "../../src/torch/mod.ts";
import { liveTensors, manualSeed, rand, scope, stack, tensor } from "../../mod.ts";
import { randomResizedCrop, resizedCrop, sampleCrops } from "../../src/data/geometry.ts";
import { maxDiff } from "./_helpers.ts";

Deno.test("randomResizedCrop() with scale 1, ratio 1 and no flip is the identity", () => {
  const before = liveTensors();
  manualSeed(0);
  scope(() => {
    const x = rand([4, 3, 9, 9]);
    const y = randomResizedCrop(x, { size: 9, scale: [1, 1], ratio: [1, 1], flip: 0 });
    assert.ok(maxDiff(y, x) < 1e-6);
  });
  assert.equal(liveTensors(), before);
});

Deno.test("randomResizedCrop() with flip 1 flips every sample horizontally", () => {
  manualSeed(1);
  scope(() => {
    const x = rand([3, 1, 8, 8]);
    const y = randomResizedCrop(x, { size: 8, scale: [1, 1], ratio: [1, 1], flip: 1 });
    assert.ok(maxDiff(y, x.flip([3])) < 1e-6);
  });
});

Deno.test("resizedCrop() equals cropping then bilinear resizing", () => {
  scope(() => {
    const x = rand([2, 3, 12, 16]);
    const boxes = tensor([[2, 3, 8, 6], [0, 0, 16, 12]]);
    const flips = tensor([1, -1]);
    const y = resizedCrop(x, { boxes, flips }, [5, 7]);
    const ref0 = interpolate(x.narrow(0, 0, 1).narrow(2, 3, 6).narrow(3, 2, 8), [5, 7]);
    const ref1 = interpolate(x.narrow(0, 1, 1), [5, 7]).flip([3]);
    assert.ok(maxDiff(y.narrow(0, 0, 1), ref0) < 1e-5);
    assert.ok(maxDiff(y.narrow(0, 1, 1), ref1) < 1e-5);
  });
});

Deno.test("resizedCrop()'s separable grid samples what affineGrid's grid samples (any box, flip, output size)", () => {
  const before = liveTensors();
  manualSeed(3);
  scope(() => {
    const x = rand([6, 3, 11, 13]);
    const [H, W] = [11, 13];
    const boxes = tensor([[0, 0, 13, 11], [2.5, 1, 7, 9], [5, 3, 1, 1], [0, 4, 13, 2], [1, 1, 3, 10], [6, 2, 7, 9]]);
    const flips = tensor([1, -1, 1, -1, -1, 1]);
    for (const size of [[5, 7], [1, 1], [1, 9], [16, 16]] as [number, number][]) {
      const y = resizedCrop(x, { boxes, flips }, size);
      // The affine map as a PyTorch script writes it: theta = [[sx, 0, cx], [0, sy, cy]].
      const [x0, y0, bw, bh] = boxes.t().chunk(4, 0).map((c) => c.view([6]));
      const sx = bw.div(W).mul(flips), sy = bh.div(H), zero = sx.mul(0);
      const cx = x0.mul(2).add(bw).div(W).sub(1), cy = y0.mul(2).add(bh).div(H).sub(1);
      const theta = stack([sx, zero, cx, zero, sy, cy], 1).view([6, 2, 3]);
      const ref = gridSample(x, affineGrid(theta, [6, 3, ...size]), { padding: "border" });
      assert.deepEqual(y.shape, ref.shape);
      assert.ok(maxDiff(y, ref) < 1e-6, `output ${size}: ${maxDiff(y, ref)}`);
    }
  });
  assert.equal(liveTensors(), before);
});

Deno.test("sampleCrops() draws boxes inside the image within the scale and ratio ranges, independently per sample", () => {
  manualSeed(2);
  scope(() => {
    const like = rand([1]);
    const { boxes, flips } = sampleCrops(like, 256, [32, 40], { scale: [0.2, 0.6], ratio: [0.5, 2], flip: 0.5 });
    const rows = boxes.toArray() as number[][];
    const seen = new Set<string>();
    for (const [x0, y0, w, h] of rows) {
      assert.ok(x0 >= 0 && y0 >= 0 && x0 + w <= 40 && y0 + h <= 32, `box ${[x0, y0, w, h]}`);
      assert.ok([x0, y0, w, h].every(Number.isInteger));
      // Rounding to whole pixels widens the ranges slightly.
      assert.ok(w * h >= 0.2 * 1280 * 0.85 && w * h <= 0.6 * 1280 * 1.15, `area ${w * h}`);
      assert.ok(w / h >= 0.5 * 0.85 && w / h <= 2 * 1.15, `ratio ${w / h}`);
      seen.add(`${x0},${y0},${w},${h}`);
    }
    assert.ok(seen.size > 200, `only ${seen.size} distinct boxes`);
    const f = flips.toArray() as number[];
    const flipped = f.filter((v) => v === -1).length;
    assert.ok(f.every((v) => v === 1 || v === -1));
    assert.ok(flipped > 90 && flipped < 166, `${flipped} flips of 256`);
  });
});

Deno.test("sampleCrops() with per-sample sizes keeps each box inside its own image, fallback included", () => {
  manualSeed(3);
  scope(() => {
    const sizes = tensor(new Int32Array([8, 32, 32, 8, 20, 20, 32, 32]), { shape: [4, 2] }).repeat([64, 1]); // [256, 2]
    const { boxes } = sampleCrops(rand([1]), 256, sizes, { scale: [0.1, 1], ratio: [3 / 4, 4 / 3] });
    const hw = sizes.toArray() as number[][];
    const seen = new Set<string>();
    (boxes.toArray() as number[][]).forEach(([x0, y0, w, h], i) => {
      const [H, W] = hw[i];
      assert.ok(x0 >= 0 && y0 >= 0 && x0 + w <= W && y0 + h <= H, `box ${[x0, y0, w, h]} in ${H}×${W}`);
      seen.add(`${i % 4}:${w}x${h}`);
    });
    // 4:1 images rarely fit a crop of ratio ≤ 4/3 at large scales: the fallback is the centred 8·4/3 × 8 box.
    assert.ok(seen.has("0:11x8"), [...seen].filter((k) => k.startsWith("0:")).join(" "));
    const { boxes: same } = sampleCrops(
      rand([1]),
      3,
      tensor(new Int32Array([20, 30, 20, 30, 20, 30]), { shape: [3, 2] }),
    );
    assert.ok((same.toArray() as number[][]).every(([x0, y0, w, h]) => x0 + w <= 30 && y0 + h <= 20));
    assert.throws(() => sampleCrops(rand([1]), 3, tensor([[1, 2]])), /image sizes must be \[3, 2\]/);
  });
});

Deno.test("sampleCrops() is reproducible under manualSeed", () => {
  const draw = () => {
    manualSeed(7);
    return scope(() => sampleCrops(rand([1]), 16, [20, 20]).boxes.toArray());
  };
  assert.deepEqual(draw(), draw());
});

Deno.test("randomResizedCrop() rejects bad options and inputs", () => {
  scope(() => {
    const x = rand([2, 3, 8, 8]);
    assert.throws(() => randomResizedCrop(x, { size: 4, scale: [0.5, 0.2] }), RangeError);
    assert.throws(() => randomResizedCrop(x, { size: 4, flip: 2 }), RangeError);
    assert.throws(() => randomResizedCrop(x, { size: 0 }), RangeError);
    assert.throws(() => randomResizedCrop(rand([3, 8, 8]), { size: 4 }), TypeError);
    assert.throws(() => randomResizedCrop(x.to("uint8"), { size: 4 }), /float images/);
  });
});
