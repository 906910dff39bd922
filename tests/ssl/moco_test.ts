import assert from "node:assert/strict";
import { cat, manualSeed, normalize, randn, scope, tensor } from "../../mod.ts";
import { crossEntropy } from "../../src/torch/mod.ts";
import { moco } from "../../src/ssl/moco.ts";
import { disposeState } from "../../src/ssl/state.ts";
import { assertClose, assertGradientMatchesAutograd, GOLDEN, goldenFeatures, randomFeatures } from "./_helpers.ts";

Deno.test("moco().gradient matches autograd of InfoNCE, with and without a queue", () => {
  manualSeed(10);
  for (const queueSize of [0, 7]) {
    assertGradientMatchesAutograd(moco({ queueSize, tau: 0.3 }), { N: 4, D: 5, steps: 3 });
  }
});

Deno.test("moco() without a queue gives the official loss_simclr_grad_mm gradient and InfoNCE's cross-entropy", () => {
  const m = moco();
  const s = m.initState(GOLDEN.D, { dtype: "float64" });
  scope(() => {
    const f = goldenFeatures();
    const c = GOLDEN.cases.simclr_grad_mm;
    assert.ok(Math.abs(m.loss!(f, s).item() - c.loss!) < 1e-12);
    const { g1, g2 } = m.gradient(f, s);
    assertClose(g1, c.g1, 1e-12, "g1");
    assertClose(g2, c.g2, 1e-12, "g2");
  });
  disposeState(s);
});

Deno.test("moco() loss is the cross-entropy of u1 against [v1; v2; queue] on a hand-checkable input", () => {
  const m = moco({ tau: 0.5, queueSize: 2 });
  const s = m.initState(2, { dtype: "float64" });
  scope(() => {
    const o = { dtype: "float64" as const };
    const [u1, u2, v1, v2] = [[[1, 0]], [[0, 1]], [[0.6, 0.8]], [[0.8, 0.6]]].map((x) => tensor(x, o));
    // view 1: logits [u1·v1, u1·v2]/τ = [1.2, 1.6], the positive v2 at index 1
    const expected1 = Math.log(Math.exp(1.2) + Math.exp(1.6)) - 1.6;
    const expected2 = Math.log(Math.exp(1.6) + Math.exp(1.2)) - 1.6; // u2·v1 = 0.8 is the positive
    assert.ok(Math.abs(m.loss!({ u1, u2, v1, v2 }, s).item() - (expected1 + expected2) / 2) < 1e-12);
    m.gradient({ u1, u2, v1, v2 }, s); // enqueues [v1; v2]
    const logits = u1.mm(cat([v1, v2, v1, v2]).t()).div(0.5);
    const ce = crossEntropy(logits, tensor([1], { dtype: "int64" })).item();
    const withQueue = m.loss!({ u1, u2, v1, v2 }, s).item();
    const ce2 = crossEntropy(u2.mm(cat([v1, v2, v1, v2]).t()).div(0.5), tensor([0], { dtype: "int64" })).item();
    assert.ok(Math.abs(withQueue - (ce + ce2) / 2) < 1e-12);
  });
  disposeState(s);
});

Deno.test("moco() queue starts empty, fills and wraps around at K", () => {
  const m = moco({ queueSize: 5 });
  const s = m.initState(2, { dtype: "float64" });
  const rows = (k: number) => Array.from({ length: k }, (_, i) => [Math.cos(i), Math.sin(i)]);
  let offset = 0;
  const step = () =>
    scope(() => {
      const o = { dtype: "float64" as const };
      const ks = rows(offset + 4).slice(offset); // 4 distinct unit keys per step: v1 (2 rows), v2 (2 rows)
      offset += 4;
      const [v1, v2] = [tensor(ks.slice(0, 2), o), tensor(ks.slice(2), o)];
      const u = normalize(randn([2, 2], o));
      m.gradient({ u1: u, u2: u, v1, v2 }, s);
      return ks;
    });
  const k0 = step();
  assert.deepEqual([s.queuePtr, s.queueFilled], [4, 4]);
  const k1 = step(); // rows 4, 0, 1, 2 are overwritten
  assert.deepEqual([s.queuePtr, s.queueFilled], [3, 5]);
  const q = s.queue!.toArray() as number[][];
  const expected = [k1[1], k1[2], k1[3], k0[3], k1[0]];
  q.forEach((r, i) => r.forEach((x, j) => assert.ok(Math.abs(x - expected[i][j]) < 1e-12, `queue row ${i}`)));
  step();
  assert.deepEqual([s.queuePtr, s.queueFilled], [2, 5]);
  disposeState(s);
});

Deno.test("moco() keeps the last K keys when a batch holds more than K", () => {
  const m = moco({ queueSize: 3 });
  const s = m.initState(2, { dtype: "float64" });
  scope(() => {
    const o = { dtype: "float64" as const };
    const v = normalize(tensor([[1, 0], [0, 1], [1, 1]], o));
    m.gradient({ u1: v, u2: v, v1: v, v2: v }, s); // 6 keys into 3 rows: the last 3 (v2)
    assertClose(s.queue!, v, 1e-15, "queue = v2");
    assert.deepEqual([s.queuePtr, s.queueFilled], [0, 3]);
  });
  disposeState(s);
});

Deno.test("moco() queue state round-trips through stateDict/loadState", () => {
  manualSeed(11);
  const m = moco({ queueSize: 6 });
  const a = m.initState(3, { dtype: "float64" });
  const b = m.initState(3, { dtype: "float64" });
  scope(() => {
    m.gradient(randomFeatures(2, 3), a);
    const saved = m.stateDict(a);
    assert.deepEqual([...saved.tensors.keys()], ["queue"]);
    assert.deepEqual(saved.numbers, { step: 1, queuePtr: 4, queueFilled: 4 });
    m.loadState(b, saved);
    const f = randomFeatures(2, 3);
    assertClose(m.gradient(f, b).g1, m.gradient(f, a).g1, 1e-15, "same gradient");
  });
  [a, b].forEach(disposeState);
});

Deno.test("moco() rejects a non-positive temperature and a fractional queue size", () => {
  assert.throws(() => moco({ tau: 0 }), RangeError);
  assert.throws(() => moco({ queueSize: 2.5 }), /queueSize/);
});
