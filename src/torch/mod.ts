/**
 * The tensor core: libtorch tensors, autograd, memory scopes and the CUDA runtime.
 *
 * @module
 */
export { type MemoryFormat, type Operand, Tensor, type ToOptions } from "./tensor.ts";
export * from "./creation.ts";
export * from "./functional.ts";
export { backward, type BackwardOptions, enableGrad, isGradEnabled, noGrad } from "./autograd.ts";
export * as autograd from "./autograd.ts";
export * as cuda from "./cuda.ts";
export type { MemoryStats } from "./cuda.ts";
export { getRngState, manualSeed, setRngState } from "./random.ts";
export { type Freeable, keep, scope } from "./scope.ts";
export { TensorList } from "./list.ts";
export { TorchError } from "./errors.ts";
export { checkDType, type DType, DTYPES, type HostArray, isFloating } from "./dtype.ts";
export type { Device } from "./device.ts";
export {
  getNumThreads,
  init,
  type InitOptions,
  liveLists,
  liveTensors,
  setNumThreads,
  torchVersion,
} from "./runtime.ts";
export { receivedSignal, type StopSignalName, watchSignals } from "./signals.ts";
export {
  BF16_FLAGS,
  CPU_CLASSES,
  type CpuCapabilities,
  cpuCapabilities,
  type CpuClass,
  cpuClassName,
  cpuClassOf,
  onednnIsaCap,
  parseCpuInfo,
} from "./cpu.ts";
export { type C10dBackend, c10dBackends, C10dGradSync, C10dGroup, type C10dGroupOptions } from "./c10d.ts";
