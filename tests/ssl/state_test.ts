import assert from "node:assert/strict";
import { liveTensors, scope, tensor } from "../../mod.ts";
import { predictorHead } from "../../src/nn/heads.ts";
import { disposeState, newState, restoreState, saveState, stateDType } from "../../src/ssl/state.ts";

Deno.test("newState() keeps F and the queue in float32, or float64 for float64 runs", () => {
  const before = liveTensors();
  const a = newState(3, { correlation: true, queueSize: 4 }, { dtype: "bfloat16" });
  assert.equal(a.F!.dtype, "float32");
  assert.deepEqual(a.queue!.shape, [4, 3]);
  const b = newState(3, { correlation: true }, { dtype: "float64" });
  assert.equal(b.F!.dtype, "float64");
  assert.equal(b.queue, null);
  assert.equal(stateDType("float16"), "float32");
  [a, b].forEach(disposeState);
  assert.equal(liveTensors(), before);
  assert.throws(() => newState(0, {}), RangeError);
});

Deno.test("saveState()/restoreState() round-trip F, the queue, the predictor and the counters exactly", () => {
  const before = liveTensors();
  const spec = {
    correlation: true,
    queueSize: 2,
    predictor: (d: number) => predictorHead({ inDim: d, hiddenDim: 3, outDim: d }),
  };
  const a = newState(2, spec, { dtype: "float64" });
  const b = newState(2, spec, { dtype: "float64" });
  scope(() => {
    a.F!.copy_(tensor([[1, 2], [2, 5]], { dtype: "float64" }));
    a.queue!.fill_(0.5);
    Object.assign(a, { step: 7, queuePtr: 1, queueFilled: 2 });
    const saved = saveState(a);
    assert.deepEqual(saved.numbers, { step: 7, queuePtr: 1, queueFilled: 2 });
    assert.deepEqual([...saved.tensors.keys()].slice(0, 3), ["F", "queue", "predictor.0.weight"]);
    restoreState(b, saved);
    for (const [k, t] of saveState(b).tensors) {
      assert.deepEqual(t.toArray(), saved.tensors.get(k)!.toArray(), k);
    }
    assert.deepEqual([b.step, b.queuePtr, b.queueFilled], [7, 1, 2]);
  });
  [a, b].forEach(disposeState);
  assert.equal(liveTensors(), before);
});

Deno.test("restoreState() rejects missing names, wrong shapes and bad counters", () => {
  const a = newState(2, { correlation: true });
  const b = newState(3, { correlation: true });
  const c = newState(2, {});
  assert.throws(() => restoreState(a, saveState(c)), /missing keys \[F\]/);
  assert.throws(
    () => restoreState(a, saveState(b)),
    /Cannot load method state: "F" has shape \[3, 3\] but expected \[2, 2\]/,
  );
  assert.throws(
    () => restoreState(a, { ...saveState(a), numbers: { step: -1, queuePtr: 0, queueFilled: 0 } }),
    /"step"/,
  );
  [a, b, c].forEach(disposeState);
});
