/**
 * The numerics a run trains with: bf16 autocast or float32, channels_last or NCHW, chosen from the
 * device, the `precision` setting and what the CPU computes natively, with the reason the run header
 * prints. Only the encoder forwards are affected: the method's gradients, F, the EMA, the optimizer
 * and evaluation stay float32 (see `Trainer`).
 *
 * Measured (forward + backward of the default ResNet-20, 512 images 1×28², Debian's PyTorch 1.13, 2
 * threads): AMD EPYC with avx512_bf16: NCHW fp32 494 ms, channels_last fp32 404 ms, channels_last +
 * bf16 209 ms; Intel Sapphire Rapids (avx512_bf16, amx_bf16), one UniGrad step of 256 pairs: NCHW fp32
 * 1362 ms, channels_last fp32 1088 ms, channels_last + bf16 564 ms. channels_last pays on both in
 * both precisions; bf16 only where the CPU has bf16 instructions (elsewhere libtorch emulates it).
 *
 * @module
 */
import { type CpuCapabilities, cpuClassName } from "../torch/cpu.ts";
import type { PRECISIONS } from "./settings.ts";

/** A `precision` setting: "auto", "fp32" or "bf16". */
export type Precision = typeof PRECISIONS[number];

/** The numerics chosen for a run. */
export interface Numerics {
  /** Run the encoder forwards under bf16 autocast. */
  bf16: boolean;
  /** Feed the encoders channels_last image batches. */
  channelsLast: boolean;
  /** One line for the run header: what was chosen and why. */
  reason: string;
}

/**
 * The numerics for `device` and `precision` on a CPU with `cpu`'s capabilities (a pure function, so
 * it can be checked for any machine).
 *
 * - CUDA: channels_last; bf16 autocast unless `precision` is "fp32" (every GPU from Ampere on computes
 *   bf16 natively; `--precision fp32` for an older one).
 * - CPU: channels_last on every class (`deno task bench:train`: 1.07× NCHW's pairs/s on an AVX2-only
 *   EPYC, 1.3–1.45× under the AVX2 cap on an AVX-512 one, more on AVX-512; the shim keeps the layers
 *   that meet oneDNN's channels_last defect in NCHW, docs/cpu-classes.md). bf16 autocast with "auto"
 *   only on the `avx512-bf16` class (bf16 instructions), float32 on `avx512` and `avx2`.
 * - "bf16" forces bf16 autocast (emulated, and slower, without bf16 instructions); "fp32" float32.
 *
 * @param device "cpu", "cuda" or "cuda:k".
 * @param precision "auto", "fp32" or "bf16".
 * @param cpu The CPU's capabilities (`cpuCapabilities()`).
 * @returns The choice and its reason.
 *
 * @example Usage
 * ```ts
 * import { chooseNumerics } from "@unigrad/unigrad/run";
 * import { parseCpuInfo } from "@unigrad/unigrad/torch";
 * import assert from "node:assert/strict";
 *
 * const cpu = parseCpuInfo("flags\t: avx2 avx512f avx512bw avx512vl avx512dq avx512_bf16\n");
 * assert.equal(chooseNumerics("cpu", "auto", cpu).bf16, true);
 * assert.equal(chooseNumerics("cpu", "fp32", cpu).bf16, false);
 * assert.equal(chooseNumerics("cpu", "auto", parseCpuInfo("flags\t: avx2\n")).bf16, false);
 * ```
 */
export function chooseNumerics(device: string, precision: Precision, cpu: CpuCapabilities): Numerics {
  if (device !== "cpu") {
    const bf16 = precision !== "fp32";
    const why = precision === "fp32"
      ? "--precision fp32"
      : precision === "bf16"
      ? "--precision bf16"
      : "auto: bf16 on CUDA; --precision fp32 for a GPU without bf16, before Ampere";
    return { bf16, channelsLast: true, reason: `${bf16 ? "bf16 autocast" : "fp32"}, channels_last (${why})` };
  }
  const channelsLast = true; // every class: see above
  const machine = `${cpuClassName(cpu.cpuClass)} CPU (${cpu.classSource})`;
  const bf16Why = cpu.nativeBf16 ? `native: ${cpu.bf16Flags.join(", ")}` : "emulated: no bf16 instructions in use";
  if (precision === "fp32") {
    return { bf16: false, channelsLast, reason: `fp32, channels_last (--precision fp32; ${machine})` };
  }
  if (precision === "bf16") {
    return {
      bf16: true,
      channelsLast,
      reason: `bf16 autocast, channels_last (--precision bf16, ${bf16Why}; ${machine})`,
    };
  }
  if (cpu.nativeBf16) {
    return {
      bf16: true,
      channelsLast,
      reason: `bf16 autocast, channels_last (auto on an ${machine}: ${bf16Why}; --precision fp32 forces fp32)`,
    };
  }
  return {
    bf16: false,
    channelsLast,
    reason: `fp32, channels_last (auto on an ${machine}: no bf16 instructions in use, bf16 would be emulated)`,
  };
}
