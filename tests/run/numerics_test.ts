import assert from "node:assert/strict";
import { parseCpuInfo } from "../../src/torch/cpu.ts";
import { chooseNumerics } from "../../src/run/numerics.ts";

const AVX512 = "avx2 avx512f avx512dq avx512bw avx512vl";
const NATIVE = parseCpuInfo(`model name\t: AMD EPYC 9R14\nflags\t\t: ${AVX512} avx512_bf16\n`);
const SKYLAKE = parseCpuInfo(`model name\t: Intel(R) Xeon(R) Platinum 8175M\nflags\t\t: ${AVX512}\n`);
const EMULATED = parseCpuInfo("model name\t: AMD EPYC 7R32\nflags\t\t: avx2 fma\n");

Deno.test("chooseNumerics: auto per CPU class — bf16 on the bf16 class, fp32 on AVX-512 and AVX2, channels_last on all", () => {
  const native = chooseNumerics("cpu", "auto", NATIVE);
  assert.deepEqual([native.bf16, native.channelsLast], [true, true]);
  assert.match(native.reason, /^bf16 autocast, channels_last \(auto on an AVX-512 with bf16 CPU .*avx512_bf16/);
  const skylake = chooseNumerics("cpu", "auto", SKYLAKE);
  assert.deepEqual([skylake.bf16, skylake.channelsLast], [false, true]);
  assert.match(skylake.reason, /^fp32, channels_last \(auto on an AVX-512 CPU/);
  const avx2 = chooseNumerics("cpu", "auto", EMULATED);
  assert.deepEqual([avx2.bf16, avx2.channelsLast], [false, true]);
  assert.match(avx2.reason, /^fp32, channels_last \(auto on an AVX2 CPU \(\/proc\/cpuinfo flags\): no bf16/);
  // The AVX2 class emulated on a bf16 CPU (ONEDNN_MAX_CPU_ISA=AVX2) is treated as the real one.
  const capped = chooseNumerics("cpu", "auto", parseCpuInfo(`flags\t: ${AVX512} avx512_bf16\n`, 0x7, "AVX2"));
  assert.deepEqual([capped.bf16, capped.channelsLast], [false, true]);
  assert.match(capped.reason, /capped by ONEDNN_MAX_CPU_ISA=AVX2/);
});

Deno.test("chooseNumerics: --precision fp32 and bf16 force the choice and say so", () => {
  assert.equal(chooseNumerics("cpu", "fp32", NATIVE).bf16, false);
  assert.match(chooseNumerics("cpu", "fp32", NATIVE).reason, /--precision fp32/);
  assert.equal(chooseNumerics("cpu", "bf16", EMULATED).bf16, true);
  assert.match(chooseNumerics("cpu", "bf16", EMULATED).reason, /emulated/);
});

Deno.test("chooseNumerics: CUDA runs bf16 autocast unless fp32 is asked for, whatever the CPU", () => {
  assert.equal(chooseNumerics("cuda", "auto", EMULATED).bf16, true);
  assert.equal(chooseNumerics("cuda", "fp32", NATIVE).bf16, false);
  assert.equal(chooseNumerics("cuda:1", "bf16", EMULATED).bf16, true);
  assert.equal(chooseNumerics("cuda", "fp32", NATIVE).channelsLast, true);
});
