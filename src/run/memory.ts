/**
 * Whether a run's networks fit this machine, checked before anything is built: a size that is a valid
 * number but not a sane network (`--proj-hidden 65536 --proj-depth 16`: 64 billion parameters) is
 * refused in a millisecond with the numbers, instead of minutes of allocation and an out-of-memory
 * crash.
 *
 * @module
 */
import type { TrainConfig } from "./settings.ts";

/** Backbone parameters at the architecture's own width (3 input channels), and its feature width per unit of width. */
const BACKBONES = {
  resnet20: { parameters: 271_824, width: 16, featuresPerWidth: 4 },
  resnet18: { parameters: 11_168_832, width: 64, featuresPerWidth: 8 },
  resnet34: { parameters: 21_276_992, width: 64, featuresPerWidth: 8 },
  resnet50: { parameters: 23_500_352, width: 64, featuresPerWidth: 32 },
} as const;

/**
 * Bytes a float32 parameter costs in training: the weight, its gradient, the optimizer's momentum, the
 * momentum encoder's copy, and the CPU copy a checkpoint is serialised from.
 */
const BYTES_PER_PARAMETER = 20;

/** The parameters of a config's networks, estimated from its sizes. */
export interface ParameterEstimate {
  /** The backbone (the convolutions scale with the square of the width). */
  backbone: number;
  /** The projector's Linear layers. */
  projector: number;
  /** Bytes in training (`BYTES_PER_PARAMETER` per parameter). */
  bytes: number;
}

/**
 * The parameters of the networks a config builds, from its sizes alone.
 *
 * @example Usage
 * ```ts
 * import { DEFAULT_CONFIG } from "@unigrad/unigrad";
 * import { estimateParameters } from "@unigrad/unigrad/run";
 * import assert from "node:assert/strict";
 *
 * const e = estimateParameters(DEFAULT_CONFIG); // ResNet-20 and a 64→512→128 projector
 * assert.equal(e.projector, 64 * 512 + 512 * 128);
 * ```
 */
export function estimateParameters(c: TrainConfig): ParameterEstimate {
  const arch = BACKBONES[c.arch];
  const width = c.width === 0 ? arch.width : c.width;
  const backbone = arch.parameters * (width / arch.width) ** 2;
  const features = arch.featuresPerWidth * width;
  const sizes = [features, ...Array(c.projDepth - 1).fill(c.projHidden), c.projDim];
  let projector = 0;
  for (let i = 1; i < sizes.length; i++) projector += sizes[i - 1] * sizes[i];
  return { backbone, projector, bytes: (backbone + projector) * BYTES_PER_PARAMETER };
}

const GiB = 2 ** 30;

/**
 * Refuses a config whose networks would not fit in `availableBytes` of memory, before any is built.
 *
 * @param c A validated config.
 * @param availableBytes Memory the run may use. @default the machine's available memory
 * @throws {RangeError} Naming the sizes, the estimate and what is available.
 */
export function checkFitsMemory(c: TrainConfig, availableBytes: number = Deno.systemMemoryInfo().available): void {
  const e = estimateParameters(c);
  if (e.bytes <= availableBytes) return;
  const billions = (n: number) => `${(n / 1e9).toPrecision(3)} billion`;
  throw new RangeError(
    `Cannot build the networks: ${c.arch} (width ${c.width || "default"}) and a projector of ${c.projDepth} layers ` +
      `${c.projHidden} wide (output ${c.projDim}) have about ${billions(e.backbone + e.projector)} parameters, ` +
      `${(e.bytes / GiB).toFixed(1)} GiB in training, and this machine has ${(availableBytes / GiB).toFixed(1)} GiB ` +
      "available (smaller --proj-hidden, --proj-depth or --width)",
  );
}
