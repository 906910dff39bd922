/**
 * The CPU's class, for choosing the numerics and the layout of a CPU run. libtorch's convolutions and
 * matrix products run in oneDNN, which picks its kernels by the best instruction set the CPU has,
 * capped by `ONEDNN_MAX_CPU_ISA` (or `DNNL_MAX_CPU_ISA`). Three classes of x86-64 machines matter:
 *
 * - `avx2`: AVX2 only (older Intel, AMD Zen 2/3). bf16 is emulated (slow); oneDNN's AVX2 channels_last
 *   convolutions have a memory-corrupting defect the shim routes around (see `ffi/ops.cpp`,
 *   `scripts/onednn_conv_probe.py`, docs/cpu-classes.md).
 * - `avx512`: AVX-512 without bf16 instructions (Skylake-SP to Ice Lake): float32, channels_last.
 * - `avx512-bf16`: AVX-512 with avx512_bf16 or amx_bf16 (Cooper Lake, Sapphire Rapids, AMD Zen 4):
 *   bf16 autocast pays.
 *
 * (`avx` and `sse4.1` name older CPUs, handled as `avx2` is.) The class comes from oneDNN itself when
 * the shim can reach it (`dnnl_get_effective_cpu_isa`: the instruction set its kernels use after the
 * caps), else from the flags of /proc/cpuinfo and the cap variables. `parseCpuInfo` and `cpuClassOf`
 * are pure, so every machine's answer can be checked on any machine.
 *
 * @module
 */
import { sym } from "./_lib.ts";

/** The instruction-set classes that decide a CPU run's numerics. */
export const CPU_CLASSES = ["sse4.1", "avx", "avx2", "avx512", "avx512-bf16"] as const;

/** One of `CPU_CLASSES`, weakest first. */
export type CpuClass = typeof CPU_CLASSES[number];

/** The CPU features that decide the numerics of a CPU run. */
export interface CpuCapabilities {
  /** The instruction-set class oneDNN's kernels use on this machine (after any cap). */
  cpuClass: CpuClass;
  /** How the class was found, e.g. "oneDNN: AVX2, capped by ONEDNN_MAX_CPU_ISA=AVX2". */
  classSource: string;
  /** bf16 runs natively: the CPU has bf16 instructions (avx512_bf16 or amx_bf16) and oneDNN may use them. */
  nativeBf16: boolean;
  /** The flags of /proc/cpuinfo that mean bf16 instructions, e.g. ["avx512_bf16", "amx_bf16"]; empty without. */
  bf16Flags: string[];
  /** The CPU's model name ("unknown" when it cannot be read). */
  model: string;
}

/** CPU flags that mean native bf16 arithmetic (Linux /proc/cpuinfo names). */
export const BF16_FLAGS = ["avx512_bf16", "amx_bf16"] as const;

/** The flags oneDNN needs for its AVX-512 kernels (avx512_core). */
const AVX512_FLAGS = ["avx512f", "avx512bw", "avx512vl", "avx512dq"];

/** `dnnl_cpu_isa_t` values of oneDNN 2.x, weakest first, by class (checked with dnnl_get_effective_cpu_isa). */
const ONEDNN_ISA: [number, CpuClass][] = [
  [0x1, "sse4.1"],
  [0x3, "avx"],
  [0x7, "avx2"],
  [0x407, "avx2"],
  [
    0x27,
    "avx512",
  ],
  [0x67, "avx512"],
  [0xe7, "avx512-bf16"],
  [0x3e7, "avx512-bf16"],
];

/** `ONEDNN_MAX_CPU_ISA` spellings (oneDNN's names, upper case) by the class they cap to. */
function capClass(cap: string): CpuClass | null {
  const name = cap.trim().toUpperCase();
  if (name === "" || name === "ALL") return null;
  if (name === "SSE41") return "sse4.1";
  if (name === "AVX") return "avx";
  if (name.startsWith("AVX2")) return "avx2";
  if (name.startsWith("AVX512_CORE_BF16") || name.startsWith("AVX512_CORE_AMX")) return "avx512-bf16";
  if (name.startsWith("AVX512")) return "avx512";
  return null;
}

const rank = (c: CpuClass) => CPU_CLASSES.indexOf(c);

/**
 * The class of a CPU with these /proc/cpuinfo flags, given what oneDNN reports (when it could be asked)
 * and the cap variable (`ONEDNN_MAX_CPU_ISA` or `DNNL_MAX_CPU_ISA`).
 *
 * @param flags The CPU's flags.
 * @param onednnIsa `dnnl_get_effective_cpu_isa()`, or null when oneDNN could not be asked.
 * @param cap The cap variable's value, or null.
 * @returns The class and how it was found.
 *
 * @example Usage
 * ```ts
 * import { cpuClassOf } from "@unigrad/unigrad/torch";
 * import assert from "node:assert/strict";
 *
 * const zen4 = new Set(["avx2", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512_bf16"]);
 * assert.equal(cpuClassOf(zen4, null, null).cpuClass, "avx512-bf16");
 * assert.equal(cpuClassOf(zen4, null, "AVX2").cpuClass, "avx2");
 * assert.equal(cpuClassOf(zen4, 0x7, "AVX2").cpuClass, "avx2");
 * ```
 */
export function cpuClassOf(
  flags: ReadonlySet<string>,
  onednnIsa: number | null,
  cap: string | null,
): { cpuClass: CpuClass; classSource: string } {
  const capped = cap === null ? "" : `, capped by ONEDNN_MAX_CPU_ISA=${cap}`;
  const known = ONEDNN_ISA.find(([v]) => v === onednnIsa);
  if (known) return { cpuClass: known[1], classSource: `oneDNN: 0x${onednnIsa!.toString(16)}${capped}` };
  let found: CpuClass = "sse4.1";
  if (flags.has("avx")) found = "avx";
  if (flags.has("avx2")) found = "avx2";
  if (AVX512_FLAGS.every((f) => flags.has(f))) {
    found = BF16_FLAGS.some((f) => flags.has(f)) ? "avx512-bf16" : "avx512";
  }
  const limit = cap === null ? null : capClass(cap);
  const cpuClass = limit !== null && rank(limit) < rank(found) ? limit : found;
  return { cpuClass, classSource: `/proc/cpuinfo flags${capped}` };
}

/**
 * The capabilities described by the text of a /proc/cpuinfo file (the first processor's `flags` and
 * `model name` lines; other lines are ignored), oneDNN's effective instruction set and the cap.
 *
 * @param cpuinfo The file's text.
 * @param onednnIsa `dnnl_get_effective_cpu_isa()`, or null (the class then comes from the flags).
 * @param cap `ONEDNN_MAX_CPU_ISA`'s value, or null.
 * @returns What the text says; no flags line means the weakest class and no native bf16.
 *
 * @example Usage
 * ```ts
 * import { parseCpuInfo } from "@unigrad/unigrad/torch";
 * import assert from "node:assert/strict";
 *
 * const text = "model name\t: AMD EPYC 9R14\nflags\t\t: fpu sse2 avx2 avx512f avx512bw avx512vl avx512dq avx512_bf16\n";
 * const caps = parseCpuInfo(text);
 * assert.equal(caps.nativeBf16, true);
 * assert.deepEqual(caps.bf16Flags, ["avx512_bf16"]);
 * assert.equal(parseCpuInfo(text, null, "AVX2").nativeBf16, false); // oneDNN capped below its bf16 kernels
 * assert.equal(parseCpuInfo("flags\t: fpu sse2 avx2\n").cpuClass, "avx2");
 * ```
 */
export function parseCpuInfo(
  cpuinfo: string,
  onednnIsa: number | null = null,
  cap: string | null = null,
): CpuCapabilities {
  const field = (name: string) => {
    const line = cpuinfo.split("\n").find((l) => l.split(":")[0].trim() === name);
    return line === undefined ? null : line.slice(line.indexOf(":") + 1).trim();
  };
  const flags = new Set((field("flags") ?? "").split(/\s+/));
  const bf16Flags = BF16_FLAGS.filter((f) => flags.has(f));
  const { cpuClass, classSource } = cpuClassOf(flags, onednnIsa, cap);
  return {
    cpuClass,
    classSource,
    nativeBf16: bf16Flags.length > 0 && cpuClass === "avx512-bf16",
    bf16Flags,
    model: field("model name") || "unknown",
  };
}

/** The cap on oneDNN's instruction set from the environment (`ONEDNN_MAX_CPU_ISA`, else `DNNL_MAX_CPU_ISA`). */
export function onednnIsaCap(): string | null {
  try {
    return Deno.env.get("ONEDNN_MAX_CPU_ISA") ?? Deno.env.get("DNNL_MAX_CPU_ISA") ?? null;
  } catch {
    return null; // no --allow-env: no cap can be read, as none was given to this process by us
  }
}

/** A one-line name of a class for run headers: "AVX2", "AVX-512", "AVX-512 with bf16". */
export function cpuClassName(c: CpuClass): string {
  return { "sse4.1": "SSE4.1", avx: "AVX", avx2: "AVX2", avx512: "AVX-512", "avx512-bf16": "AVX-512 with bf16" }[c];
}

let cached: CpuCapabilities | null = null;

/**
 * The capabilities of the CPU this process runs on (read once): /proc/cpuinfo's flags and model, and
 * oneDNN's effective instruction set as the shim reports it. Where neither can be read the answer is
 * the safe one: the weakest class, no native bf16.
 *
 * @returns The detected capabilities.
 */
export function cpuCapabilities(): CpuCapabilities {
  if (cached !== null) return cached;
  let text = "";
  try {
    text = Deno.readTextFileSync("/proc/cpuinfo");
  } catch {
    // Not Linux or not readable: no flags.
  }
  let isa: number | null = null;
  try {
    const v = sym.ts_onednn_isa();
    isa = v >= 0 ? v : null;
  } catch {
    // No shim loaded (or one without oneDNN by name): the flags and the cap decide.
  }
  cached = parseCpuInfo(text, isa, onednnIsaCap());
  return cached;
}
