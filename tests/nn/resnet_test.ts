import assert from "node:assert/strict";
import { backward, liveTensors, manualSeed, noGrad, randn, scope, type Tensor, tensor } from "../../mod.ts";
import { ResNet, resnet18, resnet20, resnet50 } from "../../src/nn/resnet.ts";
import { BasicBlock, Bottleneck, downsample } from "../../src/nn/resnet_blocks.ts";
import { assertClose, golden } from "./_golden.ts";

interface Keys {
  keys: string[];
  num_parameters: number;
  shapes: number[][];
}
interface BlockCase {
  state: Record<string, number[]>;
  x: number[];
  x_shape: number[];
  y_eval: number[];
  y_train: number[];
  y_shape: number[];
  x_grad: number[];
  running_mean_bn1: number[];
}
interface NetCase {
  param_sums: Record<string, number>;
  x: number[];
  y: number[];
  conv1_grad?: number[];
}
const BLOCKS = golden<{ basic: BlockCase; bottleneck: BlockCase; tiny_net: NetCase; tiny_bottleneck_net: NetCase }>(
  "resnet_blocks.json",
);

function assertKeys(net: ResNet, g: Keys): void {
  const state = net.stateDict();
  assert.deepEqual([...state.keys()], g.keys);
  assert.deepEqual([...state.values()].map((t) => t.shape), g.shapes);
  assert.equal(net.numParameters(), g.num_parameters);
}

Deno.test("resnet18() has torchvision's state-dict keys, shapes and 11,689,512 parameters", () => {
  const before = liveTensors();
  const net = resnet18();
  assertKeys(net, golden<Keys>("resnet18_keys.json"));
  assert.equal(net.featureDim, 512);
  net.dispose();
  assert.equal(liveTensors(), before);
});

Deno.test("resnet50() has torchvision's state-dict keys, shapes and 25,557,032 parameters", () => {
  const before = liveTensors();
  const net = resnet50();
  assertKeys(net, golden<Keys>("resnet50_keys.json"));
  assert.equal(net.featureDim, 2048);
  net.dispose();
  assert.equal(liveTensors(), before);
});

function loadBlock(block: BasicBlock | Bottleneck, g: BlockCase): void {
  scope(() => {
    const own = block.stateDict();
    const state = new Map<string, Tensor>();
    for (const [k, v] of Object.entries(g.state)) state.set(k, tensor(v).reshape(own.get(k)!.shape));
    block.loadStateDict(state, false);
  });
}

for (const kind of ["basic", "bottleneck"] as const) {
  Deno.test(`${kind === "basic" ? "BasicBlock" : "Bottleneck"} matches the torch.nn reference in eval and train`, () => {
    const g = BLOCKS[kind];
    const before = liveTensors();
    const [cin, planes] = kind === "basic" ? [3, 4] : [4, 2];
    const block = kind === "basic"
      ? new BasicBlock(cin, planes, { stride: 2, downsample: downsample(cin, planes, 2) })
      : new Bottleneck(cin, planes, { stride: 2, downsample: downsample(cin, planes * 4, 2) });
    loadBlock(block, g);
    scope(() => {
      const x = tensor(g.x).reshape(g.x_shape);
      block.eval();
      assertClose(noGrad(() => block.forward(x)).data() as Float32Array, g.y_eval);
      block.train();
      const xg = x.clone().requiresGrad_(true);
      const y = block.forward(xg);
      assert.deepEqual(y.shape, g.y_shape);
      assertClose(y.data() as Float32Array, g.y_train, 1e-5, 1e-4);
      y.square().sum().backward();
      assertClose(xg.grad!.data() as Float32Array, g.x_grad, 1e-4, 1e-4);
      assertClose(block.bn1.running_mean.data() as Float32Array, g.running_mean_bn1);
    });
    block.dispose();
    assert.equal(liveTensors(), before);
  });
}

function assertSums(net: ResNet, sums: Record<string, number>): void {
  const state = net.stateDict();
  assert.deepEqual([...state.keys()], Object.keys(sums));
  scope(() => {
    for (const [k, t] of state) assertClose([t.sum(undefined, false, "float64").item()], [sums[k]], 1e-9, 1e-12);
  });
}

Deno.test("ResNet initialises as torchvision from the same seed and computes the same train-mode output", () => {
  const g = BLOCKS.tiny_net;
  const before = liveTensors();
  manualSeed(12);
  const net = new ResNet({
    block: "basic",
    layers: [1, 2],
    numClasses: 3,
    widths: [4, 8],
    inChannels: 1,
    stem: "small",
    zeroInitResidual: true,
  });
  assertSums(net, g.param_sums);
  scope(() => {
    const y = net.forward(tensor(g.x).reshape([2, 1, 8, 8]));
    assertClose(y.data() as Float32Array, g.y, 1e-5, 1e-4);
    y.square().sum().backward();
    assertClose(net.conv1.weight.grad!.data() as Float32Array, g.conv1_grad!, 1e-4, 1e-3);
  });
  net.dispose();
  assert.equal(liveTensors(), before);
});

Deno.test("ResNet with Bottleneck blocks, ImageNet stem and no fc matches the reference features", () => {
  const g = BLOCKS.tiny_bottleneck_net;
  const before = liveTensors();
  manualSeed(13);
  const net = new ResNet({ block: "bottleneck", layers: [1, 1], numClasses: 0, widths: [2, 4] });
  assertSums(net, g.param_sums);
  assert.equal(net.fc, null);
  scope(() => assertClose(net.forward(tensor(g.x).reshape([2, 3, 16, 16])).data() as Float32Array, g.y, 1e-5, 1e-4));
  net.dispose();
  assert.equal(liveTensors(), before);
});

Deno.test("ResNet.forward under autograd leaves only its output alive; channels_last gives the same result", () => {
  manualSeed(0);
  const net = resnet20({ inChannels: 1, numClasses: 0 });
  using x = randn([2, 1, 12, 12]);
  using g = randn([2, 64]);
  const before = liveTensors();
  const y = net.forward(x);
  assert.equal(liveTensors(), before + 1);
  backward([y], [g]);
  y.dispose();
  assert.equal(liveTensors(), before);
  net.eval();
  scope(() => {
    const a = net.forward(x);
    const b = net.forward(x.contiguous("channels_last"));
    assertClose(b.data() as Float32Array, a.data() as Float32Array, 1e-5, 1e-4);
  });
  assert.equal(liveTensors(), before);
  net.dispose();
});

Deno.test("resnet20() is the 0.27 M-parameter CIFAR network; resnet18 small stem keeps 28² → 512 features", () => {
  const before = liveTensors();
  const net = resnet20({ numClasses: 0 });
  assert.equal(net.numParameters(), 271_824); // 272,474 with the 10-class fc, as the torch.nn reference
  assert.equal(net.stateDict().has("layer3.0.downsample.0.weight"), true);
  net.dispose();
  const r18 = resnet18({ stem: "small", inChannels: 1, numClasses: 0 });
  assert.deepEqual(scope(() => noGrad(() => r18.forward(randn([2, 1, 28, 28]))).shape), [2, 512]);
  r18.dispose();
  assert.equal(liveTensors(), before);
});

Deno.test("ResNet rejects mismatched widths and empty stages with RangeError", () => {
  assert.throws(() => new ResNet({ block: "basic", layers: [1, 1], widths: [4] }), /one width per stage/);
  assert.throws(() => new ResNet({ block: "basic", layers: [1, 0] }), RangeError);
  assert.throws(() => resnet18({ numClasses: -1 }), RangeError);
});
