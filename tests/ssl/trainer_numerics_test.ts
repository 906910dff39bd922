// The CPU numerics of the trainer: bf16 autocast only around the encoder forwards (the method, F, the
// gradients, the optimizer and the EMA stay float32), and channels_last giving the NCHW result.
import assert from "node:assert/strict";
import {
  cpuCapabilities,
  liveTensors,
  manualSeed,
  noGrad,
  randn,
  scope,
  setNumThreads,
  SGD,
  type Tensor,
} from "../../mod.ts";
import type { Features } from "../../src/ssl/mod.ts";
import { onednnIsaCap } from "../../src/torch/mod.ts";
import { createMethod } from "../../src/ssl/mod.ts";
import type { Method } from "../../src/ssl/method.ts";
import { disposeState } from "../../src/ssl/state.ts";
import { targetBranch } from "../../src/ssl/target.ts";
import { Trainer } from "../../src/ssl/trainer.ts";
import { tinyEncoder } from "./_helpers.ts";

setNumThreads(1);

const D = 32;

/** Online weights after `steps` steps of UniGrad (momentum target) from seed 0 on fixed views, with the given numerics. */
function train(numerics: { bf16?: boolean; channelsLast?: boolean }, steps = 2, seen?: Set<string>) {
  manualSeed(0);
  const online = tinyEncoder(D);
  const inner = createMethod("unigrad", { lambda: 2 });
  // The method as the trainer calls it, recording the dtypes of the features it is handed.
  const method: Method = {
    ...inner,
    gradient: (f: Features, state, options) => {
      for (const t of Object.values(f)) if (t) seen?.add(t.dtype);
      return inner.gradient(f, state, options);
    },
  };
  const target = targetBranch("momentum", online, { copy: tinyEncoder(D), totalSteps: 10 });
  const state = method.initState(D);
  const optimizer = new SGD(online.namedParameters(), { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 });
  const trainer = new Trainer({ online, target, method, state, optimizer, ...numerics });
  // With channels_last the trainer re-lays out every conv weight in place (online and momentum encoder).
  const convs = [...online.parameters(), ...target.module.parameters()].filter((p) => p.ndim === 4);
  assert.ok(convs.length > 0);
  const layout = numerics.channelsLast ? "channels_last" : "contiguous";
  for (const w of convs) assert.ok(w.isContiguous(layout), `a conv weight is not ${layout}`);
  // (1×1 kernels and 1-channel inputs are both at once; the 3×3 ones on 8+ channels are not.)
  if (numerics.channelsLast) assert.ok(convs.some((w) => !w.isContiguous("contiguous")));
  manualSeed(1);
  const views = [randn([16, 1, 12, 12]), randn([16, 1, 12, 12])];
  for (let k = 0; k < steps; k++) scope(() => trainer.step(views, k, 0.1)).dispose();
  const dtypes = new Set<string>(scope(() => [
    ...(steps > 0 ? [state.F!.dtype, ...online.parameters().map((p) => p.grad!.dtype)] : []),
    ...online.parameters().map((p) => p.dtype),
    ...[...optimizer.stateDict()].filter(([k]) => k !== "step").map(([, t]) => t.dtype),
    ...target.module.parameters().map((p) => p.dtype),
  ]));
  const weights = online.namedParameters().map(([k, t]): [string, Tensor] => [k, noGrad(() => t.clone())]);
  views.forEach((v) => v.dispose());
  optimizer.dispose();
  target.dispose();
  online.dispose();
  disposeState(state);
  return { weights, dtypes };
}

/** ‖a − b‖ over all weights, relative to ‖b − initial‖ (the size of b's update). */
function relativeGap(a: [string, Tensor][], b: [string, Tensor][], init: [string, Tensor][]): number {
  let gap = 0, moved = 0;
  a.forEach(([, t], i) => {
    gap += scope(() => t.sub(b[i][1]).square().sum().item());
    moved += scope(() => b[i][1].sub(init[i][1]).square().sum().item());
  });
  return Math.sqrt(gap / moved);
}

/**
 * Under ONEDNN_MAX_CPU_ISA=AVX2 on a CPU with AVX-512 (the AVX2 pass of .ci/run), bf16 convolutions cannot run:
 * libtorch picks oneDNN's bf16 kernels by the CPU's flags, and the cap then refuses to build them ("could not
 * create a primitive descriptor iterator"). A real AVX2-only CPU takes ATen's reference path instead. So the bf16
 * tests are ignored there, and run on every machine whose oneDNN is not capped below AVX-512.
 */
const BF16_CONV_CAPPED = onednnIsaCap() !== null && !["avx512", "avx512-bf16"].includes(cpuCapabilities().cpuClass);

Deno.test({
  name: "Trainer with bf16 on the CPU: features, F, gradients, weights and optimizer state stay float32",
  ignore: BF16_CONV_CAPPED,
  fn: () => {
    const live = liveTensors();
    const seen = new Set<string>();
    const bf16 = train({ bf16: true }, 2, seen);
    assert.deepEqual([...seen], ["float32"]);
    assert.deepEqual([...bf16.dtypes], ["float32"]);
    const fp32 = train({}, 2);
    const init = train({}, 0);
    // Autocast did run (the steps differ from float32's) and the steps agree to bf16's precision: two steps of a
    // tiny network on noise, whose update is small, so bf16's ~0.4 % rounding shows as ~15 % of it (0.15 here).
    const gap = relativeGap(bf16.weights, fp32.weights, init.weights);
    assert.ok(gap > 1e-3 && gap < 0.3, `bf16 and fp32 steps differ by ${gap} of the update`);
    for (const r of [bf16, fp32, init]) r.weights.forEach(([, t]) => t.dispose());
    assert.equal(liveTensors(), live);
  },
});

/** channels_last and NCHW steps of the trainer agree: to float32 rounding, or to bf16's precision. */
function layoutsAgree(bf16: boolean): void {
  const live = liveTensors();
  const init = train({}, 0);
  const nchw = train({ bf16 }, 2);
  const cl = train({ bf16, channelsLast: true }, 2);
  const gap = relativeGap(cl.weights, nchw.weights, init.weights);
  assert.ok(
    gap > 0 && gap < (bf16 ? 0.3 : 1e-4),
    `bf16 ${bf16}: channels_last and NCHW steps differ by ${gap} of the update`,
  );
  assert.deepEqual([...cl.dtypes], ["float32"]);
  for (const r of [nchw, cl, init]) r.weights.forEach(([, t]) => t.dispose());
  assert.equal(liveTensors(), live);
}

Deno.test("Trainer with channels_last gives the NCHW steps in float32", () => layoutsAgree(false));

Deno.test({
  name: "Trainer with channels_last gives the NCHW steps in bf16, to its precision",
  ignore: BF16_CONV_CAPPED,
  fn: () => layoutsAgree(true),
});
