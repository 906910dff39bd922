/**
 * What the CPU computes natively, for choosing the numerics of a CPU run: bf16 autocast pays only where
 * the CPU has bf16 instructions (AVX512-BF16 or AMX-BF16); elsewhere libtorch emulates bf16 and it is
 * slower than float32. Detection reads the flags line of /proc/cpuinfo (Linux); `parseCpuInfo` is the
 * pure part, so it can be checked on any machine.
 *
 * @module
 */

/** The CPU features that decide the numerics of a CPU run. */
export interface CpuCapabilities {
  /** The CPU has bf16 instructions (avx512_bf16 or amx_bf16): bf16 matrix products and convolutions run natively. */
  nativeBf16: boolean;
  /** The flags behind `nativeBf16` that this CPU has, e.g. ["avx512_bf16", "amx_bf16"]; empty without. */
  bf16Flags: string[];
  /** The CPU's model name ("unknown" when it cannot be read). */
  model: string;
}

/** CPU flags that mean native bf16 arithmetic (Linux /proc/cpuinfo names). */
export const BF16_FLAGS = ["avx512_bf16", "amx_bf16"] as const;

/**
 * The capabilities described by the text of a /proc/cpuinfo file (the first processor's `flags` and
 * `model name` lines; other lines are ignored).
 *
 * @param cpuinfo The file's text.
 * @returns What the text says; no flags line means no native bf16.
 *
 * @example Usage
 * ```ts
 * import { parseCpuInfo } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const caps = parseCpuInfo("model name\t: AMD EPYC 9R14\nflags\t\t: fpu sse2 avx2 avx512f avx512_bf16\n");
 * assert.equal(caps.nativeBf16, true);
 * assert.deepEqual(caps.bf16Flags, ["avx512_bf16"]);
 * assert.equal(parseCpuInfo("flags\t: fpu sse2 avx2\n").nativeBf16, false);
 * ```
 */
export function parseCpuInfo(cpuinfo: string): CpuCapabilities {
  const field = (name: string) => {
    const line = cpuinfo.split("\n").find((l) => l.split(":")[0].trim() === name);
    return line === undefined ? null : line.slice(line.indexOf(":") + 1).trim();
  };
  const flags = new Set((field("flags") ?? "").split(/\s+/));
  const bf16Flags = BF16_FLAGS.filter((f) => flags.has(f));
  return { nativeBf16: bf16Flags.length > 0, bf16Flags, model: field("model name") || "unknown" };
}

let cached: CpuCapabilities | null = null;

/**
 * The capabilities of the CPU this process runs on (read once from /proc/cpuinfo). Where the file
 * cannot be read (not Linux, no read permission) the answer is the safe one: no native bf16.
 *
 * @returns The detected capabilities.
 */
export function cpuCapabilities(): CpuCapabilities {
  if (cached !== null) return cached;
  let text = "";
  try {
    text = Deno.readTextFileSync("/proc/cpuinfo");
  } catch {
    // Not Linux or not readable: no flags, so float32.
  }
  cached = parseCpuInfo(text);
  return cached;
}
