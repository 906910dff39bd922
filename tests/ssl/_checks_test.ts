import assert from "node:assert/strict";
import { liveTensors, manualSeed, normalize, randn, scope, type Tensor, tensor } from "../../mod.ts";
import { barlowTwins } from "../../src/ssl/barlow_twins.ts";
import { unigrad } from "../../src/ssl/unigrad.ts";
import { vicreg } from "../../src/ssl/vicreg.ts";
import { disposeState } from "../../src/ssl/state.ts";
import { randomFeatures } from "./_helpers.ts";

function throwsWith(fn: () => unknown, type: ErrorConstructor, message: string): void {
  assert.throws(fn, (e: Error) => e instanceof type && e.message === message, message);
}

Deno.test("gradient() rejects features that are not [N, D] or do not match, naming the method and feature", () => {
  manualSeed(90);
  const before = liveTensors();
  const m = unigrad();
  const s = m.initState(4);
  scope(() => {
    const f = randomFeatures(3, 4, "float32");
    throwsWith(
      () => m.gradient({ ...f, u1: f.u1.reshape([3, 2, 2]) }, s),
      TypeError,
      "Cannot compute unigrad gradient: u1 must be [N, D], got shape [3, 2, 2]",
    );
    throwsWith(
      () => m.gradient({ ...f, v2: normalize(randn([5, 4])) }, s),
      TypeError,
      "Cannot compute unigrad gradient: u1 has shape [3, 4] but v2 has shape [5, 4]",
    );
    throwsWith(
      () => m.gradient({ ...f, v1: f.v1.to("float64") }, s),
      TypeError,
      "Cannot compute unigrad gradient: u1 is float32 but v1 is float64",
    );
    const g = randomFeatures(3, 5, "float32");
    throwsWith(
      () => m.loss!(g, s),
      TypeError,
      "Cannot compute unigrad loss: features have width 5 but the state was made for width 4",
    );
  });
  assert.equal(s.step, 0);
  disposeState(s);
  assert.equal(liveTensors(), before);
});

Deno.test("gradient() rejects non-normalised features where the method requires them, saying which", () => {
  manualSeed(91);
  const m = unigrad();
  const s = m.initState(4);
  scope(() => {
    const f = randomFeatures(3, 4, "float32");
    assert.throws(
      () => m.gradient({ ...f, v2: f.zt2 }, s),
      (e: Error) =>
        e instanceof RangeError &&
        e.message.startsWith("Cannot compute unigrad gradient: v2 must be l2-normalised (rows of norm 1)"),
    );
  });
  disposeState(s);
});

Deno.test("gradient() detects NaN and Inf in any feature it reads, with the method's name", () => {
  manualSeed(92);
  const m = unigrad();
  const bt = barlowTwins();
  const [s, t] = [m.initState(4), bt.initState(4)];
  scope(() => {
    const f = randomFeatures(3, 4, "float32");
    const one = tensor([[false, false, false, false], [false, false, true, false], [false, false, false, false]]);
    const poison = (x: Tensor, value: number) => x.detach().maskedFill(one, value); // one bad entry
    throwsWith(
      () => m.gradient({ ...f, u1: poison(f.u1, NaN) }, s),
      RangeError,
      "Cannot compute unigrad gradient: u1 contains 1 NaN or Inf value",
    );
    throwsWith(
      () => bt.loss!({ ...f, zt2: poison(f.zt2, Infinity) }, t),
      RangeError,
      "Cannot compute barlow-twins loss: zt2 contains 1 NaN or Inf value",
    );
  });
  // Nothing propagated: F was not touched.
  assert.equal(s.F!.isfinite().all().item(), 1);
  [s, t].forEach(disposeState);
});

Deno.test("gradient() rejects a batch of one where the method needs batch statistics", () => {
  manualSeed(93);
  const m = vicreg();
  const s = m.initState(4);
  scope(() => {
    throwsWith(
      () => m.gradient(randomFeatures(1, 4, "float32"), s),
      RangeError,
      "Cannot compute vicreg gradient: a batch of 1 is too small: batch statistics need at least 2 samples",
    );
    // UniGrad needs no batch statistics: one sample is fine.
    const u = unigrad();
    const su = u.initState(4);
    u.gradient(randomFeatures(1, 4, "float32"), su);
    disposeState(su);
  });
  disposeState(s);
});

Deno.test("gradient() reports a missing raw feature for the batch-standardised forms", () => {
  manualSeed(94);
  const m = barlowTwins();
  const s = m.initState(4);
  scope(() => {
    const { u1, u2, v1, v2 } = randomFeatures(3, 4, "float32");
    throwsWith(
      () => m.gradient({ u1, u2, v1, v2 }, s),
      TypeError,
      "Cannot compute barlow-twins gradient: feature z1 is missing (this form reads z1, z2, zt1, zt2)",
    );
  });
  disposeState(s);
});
