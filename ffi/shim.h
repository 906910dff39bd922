// unigrad shim: shared definitions for every translation unit.
//
// Rules (docs/architecture.md, "The shim"):
// - every exported function is extern "C", takes borrowed handles and plain scalars,
//   and returns a new owned handle (NULL on failure) or an int32_t status (0 / -1);
// - the body sits inside TS_NEW / TS_STATUS, which catch every C++ exception and store
//   libtorch's message (without backtrace) in a thread-local string read by ts_last_error.
#pragma once

#include <ATen/ATen.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <torch/version.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#define TS_EXPORT extern "C" __attribute__((visibility("default")))

/// Tensor handle: a heap-allocated at::Tensor (one reference to its storage).
using TsTensor = at::Tensor;

/// Tensor-list handle: persistent, for _foreach_* ops over parameter lists.
struct TsList {
  std::vector<at::Tensor> items;
};

void ts_set_error(const char* message);
TsTensor* ts_wrap(at::Tensor t);
TsList* ts_wrap_list(std::vector<at::Tensor> items);
extern std::atomic<int64_t> ts_live_tensors;
extern std::atomic<int64_t> ts_live_lists;

/// The catch clauses of every exported function: the message (without libtorch's backtrace) goes
/// to the thread-local error string; no exception crosses into Deno.
#define TS_CATCH                                            \
  catch (const c10::Error& e) {                             \
    ts_set_error(e.what_without_backtrace());               \
  }                                                         \
  catch (const std::exception& e) {                         \
    ts_set_error(e.what());                                 \
  }                                                         \
  catch (...) {                                             \
    ts_set_error("unknown C++ exception");                  \
  }

/// Returns a new owned handle for the expression, or NULL with the error stored.
#define TS_NEW(expr)                                        \
  try {                                                     \
    return ts_wrap(expr);                                   \
  }                                                         \
  TS_CATCH                                                  \
  return nullptr;

/// Returns a new owned list handle for the expression, or NULL with the error stored.
#define TS_NEW_LIST(expr)                                   \
  try {                                                     \
    return ts_wrap_list(expr);                              \
  }                                                         \
  TS_CATCH                                                  \
  return nullptr;

/// Runs the statements and returns 0, or -1 with the error stored.
#define TS_STATUS(...)                                      \
  try {                                                     \
    __VA_ARGS__;                                            \
    return 0;                                               \
  }                                                         \
  TS_CATCH                                                  \
  return -1;

/// Dims passed from TypeScript as (int64_t* data, int32_t n).
inline at::IntArrayRef ts_dims(const int64_t* data, int32_t n) {
  return at::IntArrayRef(data, static_cast<size_t>(n));
}

/// A number from TypeScript as a Scalar: integral when it is a whole number, so that integer tensors
/// stay integer (JavaScript cannot tell 2 from 2.0; a float tensor is unaffected either way).
inline at::Scalar ts_scalar(double s) {
  return std::isfinite(s) && s == std::nearbyint(s) && std::fabs(s) < 9.0e15 ? at::Scalar(static_cast<int64_t>(s))
                                                                            : at::Scalar(s);
}

/// Optional tensor argument: NULL means "none".
inline c10::optional<at::Tensor> ts_opt(const TsTensor* t) {
  return t ? c10::optional<at::Tensor>(*t) : c10::nullopt;
}

/// Device code from TypeScript: -1 is the CPU, k >= 0 is cuda:k.
inline at::Device ts_device(int32_t code) {
  if (code < 0) return at::Device(at::kCPU);
  TORCH_CHECK(at::detail::getCUDAHooks().hasCUDA(),
              "CUDA is not available (a CPU-only libtorch, or no visible GPU), so cuda:", code, " cannot be used");
  return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(code));
}

inline at::TensorOptions ts_options(int32_t dtype, int32_t device) {
  return at::TensorOptions().dtype(static_cast<at::ScalarType>(dtype)).device(ts_device(device));
}

/// Tensor array passed from TypeScript as (TsTensor** data, int32_t n).
inline std::vector<at::Tensor> ts_tensors(TsTensor* const* data, int32_t n) {
  std::vector<at::Tensor> out;
  out.reserve(n);
  for (int32_t i = 0; i < n; i++) out.push_back(data[i] ? *data[i] : at::Tensor());
  return out;
}
