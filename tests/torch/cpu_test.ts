import assert from "node:assert/strict";
import { cpuCapabilities } from "../../mod.ts";
import { cpuClassOf, onednnIsaCap, parseCpuInfo } from "../../src/torch/mod.ts";
import { sym } from "../../src/torch/_lib.ts";

// Flags lines as Linux prints them (shortened), so the test does not depend on the machine it runs on.
const SAPPHIRE_RAPIDS = `processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8488C
flags\t\t: fpu vme sse2 avx avx2 avx512f avx512dq avx512bw avx512vl avx512_bf16 avx512_fp16 amx_bf16 amx_tile amx_int8

processor\t: 1
model name\t: Intel(R) Xeon(R) Platinum 8488C
flags\t\t: fpu vme sse2 avx avx2 avx512f
`;
const GENOA =
  "model name\t: AMD EPYC 9R14 96-Core Processor\nflags\t\t: fpu sse2 avx2 avx512f avx512dq avx512bw avx512vl avx512_bf16 vaes\n";
const CASCADE_LAKE =
  "model name\t: Intel(R) Xeon(R) Platinum 8259CL\nflags\t\t: fpu sse2 avx2 avx512f avx512dq avx512bw avx512vl avx512_vnni\n";
const ZEN2 = "model name\t: AMD EPYC 7R32\nflags\t\t: fpu sse2 avx avx2 fma\n";

Deno.test("parseCpuInfo: avx512_bf16 or amx_bf16 means native bf16, read from the first processor", () => {
  const spr = parseCpuInfo(SAPPHIRE_RAPIDS);
  assert.equal(spr.nativeBf16, true);
  assert.deepEqual(spr.bf16Flags, ["avx512_bf16", "amx_bf16"]);
  assert.equal(spr.model, "Intel(R) Xeon(R) Platinum 8488C");
  assert.deepEqual(parseCpuInfo(GENOA).bf16Flags, ["avx512_bf16"]);
  assert.equal(parseCpuInfo(GENOA).nativeBf16, true);
});

Deno.test("parseCpuInfo: AVX-512 without bf16, AVX2 only and an empty file mean no native bf16", () => {
  for (const text of [CASCADE_LAKE, ZEN2, ""]) {
    const caps = parseCpuInfo(text);
    assert.equal(caps.nativeBf16, false, text);
    assert.deepEqual(caps.bf16Flags, []);
  }
  assert.equal(parseCpuInfo("").model, "unknown");
  // A flag that only starts like one of ours is not it.
  assert.equal(parseCpuInfo("flags\t: avx512_bf16x amx_bf16_extra\n").nativeBf16, false);
});

Deno.test("parseCpuInfo: the class of each machine, and what a cap on oneDNN's instruction set makes of it", () => {
  assert.equal(parseCpuInfo(SAPPHIRE_RAPIDS).cpuClass, "avx512-bf16");
  assert.equal(parseCpuInfo(GENOA).cpuClass, "avx512-bf16");
  assert.equal(parseCpuInfo(CASCADE_LAKE).cpuClass, "avx512");
  assert.equal(parseCpuInfo(ZEN2).cpuClass, "avx2");
  assert.equal(parseCpuInfo("flags\t: sse2 sse4_1\n").cpuClass, "sse4.1");
  // AVX-512F alone (Knights Landing) is not oneDNN's avx512_core.
  assert.equal(parseCpuInfo("flags\t: avx2 avx512f avx512cd\n").cpuClass, "avx2");
  for (const [cap, cls] of [["AVX2", "avx2"], ["avx512_core", "avx512"], ["AVX", "avx"], ["SSE41", "sse4.1"]]) {
    const genoa = parseCpuInfo(GENOA, null, cap);
    assert.equal(genoa.cpuClass, cls, cap);
    assert.equal(genoa.nativeBf16, false, `${cap}: oneDNN capped below its bf16 kernels computes no bf16`);
    assert.match(genoa.classSource, new RegExp(`capped by ONEDNN_MAX_CPU_ISA=${cap}`));
  }
  // A cap above the CPU changes nothing; ALL is no cap.
  assert.equal(parseCpuInfo(ZEN2, null, "AVX512_CORE_AMX").cpuClass, "avx2");
  assert.equal(parseCpuInfo(GENOA, null, "ALL").nativeBf16, true);
  // oneDNN's own answer wins over the flags.
  assert.equal(cpuClassOf(new Set(["avx2"]), 0x27, null).cpuClass, "avx512");
  assert.equal(cpuClassOf(new Set([]), 0x7, "AVX2").classSource, "oneDNN: 0x7, capped by ONEDNN_MAX_CPU_ISA=AVX2");
});

Deno.test("cpuCapabilities: agrees with parsing this machine's /proc/cpuinfo and oneDNN's answer", () => {
  let text = "";
  try {
    text = Deno.readTextFileSync("/proc/cpuinfo");
  } catch {
    // no /proc: the safe answer
  }
  const isa = sym.ts_onednn_isa();
  assert.deepEqual(cpuCapabilities(), parseCpuInfo(text, isa >= 0 ? isa : null, onednnIsaCap()));
  if (Deno.build.arch === "x86_64") assert.ok(isa > 0, "Debian's libtorch exports oneDNN's ISA query");
  // Without a cap the flags and oneDNN agree on the class (the guard and the numerics rely on it).
  if (onednnIsaCap() === null) assert.equal(parseCpuInfo(text).cpuClass, cpuCapabilities().cpuClass);
});
