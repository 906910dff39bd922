/**
 * CUDA runtime: availability, device count, synchronisation, cuDNN autotuning, autocast scopes and
 * memory statistics. Every function is safe to call on a CPU-only build.
 *
 * @module
 */
import { check, sym } from "./_handle.ts";
import { TorchError } from "./errors.ts";
import { DTYPE_CODE } from "./dtype.ts";

/** Whether a CUDA device is usable. */
export function isAvailable(): boolean {
  return sym.ts_cuda_is_available() === 1;
}

/** Number of CUDA devices (0 without CUDA). */
export function deviceCount(): number {
  return sym.ts_cuda_device_count();
}

/** Waits until all queued work on a CUDA device has finished. */
export function synchronize(device = 0): void {
  check(sym.ts_cuda_synchronize(device), "cuda.synchronize");
}

/** Turns cuDNN's autotuner on or off (as `torch.backends.cudnn.benchmark`). */
export function setCudnnBenchmark(on: boolean): void {
  check(sym.ts_set_cudnn_benchmark(on ? 1 : 0), "setCudnnBenchmark");
}

/** Bytes held by the CUDA caching allocator on one device. */
export interface MemoryStats {
  /** Bytes in live tensors. */
  allocated: number;
  /** Peak of `allocated` since the last reset. */
  peakAllocated: number;
  /** Bytes reserved from the driver. */
  reserved: number;
  /** Peak of `reserved` since the last reset. */
  peakReserved: number;
}

function cudaOnly(
  name: "ts_cuda_memory_stats" | "ts_cuda_reset_peak_memory_stats" | "ts_cuda_empty_cache" | "ts_cuda_set_device",
): void {
  if (sym[name] === null || !isAvailable()) {
    throw new TorchError(
      name.slice(3),
      "CUDA is not available (the shim was built without CUDA or no device is present)",
    );
  }
}

/** Memory statistics of a CUDA device. @throws {TorchError} Without CUDA. */
export function memoryStats(device = 0): MemoryStats {
  cudaOnly("ts_cuda_memory_stats");
  const out = new BigInt64Array(4);
  check(sym.ts_cuda_memory_stats!(device, out), "cuda.memoryStats");
  const [allocated, peakAllocated, reserved, peakReserved] = Array.from(out, Number);
  return { allocated, peakAllocated, reserved, peakReserved };
}

/** Resets the peak counters of a CUDA device. @throws {TorchError} Without CUDA. */
export function resetPeakMemoryStats(device = 0): void {
  cudaOnly("ts_cuda_reset_peak_memory_stats");
  check(sym.ts_cuda_reset_peak_memory_stats!(device), "cuda.resetPeakMemoryStats");
}

/**
 * Makes CUDA device `device` this process's current device, as `torch.cuda.set_device`: each rank of a
 * multi-GPU job calls it first, so that its CUDA context, its NCCL communicator and device-less calls
 * land on its own GPU instead of GPU 0.
 *
 * @throws {TorchError} Without CUDA, or with a device index out of range.
 */
export function setDevice(device: number): void {
  cudaOnly("ts_cuda_set_device");
  check(sym.ts_cuda_set_device!(device), "cuda.setDevice");
}

/** Returns cached, unused GPU memory to the driver. @throws {TorchError} Without CUDA. */
export function emptyCache(): void {
  cudaOnly("ts_cuda_empty_cache");
  check(sym.ts_cuda_empty_cache!(), "cuda.emptyCache");
}

// Autocast state per device type (0 CPU, 1 CUDA) as set by `autocast`; libtorch's defaults to start.
const autocastState = [
  { on: false, dtype: DTYPE_CODE.bfloat16 },
  { on: false, dtype: DTYPE_CODE.float16 },
];

/**
 * Runs `fn` under autocast (mixed precision, as `torch.autocast`): matrix products and convolutions
 * run in `dtype`, reductions stay in float32. When `fn` ends, the state of the enclosing region (or
 * autocast off) comes back, so nested regions, also for different devices, behave as in PyTorch.
 *
 * @param device "cuda" or "cpu".
 * @param fn The work to run (synchronous: the region ends when it returns).
 * @param dtype "bfloat16" (default) or "float16".
 * @returns What `fn` returns.
 * @throws {TypeError} For a device other than "cpu" or "cuda".
 *
 * @example Usage
 * ```ts
 * import { cuda, ones } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * using a = ones([2, 2]);
 * const inside = cuda.autocast("cpu", () => {
 *   using p = a.matmul(a);
 *   return p.dtype;
 * });
 * assert.equal(inside, "bfloat16");
 * using q = a.matmul(a);
 * assert.equal(q.dtype, "float32");
 * ```
 */
export function autocast<T>(device: "cuda" | "cpu", fn: () => T, dtype: "bfloat16" | "float16" = "bfloat16"): T {
  if (device !== "cuda" && device !== "cpu") {
    throw new TypeError(`Cannot autocast on device "${device}": expected "cpu" or "cuda"`);
  }
  const type = device === "cuda" ? 1 : 0;
  const outer = autocastState[type];
  const inner = { on: true, dtype: DTYPE_CODE[dtype] };
  check(sym.ts_set_autocast(type, 1, inner.dtype, 1), "autocast");
  autocastState[type] = inner;
  try {
    return fn();
  } finally {
    autocastState[type] = outer;
    sym.ts_set_autocast(type, outer.on ? 1 : 0, outer.dtype, -1);
  }
}
