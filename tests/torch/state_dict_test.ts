import assert from "node:assert/strict";
import { tensor, zeros } from "../../mod.ts";
import { checkStateDict } from "../../src/torch/state_dict.ts";
import { noLeaks } from "./_helpers.ts";

Deno.test(
  "checkStateDict() lists missing and unexpected keys, shape and dtype mismatches in one error",
  noLeaks(() => {
    using w = zeros([2, 3]);
    using b = zeros([3]);
    using n = tensor(1n);
    const own = new Map([["w", w], ["b", b], ["n", n]]);
    checkStateDict(own, own, "state dict");
    using wi = tensor(new Int32Array(6), { shape: [2, 3] });
    using b64 = zeros([3], { dtype: "float64" });
    using nf = zeros([]);
    using extra = zeros([1]);
    assert.throws(
      () => checkStateDict(own, new Map([["w", wi], ["n", nf], ["x", extra]]), "state dict"),
      {
        name: "TypeError",
        message: 'Cannot load state dict: missing keys [b], unexpected keys [x], "w" has dtype int32 but ' +
          'expected float32, "n" has dtype float32 but expected int64',
      },
    );
    checkStateDict(own, new Map([["b", b64]]), "state dict", { strict: false });
    assert.throws(() => checkStateDict(own, new Map([["b", b64]]), "x", { strict: false, castFloating: false }));
    assert.throws(() => checkStateDict(own, new Map([["b", w]]), "x", { strict: false }), /"b" has shape \[2, 3\]/);
  }),
);
