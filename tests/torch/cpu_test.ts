import assert from "node:assert/strict";
import { cpuCapabilities, parseCpuInfo } from "../../mod.ts";

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
  "model name\t: AMD EPYC 9R14 96-Core Processor\nflags\t\t: fpu sse2 avx2 avx512f avx512bw avx512_bf16 vaes\n";
const CASCADE_LAKE =
  "model name\t: Intel(R) Xeon(R) Platinum 8259CL\nflags\t\t: fpu sse2 avx2 avx512f avx512bw avx512_vnni\n";
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

Deno.test("cpuCapabilities: agrees with parsing this machine's /proc/cpuinfo", () => {
  let text = "";
  try {
    text = Deno.readTextFileSync("/proc/cpuinfo");
  } catch {
    // no /proc: the safe answer
  }
  assert.deepEqual(cpuCapabilities(), parseCpuInfo(text));
});
