import assert from "node:assert/strict";
import { full } from "../../src/torch/mod.ts";
import { liveTensors, manualSeed, rand, scope, zeros } from "../../mod.ts";
import { gaussianBlur } from "../../src/data/blur.ts";
import { maxDiff } from "./_helpers.ts";

/** Separable Gaussian blur of one H×W plane with reflected borders, in plain JavaScript. */
function blurPlane(p: number[][], sigma: number, r: number): number[][] {
  const k = Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const sum = k.reduce((a, b) => a + b, 0);
  const w = k.map((v) => v / sum);
  const reflect = (i: number, n: number) => (n - 1) - Math.abs((n - 1) - Math.abs(i));
  const H = p.length, W = p[0].length;
  const v = p.map((_, i) => p[0].map((_, j) => w.reduce((a, wt, t) => a + wt * p[reflect(i + t - r, H)][j], 0)));
  return v.map((row) => row.map((_, j) => w.reduce((a, wt, t) => a + wt * row[reflect(j + t - r, W)], 0)));
}

Deno.test("gaussianBlur() matches a plain separable blur with reflected borders", () => {
  const before = liveTensors();
  manualSeed(0);
  scope(() => {
    const x = rand([2, 3, 7, 9]);
    manualSeed(5);
    const y = gaussianBlur(x, { p: 1, sigma: [1.3, 1.3], kernelSize: 5 }).toArray() as number[][][][];
    const planes = x.toArray() as number[][][][];
    for (let n = 0; n < 2; n++) {
      for (let c = 0; c < 3; c++) {
        const want = blurPlane(planes[n][c], 1.3, 2);
        for (let i = 0; i < 7; i++) {
          for (let j = 0; j < 9; j++) assert.ok(Math.abs(y[n][c][i][j] - want[i][j]) < 1e-5, `${n} ${c} ${i} ${j}`);
        }
      }
    }
  });
  assert.equal(liveTensors(), before);
});

Deno.test("gaussianBlur() keeps constant images, keeps unblurred samples, and stays in range", () => {
  manualSeed(1);
  scope(() => {
    const c = full([3, 3, 10, 10], 0.7);
    assert.ok(maxDiff(gaussianBlur(c, { p: 1 }), c) < 1e-6);
    const x = rand([5, 3, 12, 12]);
    assert.ok(maxDiff(gaussianBlur(x, { p: 0 }), x) === 0);
    const y = gaussianBlur(x, { p: 1, sigma: [0.5, 3], kernelSize: 7 });
    assert.ok(y.min().item() >= 0 && y.max().item() <= 1 + 1e-6);
  });
});

Deno.test("gaussianBlur() with p 0.5 returns the unblurred samples exactly and blurs the others", () => {
  manualSeed(3);
  scope(() => {
    const x = rand([16, 3, 12, 12]);
    const y = gaussianBlur(x, { p: 0.5, sigma: [1, 2] });
    const diffs = y.sub(x).abs().amax([1, 2, 3]).toArray() as number[]; // [N]
    const kept = diffs.filter((d) => d === 0).length;
    assert.ok(kept > 0 && kept < 16, `${kept} of 16 samples unblurred`);
    for (const d of diffs) assert.ok(d === 0 || d > 1e-3, `a sample changed by only ${d}`);
  });
});

Deno.test("gaussianBlur() draws sigma independently per sample", () => {
  manualSeed(2);
  scope(() => {
    const x = zeros([8, 1, 21, 21]);
    x.narrow(2, 10, 1).narrow(3, 10, 1).fill_(1); // an impulse in every sample, away from the borders
    const y = gaussianBlur(x, { p: 1, sigma: [1, 3], kernelSize: 9 });
    const centres = (y.narrow(2, 10, 1).narrow(3, 10, 1).view([8]).toArray() as number[]).map((v) => v.toFixed(6));
    assert.equal(new Set(centres).size, 8);
    const sums = y.sum([1, 2, 3]).toArray() as number[];
    for (const s of sums) assert.ok(Math.abs(s - 1) < 1e-5, `impulse response sums to ${s}`);
  });
});

Deno.test("gaussianBlur() rejects an even kernel and a bad sigma range", () => {
  scope(() => {
    const x = rand([1, 3, 8, 8]);
    assert.throws(() => gaussianBlur(x, { kernelSize: 4 }), RangeError);
    assert.throws(() => gaussianBlur(x, { sigma: [0, 1] }), RangeError);
  });
});
