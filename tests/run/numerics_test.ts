import assert from "node:assert/strict";
import { parseCpuInfo } from "../../src/torch/cpu.ts";
import { chooseNumerics } from "../../src/run/numerics.ts";

const NATIVE = parseCpuInfo("model name\t: AMD EPYC 9R14\nflags\t\t: avx2 avx512f avx512_bf16\n");
const EMULATED = parseCpuInfo("model name\t: AMD EPYC 7R32\nflags\t\t: avx2 fma\n");

Deno.test("chooseNumerics: auto is bf16 on a CPU with bf16 instructions and fp32 without, channels_last on both", () => {
  const native = chooseNumerics("cpu", "auto", NATIVE);
  assert.deepEqual([native.bf16, native.channelsLast], [true, true]);
  assert.match(native.reason, /avx512_bf16/);
  const emulated = chooseNumerics("cpu", "auto", EMULATED);
  assert.deepEqual([emulated.bf16, emulated.channelsLast], [false, true]);
  assert.match(emulated.reason, /no avx512_bf16/);
});

Deno.test("chooseNumerics: --precision fp32 and bf16 force the choice and say so", () => {
  assert.equal(chooseNumerics("cpu", "fp32", NATIVE).bf16, false);
  assert.match(chooseNumerics("cpu", "fp32", NATIVE).reason, /--precision fp32/);
  assert.equal(chooseNumerics("cpu", "bf16", EMULATED).bf16, true);
  assert.match(chooseNumerics("cpu", "bf16", EMULATED).reason, /emulated/);
});

Deno.test("chooseNumerics: CUDA keeps fp32 unless bf16 is asked for, whatever the CPU", () => {
  assert.equal(chooseNumerics("cuda", "auto", NATIVE).bf16, false);
  assert.equal(chooseNumerics("cuda:1", "bf16", EMULATED).bf16, true);
  assert.equal(chooseNumerics("cuda", "fp32", NATIVE).channelsLast, true);
});
