import assert from "node:assert/strict";
import { arange, liveTensors, manualSeed, rand, scope } from "../../mod.ts";
import { cutmix } from "../../src/data/cutmix.ts";
import { betaSymmetric } from "../../src/data/_util.ts";
import { maxDiff } from "./_helpers.ts";

Deno.test("cutmix() pastes a box from the partner and reports the exact fraction kept", () => {
  const before = liveTensors();
  manualSeed(0);
  scope(() => {
    // Sample i is filled with the value i, so every pixel tells where it came from.
    const x = arange(0, 16).view([16, 1, 1, 1]).expand([16, 3, 10, 12]).contiguous();
    const { images, partner, lambda } = cutmix(x);
    const px = images.toArray() as number[][][][];
    const partners = partner.toArray() as number[];
    const lam = lambda.toArray() as number[];
    for (let i = 0; i < 16; i++) {
      const flat = px[i].flat(2);
      const own = flat.filter((v) => v === i).length;
      assert.ok(flat.every((v) => v === i || v === partners[i]));
      if (partners[i] !== i) assert.ok(Math.abs(own / flat.length - lam[i]) < 1e-6, `sample ${i}`);
    }
    assert.ok(new Set(lam.map((v) => v.toFixed(3))).size > 8, "lambda varies per sample");
  });
  assert.equal(liveTensors(), before);
});

Deno.test("cutmix() with p 0 leaves the batch alone", () => {
  scope(() => {
    const x = rand([4, 3, 8, 8]);
    const { images, partner, lambda } = cutmix(x, { p: 0 });
    assert.equal(maxDiff(images, x), 0);
    assert.deepEqual(partner.toArray(), [0, 1, 2, 3]);
    assert.deepEqual(lambda.toArray(), [1, 1, 1, 1]);
    assert.throws(() => cutmix(x, { p: 1.5 }), RangeError);
  });
});

Deno.test("betaSymmetric() draws Beta(α, α): mean 1/2, variance 1/(4(2α + 1)), within [0, 1]", () => {
  const before = liveTensors();
  manualSeed(3);
  scope(() => {
    for (const alpha of [0.2, 0.5, 1, 2, 8]) {
      const x = betaSymmetric(rand([1]), 20000, alpha);
      const mean = x.mean().item();
      const variance = x.sub(mean).square().mean().item();
      const want = 1 / (4 * (2 * alpha + 1));
      assert.ok(x.min().item() >= 0 && x.max().item() <= 1, `α ${alpha} out of [0, 1]`);
      assert.ok(Math.abs(mean - 0.5) < 0.01, `α ${alpha}: mean ${mean}`);
      assert.ok(Math.abs(variance / want - 1) < 0.05, `α ${alpha}: variance ${variance}, want ${want}`);
    }
  });
  assert.equal(liveTensors(), before);
});

Deno.test("cutmix() with a small alpha mixes mostly all or nothing, and rejects a bad alpha", () => {
  manualSeed(4);
  scope(() => {
    const x = rand([256, 1, 16, 16]);
    const extreme = (a: number) => {
      const l = cutmix(x, { alpha: a }).lambda.toArray() as number[];
      return l.filter((v) => v < 0.1 || v > 0.9).length / l.length;
    };
    assert.ok(extreme(0.1) > extreme(1) + 0.15, `${extreme(0.1)} vs ${extreme(1)}`);
    assert.throws(() => cutmix(x, { alpha: 0 }), /CutMix alpha must be positive, got 0/);
  });
});
