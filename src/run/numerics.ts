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
import type { CpuCapabilities } from "../torch/cpu.ts";
import type { PRECISIONS } from "./config.ts";

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
 * - CUDA: channels_last; bf16 only when asked for ("auto" keeps float32 there, as before).
 * - CPU: channels_last; bf16 with "auto" where the CPU has bf16 instructions, with "bf16" always
 *   (emulated, and slower, without them); "fp32" forces float32.
 *
 * @param device "cpu", "cuda" or "cuda:k".
 * @param precision "auto", "fp32" or "bf16".
 * @param cpu The CPU's capabilities (`cpuCapabilities()`).
 * @returns The choice and its reason.
 *
 * @example Usage
 * ```ts
 * import { chooseNumerics, parseCpuInfo } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * const cpu = parseCpuInfo("flags\t: avx2 avx512f avx512_bf16\n");
 * assert.equal(chooseNumerics("cpu", "auto", cpu).bf16, true);
 * assert.equal(chooseNumerics("cpu", "fp32", cpu).bf16, false);
 * ```
 */
export function chooseNumerics(device: string, precision: Precision, cpu: CpuCapabilities): Numerics {
  if (device !== "cpu") {
    const bf16 = precision === "bf16";
    return {
      bf16,
      channelsLast: true,
      reason: bf16 ? "bf16 autocast, channels_last (asked for)" : `fp32, channels_last (precision ${precision})`,
    };
  }
  const flags = cpu.bf16Flags.join(", ");
  if (precision === "fp32") {
    return { bf16: false, channelsLast: true, reason: "fp32, channels_last (--precision fp32)" };
  }
  if (precision === "bf16") {
    const why = cpu.nativeBf16 ? `native on this CPU: ${flags}` : "emulated: this CPU has no bf16 instructions";
    return { bf16: true, channelsLast: true, reason: `bf16 autocast, channels_last (--precision bf16; ${why})` };
  }
  return cpu.nativeBf16
    ? {
      bf16: true,
      channelsLast: true,
      reason:
        `bf16 autocast, channels_last (auto: the CPU computes bf16 natively: ${flags}; --precision fp32 forces fp32)`,
    }
    : {
      bf16: false,
      channelsLast: true,
      reason:
        "fp32, channels_last (auto: no avx512_bf16/amx_bf16 on this CPU, where bf16 would be emulated and slower)",
    };
}
