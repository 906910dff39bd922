import assert from "node:assert/strict";
import { dropout, getRngState, randperm, setRngState } from "../../src/torch/mod.ts";
import { manualSeed, ones, rand, randn, scope, TorchError, zeros } from "../../mod.ts";
import { noLeaks } from "./_helpers.ts";

Deno.test(
  "manualSeed() makes every sampler repeat; different seeds differ",
  noLeaks(() =>
    scope(() => {
      const draw = () => [randn([4]), rand([4]), randperm(6), dropout(ones([8]), 0.5), zeros([3]).normal_()];
      manualSeed(123);
      const a = draw().map((t) => t.data());
      manualSeed(123n);
      const b = draw().map((t) => t.data());
      assert.deepEqual(a, b);
      manualSeed(124);
      assert.notDeepEqual(randn([4]).data(), a[0]);
    })
  ),
);

Deno.test(
  "getRngState()/setRngState() resume the CPU generator exactly",
  noLeaks(() =>
    scope(() => {
      manualSeed(5);
      randn([3]);
      const state = getRngState();
      assert.equal(state.dtype, "uint8");
      const first = randn([5]).data();
      randn([7]); // move on
      setRngState(state);
      assert.deepEqual(randn([5]).data(), first);
    })
  ),
);

Deno.test(
  "manualSeed() and setRngState() reject bad input",
  noLeaks(() =>
    scope(() => {
      assert.throws(() => manualSeed(-1), RangeError);
      assert.throws(() => manualSeed(1.5), RangeError);
      assert.throws(() => setRngState(zeros([3])), { name: "TorchError", message: /ByteTensor/ });
      const bytes = zeros([3], { dtype: "uint8" });
      assert.throws(() => setRngState(bytes), TorchError); // wrong size
      assert.deepEqual(randn([2]).shape, [2]); // still works
    })
  ),
);
