import assert from "node:assert/strict";
import { full } from "../../src/torch/mod.ts";
import { liveTensors, manualSeed, rand, scope, type Tensor, tensor } from "../../mod.ts";
import {
  adjustBrightness,
  adjustContrast,
  adjustHue,
  adjustSaturation,
  colorJitter,
  grayscale,
  normalizeImages,
  randomGrayscale,
  randomSolarize,
} from "../../src/data/color.ts";
import { maxDiff } from "./_helpers.ts";

/** Python's colorsys rgb→hsv→rgb with a hue shift, for one pixel. */
function hueShift([r, g, b]: number[], f: number): number[] {
  const v = Math.max(r, g, b);
  const mn = Math.min(r, g, b);
  if (v === mn) return [r, g, b];
  const s = (v - mn) / v;
  const rc = (v - r) / (v - mn), gc = (v - g) / (v - mn), bc = (v - b) / (v - mn);
  let h = r === v ? bc - gc : g === v ? 2 + rc - bc : 4 + gc - rc;
  h = (((h / 6 + f) % 1) + 1) % 1;
  const i = Math.floor(h * 6) % 6;
  const fr = h * 6 - Math.floor(h * 6);
  const p = v * (1 - s), q = v * (1 - s * fr), t = v * (1 - s * (1 - fr));
  return [[v, t, p], [q, v, p], [p, v, t], [p, q, v], [t, p, v], [v, p, q]][i];
}

function channelsEqual(x: Tensor): boolean {
  const [r, g, b] = x.chunk(3, 1);
  return scope(() => r.eq(g).all().item() === 1 && g.eq(b).all().item() === 1);
}

Deno.test("adjustBrightness/Contrast/Saturation() with factor 1 are the identity and factor 0 degenerates", () => {
  const before = liveTensors();
  manualSeed(0);
  scope(() => {
    const x = rand([4, 3, 6, 6]);
    const one = full([4], 1);
    const zero = full([4], 0);
    for (const op of [adjustBrightness, adjustContrast, adjustSaturation]) assert.ok(maxDiff(op(x, one), x) < 1e-6);
    assert.equal(adjustBrightness(x, zero).abs().max().item(), 0);
    const flat = adjustContrast(x, zero); // every pixel = the sample's mean gray
    assert.ok(maxDiff(flat, grayscale(x).mean([1, 2, 3], true).expand([4, 3, 6, 6])) < 1e-6);
    assert.ok(maxDiff(adjustSaturation(x, zero), grayscale(x).expand([4, 3, 6, 6])) < 1e-6);
  });
  assert.equal(liveTensors(), before);
});

Deno.test("adjustHue() matches colorsys per sample and is the identity at 0", () => {
  manualSeed(1);
  scope(() => {
    const x = rand([3, 3, 2, 2]);
    const f = tensor([0.1, -0.25, 0.45]);
    const y = adjustHue(x, f).toArray() as number[][][][];
    const xs = x.toArray() as number[][][][];
    const fs = [0.1, -0.25, 0.45];
    for (let n = 0; n < 3; n++) {
      for (let i = 0; i < 2; i++) {
        for (let j = 0; j < 2; j++) {
          const want = hueShift([0, 1, 2].map((c) => xs[n][c][i][j]), fs[n]);
          for (let c = 0; c < 3; c++) assert.ok(Math.abs(y[n][c][i][j] - want[c]) < 1e-5, `n${n} c${c}`);
        }
      }
    }
    assert.ok(maxDiff(adjustHue(x, full([3], 0)), x) < 1e-5);
  });
});

Deno.test("colorJitter() with zero magnitudes or p 0 is the identity, and stays in [0, 1]", () => {
  manualSeed(2);
  scope(() => {
    const x = rand([8, 3, 5, 5]);
    assert.ok(maxDiff(colorJitter(x, { brightness: 0, contrast: 0, saturation: 0, hue: 0 }), x) === 0);
    assert.ok(maxDiff(colorJitter(x, { p: 0 }), x) < 1e-5);
    const y = colorJitter(x, { brightness: 0.9, contrast: 0.9, saturation: 0.9, hue: 0.5, p: 1 });
    assert.ok(y.min().item() >= 0 && y.max().item() <= 1);
    const g = colorJitter(rand([8, 1, 5, 5]), { p: 1 }); // 1 channel: hue and saturation are skipped
    assert.deepEqual(g.shape, [8, 1, 5, 5]);
  });
});

Deno.test("colorJitter() draws factors independently per sample", () => {
  manualSeed(3);
  scope(() => {
    const x = rand([1, 3, 4, 4]).expand([16, 3, 4, 4]).contiguous();
    const y = colorJitter(x, { p: 1, groups: 4 });
    const first = y.narrow(0, 0, 1);
    let distinct = 0;
    for (let i = 1; i < 16; i++) if (maxDiff(y.narrow(0, i, 1), first) > 1e-3) distinct++;
    assert.equal(distinct, 15);
  });
});

Deno.test("grayscale() and randomGrayscale() give equal channels with luma weights", () => {
  manualSeed(4);
  scope(() => {
    const x = tensor([[[[1]], [[0]], [[0]]], [[[0]], [[1]], [[0]]]]); // pure red, pure green
    assert.deepEqual((grayscale(x).toArray() as number[][][][]).map((s) => +s[0][0][0].toFixed(4)), [0.2989, 0.587]);
    const y = randomGrayscale(rand([6, 3, 4, 4]), 1);
    assert.ok(channelsEqual(y));
    const z = rand([6, 3, 4, 4]);
    assert.equal(maxDiff(randomGrayscale(z, 0), z), 0);
  });
});

Deno.test("randomSolarize() inverts pixels at or above the threshold", () => {
  scope(() => {
    const x = tensor([0.2, 0.5, 0.9, 0.4]).view([1, 1, 2, 2]);
    const y = randomSolarize(x, 1).toArray() as number[][][][];
    assert.deepEqual(y[0][0].flat().map((v) => +v.toFixed(5)), [0.2, 0.5, 0.1, 0.4]);
    assert.equal(maxDiff(randomSolarize(x, 0), x), 0);
  });
});

Deno.test("normalizeImages() standardises per channel and checks its arguments", () => {
  scope(() => {
    const x = full([2, 3, 2, 2], 0.5);
    const y = normalizeImages(x, [0.5, 0.25, 0], [1, 0.5, 2]).toArray() as number[][][][];
    assert.deepEqual([y[0][0][0][0], y[0][1][0][0], y[1][2][1][1]], [0, 0.5, 0.25]);
    assert.throws(() => normalizeImages(x, [0.5], [1]), TypeError);
    assert.throws(() => normalizeImages(x, [0, 0, 0], [1, 0, 1]), RangeError);
  });
});
