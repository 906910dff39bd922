// unigrad shim: CUDA-only runtime functions (memory statistics, the current device). Compiled only when the
// libtorch found at build time has CUDA; the TypeScript side binds these symbols as optional.
#include "shim.h"

#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>

/// Writes [allocated, peak allocated, reserved, peak reserved] bytes of CUDA device d into out[4]; status.
TS_EXPORT int32_t ts_cuda_memory_stats(int32_t device, int64_t* out) {
  TS_STATUS(auto s = c10::cuda::CUDACachingAllocator::getDeviceStats(device);
            out[0] = s.allocated_bytes[0].current; out[1] = s.allocated_bytes[0].peak;
            out[2] = s.reserved_bytes[0].current; out[3] = s.reserved_bytes[0].peak)
}
/// Resets the peak counters of CUDA device d; status.
TS_EXPORT int32_t ts_cuda_reset_peak_memory_stats(int32_t device) {
  TS_STATUS(c10::cuda::CUDACachingAllocator::resetPeakStats(device))
}
/// Returns cached, unused blocks to the driver; status.
TS_EXPORT int32_t ts_cuda_empty_cache() { TS_STATUS(c10::cuda::CUDACachingAllocator::emptyCache()) }
/// Makes CUDA device d the current device of this thread (torch.cuda.set_device): where new CUDA
/// contexts, NCCL communicators and device-less CUDA calls go; status.
TS_EXPORT int32_t ts_cuda_set_device(int32_t device) {
  TS_STATUS(c10::cuda::set_device(static_cast<c10::DeviceIndex>(device)))
}
