import assert from "node:assert/strict";
import { liveTensors, manualSeed, noGrad, randn, resnet20, scope, unigradProjector } from "../../mod.ts";
import { Encoder } from "../../src/ssl/encoder.ts";

function tiny(): Encoder {
  const net = resnet20({ inChannels: 1, numClasses: 0, baseWidth: 4 }); // features [N, 16]
  return new Encoder(net, unigradProjector({ inDim: net.featureDim, hiddenDim: 8, outDim: 6, depth: 2 }));
}

Deno.test("Encoder.forward() is the projector applied to the backbone's features", () => {
  const live = liveTensors();
  manualSeed(0);
  const enc = tiny();
  enc.eval(); // BN from running statistics: the two paths see the same normalisation
  scope(() => {
    const x = randn([3, 1, 12, 12]);
    const h = enc.features(x); // [3, 16]
    const z = enc.forward(x); // [3, 6]
    assert.deepEqual(h.shape, [3, 16]);
    assert.deepEqual(z.shape, [3, 6]);
    assert.deepEqual(z.toArray(), noGrad(() => enc.projector.forward(h)).toArray());
  });
  enc.dispose();
  assert.equal(liveTensors(), live);
});

Deno.test("Encoder state-dict names are backbone.<torchvision name> and projector.<index>", () => {
  const live = liveTensors();
  const enc = tiny();
  const keys = [...enc.stateDict().keys()];
  assert.ok(keys.includes("backbone.conv1.weight"));
  assert.ok(keys.includes("backbone.layer3.2.bn2.running_var"));
  assert.ok(keys.includes("projector.0.weight"));
  assert.ok(keys.includes("projector.3.bias"));
  assert.ok(keys.every((k) => k.startsWith("backbone.") || k.startsWith("projector.")));
  assert.equal(enc.numParameters(), enc.backbone.numParameters() + enc.projector.numParameters());
  enc.dispose();
  assert.equal(liveTensors(), live);
});
