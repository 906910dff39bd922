import assert from "node:assert/strict";
import { liveTensors, manualSeed, resnet20, scope } from "../../mod.ts";

Deno.test("ResNet convInit: torchvision's N(0, 2/fan_out) by default, nn.Conv2d's kaiming_uniform(√5) with 'torch'", () => {
  const live = liveTensors();
  manualSeed(0);
  const tv = resnet20({ inChannels: 1, numClasses: 0 });
  manualSeed(0);
  const torch = resnet20({ inChannels: 1, numClasses: 0, convInit: "torch" });
  // layer3.0.conv2: [64, 64, 3, 3], fan_in = fan_out = 576.
  const std = (m: typeof tv) =>
    scope(() => m.namedParameters().find(([k]) => k === "layer3.0.conv2.weight")![1].std().item());
  assert.ok(Math.abs(std(tv) / Math.sqrt(2 / 576) - 1) < 0.05, `kaiming_normal std ${std(tv)}`);
  assert.ok(Math.abs(std(torch) / Math.sqrt(1 / (3 * 576)) - 1) < 0.05, `torch default std ${std(torch)}`);
  tv.dispose();
  torch.dispose();
  assert.equal(liveTensors(), live);
});
