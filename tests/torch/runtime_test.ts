import assert from "node:assert/strict";
import { getNumThreads, init, liveTensors, ones, scope, setNumThreads, torchVersion } from "../../mod.ts";
import { liveLists, TensorList } from "../../src/torch/mod.ts";
import { noLeaks } from "./_helpers.ts";

const manifest = JSON.parse(Deno.readTextFileSync(new URL("../../build/shim.json", import.meta.url)));

Deno.test("liveTensors() and liveLists() count native handles", () => {
  const tensors = liveTensors();
  const lists = liveLists();
  const a = ones([1]);
  const b = a.add(1);
  assert.equal(liveTensors(), tensors + 2);
  const list = TensorList.of([a, b]);
  assert.equal(liveLists(), lists + 1);
  assert.equal(liveTensors(), tensors + 2); // a list is not a tensor handle
  list.dispose();
  a.dispose();
  b.dispose();
  assert.equal(liveTensors(), tensors);
  assert.equal(liveLists(), lists);
});

Deno.test("setNumThreads() and getNumThreads() set and read the intra-op thread count", () => {
  const before = getNumThreads();
  assert.ok(before >= 1);
  try {
    setNumThreads(1);
    assert.equal(getNumThreads(), 1);
    assert.throws(() => setNumThreads(0), RangeError);
    assert.throws(() => setNumThreads(1.5), RangeError);
  } finally {
    setNumThreads(before);
  }
  assert.equal(getNumThreads(), before);
});

Deno.test("torchVersion() is the libtorch version the shim was built against", () => {
  const v = torchVersion();
  assert.match(v, /^[12]\.\d+\.\d+$/);
  assert.equal(v.split(".").slice(0, 2).join("."), String(manifest.torchVersion).split(".").slice(0, 2).join("."));
});

Deno.test(
  "init() re-opens the shim at an explicit path; existing tensors stay valid",
  noLeaks(() =>
    scope(() => {
      const before = getNumThreads();
      const t = ones([2]);
      init({ shimPath: manifest.path, numThreads: 1 });
      assert.equal(getNumThreads(), 1);
      assert.deepEqual(t.add(1).toArray(), [2, 2]);
      setNumThreads(before);
      assert.throws(() => init({ shimPath: "/nonexistent/libunigrad.so" }), /deno task build/);
      assert.deepEqual(t.mul(3).toArray(), [3, 3]); // a failed init keeps the open library
    })
  ),
);
