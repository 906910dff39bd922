import assert from "node:assert/strict";
import { Conv2d } from "../../src/nn/mod.ts";
import { full } from "../../src/torch/mod.ts";
import { liveTensors, type Tensor, tensor } from "../../mod.ts";

Deno.test("Module.loadStateDict() refuses a float weight relabelled as int32 before copying anything", () => {
  const before = liveTensors();
  {
    const conv = new Conv2d(1, 2, 3, { bias: true });
    const weight = conv.stateDict().get("weight")!;
    const saved = new Map<string, Tensor>([...conv.stateDict()].map(([k, t]) => [k, t.clone()]));
    // The same bytes read as int32, as a checkpoint whose header says I32 instead of F32 would give.
    using relabelled = tensor(new Int32Array((saved.get("weight")!.data() as Float32Array).buffer), {
      shape: weight.shape,
    });
    using bias = full([2], 7);
    const original = weight.data();
    assert.throws(
      () => conv.loadStateDict(new Map([["weight", relabelled], ["bias", bias]])),
      { name: "TypeError", message: 'Cannot load state dict: "weight" has dtype int32 but expected float32' },
    );
    assert.deepEqual(weight.data(), original);
    assert.notDeepEqual(conv.stateDict().get("bias")!.toArray(), [7, 7]);
    conv.loadStateDict(saved);
    for (const t of saved.values()) t.dispose();
    conv.dispose();
  }
  assert.equal(liveTensors(), before);
});
