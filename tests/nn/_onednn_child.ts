/**
 * Child of tests/nn/onednn_guard_test.ts, run under `ONEDNN_MAX_CPU_ISA=AVX2` (oneDNN's kernels of an
 * AVX2-only CPU) and glibc's checking allocator. Modes:
 *
 * - `widths`: three UniGrad steps (channels_last, momentum target, SGD) of a ResNet-20 at every width 1–16
 *   on 1×28² images, then of the width-16 network on 3×32² images; one JSON line per network.
 * - `conv`: the backward pass of one channels_last 1×1 stride-2 convolution with 4 input channels (the
 *   defect's case), five times; prints "done".
 */
import { conv2d } from "../../src/torch/mod.ts";
import {
  createMethod,
  manualSeed,
  randn,
  scope,
  setNumThreads,
  SGD,
  siameseEncoder,
  targetBranch,
  Trainer,
} from "../../mod.ts";

setNumThreads(Number(Deno.args[1] ?? "1"));
const mode = Deno.args[0];

if (mode === "conv") {
  for (let i = 0; i < 5; i++) {
    scope(() => {
      const x = randn([16, 4, 28, 28]).contiguous("channels_last");
      const w = randn([8, 4, 1, 1], { requiresGrad: true });
      w.setMemoryFormat_("channels_last");
      conv2d(x, w, null, { stride: 2 }).sum().backward();
      return w.grad!.sum().item();
    });
  }
  console.log("done");
} else {
  const nets: [number, number, number][] = [...Array.from({ length: 16 }, (_, i) => [i + 1, 1, 28]), [16, 3, 32]] as [
    number,
    number,
    number,
  ][];
  for (const [width, channels, size] of nets) {
    manualSeed(0);
    const make = () =>
      siameseEncoder({
        arch: "resnet20",
        width,
        inChannels: channels,
        imageSize: size,
        projHidden: 32,
        projDim: 16,
        projDepth: 2,
      });
    const online = make();
    const target = targetBranch("momentum", online, { copy: make(), totalSteps: 3 });
    const method = createMethod("unigrad", { lambda: 1 });
    const state = method.initState(16);
    const optimizer = new SGD(online.namedParameters(), { lr: 0.05, momentum: 0.9 });
    const trainer = new Trainer({ online, target, method, state, optimizer, channelsLast: true });
    const losses: number[] = [];
    for (let k = 0; k < 3; k++) {
      const views = [randn([16, channels, size, size]), randn([16, channels, size, size])];
      const r = scope(() => trainer.step(views, k, 0.05, { withLoss: true }));
      losses.push(r.loss!.item());
      r.loss!.dispose();
      r.dispose();
      views.forEach((v) => v.dispose());
    }
    console.log(JSON.stringify({ width, channels, size, losses }));
  }
}
