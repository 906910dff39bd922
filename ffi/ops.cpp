// unigrad shim: tensor ops over ATen and autograd (CPU and CUDA; no distributed code).
// Every function: borrowed handles in, one new owned handle out (NULL on failure), or an
// int32_t status (0 / -1) for in-place ops and metadata. Names are ts_ + the ATen op name.
// Shape comments: the result of each call; "allocates" is implied for every handle result.
#include "shim.h"

#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <ATen/core/grad_mode.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <torch/csrc/autograd/autograd.h>

#include <dlfcn.h>
#include <malloc.h>
#include <unistd.h>
#include <csignal>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <atomic>
#include <chrono>

// ---------------------------------------------------------------- handles, errors, runtime

static thread_local std::string ts_error;
std::atomic<int64_t> ts_live_tensors{0};
std::atomic<int64_t> ts_live_lists{0};

void ts_set_error(const char* message) { ts_error = message ? message : ""; }

TsTensor* ts_wrap(at::Tensor t) {
  auto* h = new at::Tensor(std::move(t));
  ts_live_tensors++;
  return h;
}

TsList* ts_wrap_list(std::vector<at::Tensor> items) {
  auto* l = new TsList{std::move(items)};
  ts_live_lists++;
  return l;
}

/// Last error message on this thread ("" if none); the pointer stays valid until the next error.
TS_EXPORT const char* ts_last_error() { return ts_error.c_str(); }
/// Number of live tensor handles (for leak tests).
TS_EXPORT int32_t ts_live_count() { return ts_live_tensors.load(); }
/// Number of live tensor-list handles (for leak tests).
TS_EXPORT int32_t ts_list_live_count() { return ts_live_lists.load(); }
/// Frees a tensor handle; NULL is ignored.
TS_EXPORT void ts_free(TsTensor* t) {
  if (!t) return;
  delete t;
  ts_live_tensors--;
}
/// Writes "major.minor.patch" of the libtorch the shim was built against into out[cap].
TS_EXPORT int32_t ts_version(char* out, int32_t cap) {
  TS_STATUS(std::snprintf(out, cap, "%d.%d.%d", TORCH_VERSION_MAJOR, TORCH_VERSION_MINOR, TORCH_VERSION_PATCH))
}
/// oneDNN's effective instruction set (`dnnl_cpu_isa_t`: 0x7 AVX2, 0x27 AVX-512, 0xe7 AVX-512 with bf16, …,
/// after ONEDNN_MAX_CPU_ISA), or -1 when this libtorch's oneDNN does not export the query by name.
TS_EXPORT int32_t ts_onednn_isa() {
  static const int32_t isa = [] {
    using Query = int (*)();
    auto query = reinterpret_cast<Query>(dlsym(RTLD_DEFAULT, "dnnl_get_effective_cpu_isa"));
    return query ? static_cast<int32_t>(query()) : -1;
  }();
  return isa;
}

/// The first SIGINT/SIGTERM since ts_signals_watch(1), or 0. A second one ends the process at once.
static volatile sig_atomic_t ts_signal = 0;
static struct sigaction ts_saved_int, ts_saved_term;
static bool ts_watching = false;

static void ts_on_signal(int sig) {
  if (ts_signal != 0) _exit(128 + sig);  // the second: 130 or 143 now, even inside a long computation
  ts_signal = sig;
}

/// Installs ts_on_signal for SIGINT and SIGTERM (the previous actions into `saved` when given); status.
static int32_t ts_install_signal_handlers(struct sigaction* saved_int, struct sigaction* saved_term) {
  struct sigaction action {};
  action.sa_handler = ts_on_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  return sigaction(SIGINT, &action, saved_int) == 0 && sigaction(SIGTERM, &action, saved_term) == 0 ? 0 : -1;
}

/// Puts ts_on_signal back for SIGINT and SIGTERM if something replaced it (Deno's runtime installs its
/// own handlers for them at moments of its choosing, e.g. while a stream is cancelled).
static void ts_reassert_signal_handlers() {
  struct sigaction now_int {}, now_term {};
  sigaction(SIGINT, nullptr, &now_int);
  sigaction(SIGTERM, nullptr, &now_term);
  if (now_int.sa_handler != ts_on_signal || now_term.sa_handler != ts_on_signal) {
    ts_install_signal_handlers(nullptr, nullptr);
  }
}

/// Generation of the current watch: the guard thread of an ended watch stops.
static std::atomic<int> ts_watch_generation{0};

/// 1: SIGINT and SIGTERM set a flag the caller polls (ts_signal_received), the second one calls
/// _exit(128 + signal); 0: the handlers from before. A native handler, because a JavaScript listener
/// cannot run while the thread is inside a long synchronous computation. While watching, a guard thread
/// puts the handler back within 20 ms of anything replacing it. Status.
TS_EXPORT int32_t ts_signals_watch(int32_t on) {
  if (on && !ts_watching) {
    ts_signal = 0;
    if (ts_install_signal_handlers(&ts_saved_int, &ts_saved_term) != 0) return -1;
    ts_watching = true;
    const int generation = ++ts_watch_generation;
    std::thread([generation] {
      while (ts_watch_generation.load() == generation) {
        ts_reassert_signal_handlers();
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }).detach();
  } else if (!on && ts_watching) {
    ++ts_watch_generation;  // the guard thread ends
    sigaction(SIGINT, &ts_saved_int, nullptr);
    sigaction(SIGTERM, &ts_saved_term, nullptr);
    ts_watching = false;
  }
  return 0;
}
/// The first signal received while watching (2 SIGINT, 15 SIGTERM), or 0.
TS_EXPORT int32_t ts_signal_received() { return ts_signal; }

/// `t` with NCHW strides. Not `contiguous()`: a 1×1 kernel or a 1-channel image in channels_last already
/// counts as contiguous (its size-1 dims' strides are ignored), and libtorch would still see channels_last.
static at::Tensor ts_nchw(const at::Tensor& t) {
  return t.suggest_memory_format() == at::MemoryFormat::ChannelsLast ? t.clone(at::MemoryFormat::Contiguous) : t;
}

/// True for a CPU convolution that must not run channels_last here (see ts_conv2d).
static bool ts_conv_avoids_channels_last(const at::Tensor& x, const at::Tensor& w, int32_t stride) {
  constexpr int64_t kMinSafeChannels = 16;
  if (stride < 2 || w.dim() != 4 || w.size(2) != 1 || w.size(3) != 1 || w.size(1) >= kMinSafeChannels) return false;
  if (!x.is_cpu()) return false;
  // UNIGRAD_ONEDNN_GUARD=off lets the tests show the defect is still there (tests/nn/onednn_guard_test.ts).
  static const bool off = [] {
    const char* v = std::getenv("UNIGRAD_ONEDNN_GUARD");
    return v && std::strcmp(v, "off") == 0;
  }();
  if (off) return false;
  return x.suggest_memory_format() == at::MemoryFormat::ChannelsLast ||
         w.suggest_memory_format() == at::MemoryFormat::ChannelsLast;
}

/// Sets the intra-op thread count.
TS_EXPORT int32_t ts_set_num_threads(int32_t n) { TS_STATUS(at::set_num_threads(n)) }
/// Intra-op thread count (>= 1).
TS_EXPORT int32_t ts_get_num_threads() { return at::get_num_threads(); }
/// Tunes glibc malloc for tensors: blocks up to mmap_threshold bytes come from the heap, and up to
/// trim_threshold free bytes stay mapped, so new tensors reuse touched pages instead of faulting in
/// fresh ones; status.
TS_EXPORT int32_t ts_mallopt(int32_t mmap_threshold, int32_t trim_threshold, int32_t top_pad) {
  TS_STATUS(TORCH_CHECK(mallopt(M_MMAP_THRESHOLD, mmap_threshold) == 1, "mallopt: mmap threshold refused");
            TORCH_CHECK(mallopt(M_TRIM_THRESHOLD, trim_threshold) == 1, "mallopt: trim threshold refused");
            TORCH_CHECK(mallopt(M_TOP_PAD, top_pad) == 1, "mallopt: top pad refused"))
}
/// Seeds the CPU generator and every CUDA generator.
TS_EXPORT int32_t ts_manual_seed(uint64_t seed) {
  TS_STATUS({
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_current_seed(seed);
  } if (at::detail::getCUDAHooks().hasCUDA()) {
    for (int i = 0; i < at::detail::getCUDAHooks().getNumGPUs(); i++) {
      auto gen = at::detail::getCUDAHooks().getDefaultCUDAGenerator(i);
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_current_seed(seed);
    }
  })
}
/// CPU generator state → new uint8 tensor [S].
TS_EXPORT TsTensor* ts_get_rng_state() {
  TS_NEW([] {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    return gen.get_state();
  }())
}
/// Restores the CPU generator from a state made by ts_get_rng_state; state borrowed.
TS_EXPORT int32_t ts_set_rng_state(TsTensor* state) {
  TS_STATUS(auto gen = at::detail::getDefaultCPUGenerator(); std::lock_guard<std::mutex> lock(gen.mutex());
            gen.set_state(*state))
}
/// 1 when CUDA is usable, else 0.
TS_EXPORT int32_t ts_cuda_is_available() {
  try {
    return at::detail::getCUDAHooks().hasCUDA() ? 1 : 0;
  } catch (...) {
    return 0;
  }
}
/// Number of CUDA devices (0 without CUDA).
TS_EXPORT int32_t ts_cuda_device_count() {
  try {
    return at::detail::getCUDAHooks().hasCUDA() ? at::detail::getCUDAHooks().getNumGPUs() : 0;
  } catch (...) {
    return 0;
  }
}
/// Waits for all work on a CUDA device.
TS_EXPORT int32_t ts_cuda_synchronize(int32_t device) {
  TS_STATUS(TORCH_CHECK(at::detail::getCUDAHooks().hasCUDA(), "CUDA is not available");
            at::detail::getCUDAHooks().deviceSynchronize(device))
}
/// Sets cuDNN's benchmark (autotuner) flag.
TS_EXPORT int32_t ts_set_cudnn_benchmark(int32_t on) { TS_STATUS(at::globalContext().setBenchmarkCuDNN(on != 0)) }
/// Sets autocast on a device type (0 CPU, 1 CUDA) on or off with the given dtype, and moves the
/// region nesting by `nesting` (+1 entering a region, -1 leaving it; leaving the outermost region
/// clears the cast cache). The caller restores the outer region's state when it leaves; status.
TS_EXPORT int32_t ts_set_autocast(int32_t device_type, int32_t enabled, int32_t dtype, int32_t nesting) {
  TS_STATUS({
    bool on = enabled != 0;
    auto type = static_cast<at::ScalarType>(dtype);
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
    auto device = device_type == 1 ? at::kCUDA : at::kCPU;
    at::autocast::set_autocast_enabled(device, on);
    at::autocast::set_autocast_dtype(device, type);
#else
    if (device_type == 1) {
      at::autocast::set_enabled(on);
      at::autocast::set_autocast_gpu_dtype(type);
    } else {
      at::autocast::set_cpu_enabled(on);
      at::autocast::set_autocast_cpu_dtype(type);
    }
#endif
    if (nesting > 0) at::autocast::increment_nesting();
    if (nesting < 0 && at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  })
}
/// Enables or disables gradient recording on this thread.
TS_EXPORT int32_t ts_set_grad_enabled(int32_t on) { TS_STATUS(at::GradMode::set_enabled(on != 0)) }
/// 1 when gradient recording is on, else 0.
TS_EXPORT int32_t ts_is_grad_enabled() { return at::GradMode::is_enabled() ? 1 : 0; }

// ---------------------------------------------------------------- create / move

/// Copies nbytes of host data into a new tensor of the given shape, dtype and device.
TS_EXPORT TsTensor* ts_from_blob(const void* data, int64_t nbytes, const int64_t* dims, int32_t ndim, int32_t dtype,
                                 int32_t device) {
  TS_NEW([&] {
    auto t = at::empty(ts_dims(dims, ndim), ts_options(dtype, -1));
    TORCH_CHECK(static_cast<int64_t>(t.nbytes()) == nbytes, "from_blob: expected ", t.nbytes(), " bytes, got ", nbytes);
    if (nbytes > 0) std::memcpy(t.data_ptr(), data, nbytes);
    return device < 0 ? t : t.to(ts_device(device));
  }())
}
/// Copies the tensor's elements (row-major, any device or layout) into out[nbytes]; status.
TS_EXPORT int32_t ts_copy_to_host(TsTensor* t, void* out, int64_t nbytes) {
  TS_STATUS(auto c = t->to(at::kCPU).contiguous();
            TORCH_CHECK(static_cast<int64_t>(c.nbytes()) == nbytes, "copy_to_host: tensor has ", c.nbytes(),
                        " bytes, buffer has ", nbytes);
            if (nbytes > 0) std::memcpy(out, c.data_ptr(), nbytes))
}
/// Writes the single element as a double into out[1]; status.
TS_EXPORT int32_t ts_item(TsTensor* t, double* out) { TS_STATUS(*out = t->item<double>()) }
/// Uninitialised [dims].
TS_EXPORT TsTensor* ts_empty(const int64_t* dims, int32_t n, int32_t dtype, int32_t device) {
  TS_NEW(at::empty(ts_dims(dims, n), ts_options(dtype, device)))
}
/// Filled with value: [dims].
TS_EXPORT TsTensor* ts_full(const int64_t* dims, int32_t n, double value, int32_t dtype, int32_t device) {
  TS_NEW(at::full(ts_dims(dims, n), ts_scalar(value), ts_options(dtype, device)))
}
/// Identity [n, m].
TS_EXPORT TsTensor* ts_eye(int32_t n, int32_t m, int32_t dtype, int32_t device) {
  TS_NEW(at::eye(n, m, ts_options(dtype, device)))
}
/// [ceil((end - start) / step)].
TS_EXPORT TsTensor* ts_arange(double start, double end, double step, int32_t dtype, int32_t device) {
  TS_NEW(at::arange(start, end, step, ts_options(dtype, device)))
}
/// [steps] evenly spaced from start to end inclusive.
TS_EXPORT TsTensor* ts_linspace(double start, double end, int32_t steps, int32_t dtype, int32_t device) {
  TS_NEW(at::linspace(start, end, steps, ts_options(dtype, device)))
}
/// Standard normal [dims].
TS_EXPORT TsTensor* ts_randn(const int64_t* dims, int32_t n, int32_t dtype, int32_t device) {
  TS_NEW(at::randn(ts_dims(dims, n), ts_options(dtype, device)))
}
/// Uniform [0, 1) [dims].
TS_EXPORT TsTensor* ts_rand(const int64_t* dims, int32_t n, int32_t dtype, int32_t device) {
  TS_NEW(at::rand(ts_dims(dims, n), ts_options(dtype, device)))
}
/// Integers in [low, high) [dims].
TS_EXPORT TsTensor* ts_randint(int64_t low, int64_t high, const int64_t* dims, int32_t n, int32_t dtype,
                               int32_t device) {
  TS_NEW(at::randint(low, high, ts_dims(dims, n), ts_options(dtype, device)))
}
/// Random permutation of 0..n-1 [n].
TS_EXPORT TsTensor* ts_randperm(int32_t n, int32_t dtype, int32_t device) {
  TS_NEW(at::randperm(n, ts_options(dtype, device)))
}
/// Same shape, filled with value; dtype -1 keeps the input's dtype.
TS_EXPORT TsTensor* ts_full_like(TsTensor* t, double value, int32_t dtype) {
  TS_NEW(dtype < 0 ? at::full_like(*t, value) : at::full_like(*t, value, t->options().dtype(static_cast<at::ScalarType>(dtype))))
}
/// Standard normal, same shape/dtype/device.
TS_EXPORT TsTensor* ts_randn_like(TsTensor* t) { TS_NEW(at::randn_like(*t)) }
/// Uniform [0, 1), same shape/dtype/device.
TS_EXPORT TsTensor* ts_rand_like(TsTensor* t) { TS_NEW(at::rand_like(*t)) }
/// Converts dtype and/or device (dtype -1 keeps it; device -2 keeps it); copy forces a new storage.
TS_EXPORT TsTensor* ts_to(TsTensor* t, int32_t dtype, int32_t device, int32_t non_blocking, int32_t copy) {
  TS_NEW(t->to(device == -2 ? t->device() : ts_device(device),
               dtype < 0 ? t->scalar_type() : static_cast<at::ScalarType>(dtype), non_blocking != 0, copy != 0))
}
/// Contiguous in the given memory format (0 contiguous, 1 channels_last). channels_last strides also where the
/// shape leaves the layout ambiguous (C = 1: `contiguous` keeps NCHW strides, which kernels read as NCHW),
/// as PyTorch's `.to(memory_format=torch.channels_last)` makes them; copies only where the layout changes.
TS_EXPORT TsTensor* ts_contiguous(TsTensor* t, int32_t format) {
  constexpr auto cl = at::MemoryFormat::ChannelsLast;
  TS_NEW(format == 1 ? t->contiguous(cl).to(t->options(), false, false, cl) : t->contiguous())
}
/// Re-lays out the tensor's data in place, keeping the tensor (its handle, autograd identity and any
/// optimizer holding it), as PyTorch's `p.data = p.to(memory_format=...)` in `Module.to`; status.
TS_EXPORT int32_t ts_set_memory_format_(TsTensor* t, int32_t format) {
  constexpr auto cl = at::MemoryFormat::ChannelsLast;
  TS_STATUS(auto c = format == 1 ? t->contiguous(cl).to(t->options(), false, false, cl) : t->contiguous();
            if (!c.is_same(*t)) t->set_data(c.detach()))
}
/// Copy with its own storage (keeps autograd history).
TS_EXPORT TsTensor* ts_clone(TsTensor* t) { TS_NEW(t->clone()) }
/// Shares storage, no autograd history.
TS_EXPORT TsTensor* ts_detach(TsTensor* t) { TS_NEW(t->detach()) }
/// Another handle to the same tensor (same storage, same autograd identity).
TS_EXPORT TsTensor* ts_shallow_clone(TsTensor* t) { TS_NEW(at::Tensor(*t)) }

// ---------------------------------------------------------------- metadata

/// Writes [dtype, device (-1 cpu | k), ndim, requires_grad, is_leaf, numel, contiguous, channels_last,
/// sizes...] into out[8 + 16]; status.
TS_EXPORT int32_t ts_info(TsTensor* t, int64_t* out) {
  TS_STATUS(TORCH_CHECK(t->defined(), "tensor is undefined"); TORCH_CHECK(t->dim() <= 16, "more than 16 dimensions");
            out[0] = static_cast<int64_t>(t->scalar_type()); out[1] = t->is_cuda() ? t->device().index() : -1;
            out[2] = t->dim(); out[3] = t->requires_grad(); out[4] = t->is_leaf(); out[5] = t->numel();
            out[6] = t->is_contiguous(); out[7] = t->is_contiguous(at::MemoryFormat::ChannelsLast);
            for (int64_t i = 0; i < t->dim(); i++) out[8 + i] = t->size(i))
}
/// Writes the strides into out[ndim]; status.
TS_EXPORT int32_t ts_strides(TsTensor* t, int64_t* out) {
  TS_STATUS(for (int64_t i = 0; i < t->dim(); i++) out[i] = t->stride(i))
}

// ---------------------------------------------------------------- math (elementwise)

#define TS_BINARY(name, expr) \
  TS_EXPORT TsTensor* ts_##name(TsTensor* a, TsTensor* b) { TS_NEW(expr) }
#define TS_BINARY_SCALAR(name, expr) \
  TS_EXPORT TsTensor* ts_##name(TsTensor* a, double s) { TS_NEW(expr) }
#define TS_UNARY(name, expr) \
  TS_EXPORT TsTensor* ts_##name(TsTensor* a) { TS_NEW(expr) }

/// a + alpha·b (broadcast).
TS_EXPORT TsTensor* ts_add(TsTensor* a, TsTensor* b, double alpha) { TS_NEW(at::add(*a, *b, ts_scalar(alpha))) }
/// a − alpha·b (broadcast).
TS_EXPORT TsTensor* ts_sub(TsTensor* a, TsTensor* b, double alpha) { TS_NEW(at::sub(*a, *b, ts_scalar(alpha))) }
TS_BINARY(mul, at::mul(*a, *b))             // a·b (broadcast)
TS_BINARY(div, at::div(*a, *b))             // a / b (true division, broadcast)
TS_BINARY(pow, at::pow(*a, *b))             // a ^ b
TS_BINARY(maximum, at::maximum(*a, *b))     // elementwise max
TS_BINARY(minimum, at::minimum(*a, *b))     // elementwise min
TS_BINARY(remainder, at::remainder(*a, *b)) // Python-style modulo
TS_BINARY(atan2, at::atan2(*a, *b))         // atan2(a, b)
TS_BINARY(eq, at::eq(*a, *b))               // bool
TS_BINARY(ne, at::ne(*a, *b))               // bool
TS_BINARY(lt, at::lt(*a, *b))               // bool
TS_BINARY(le, at::le(*a, *b))               // bool
TS_BINARY(gt, at::gt(*a, *b))               // bool
TS_BINARY(ge, at::ge(*a, *b))               // bool
TS_BINARY(logical_and, at::logical_and(*a, *b))
TS_BINARY(logical_or, at::logical_or(*a, *b))
TS_BINARY(logical_xor, at::logical_xor(*a, *b))
TS_BINARY_SCALAR(add_scalar, at::add(*a, ts_scalar(s)))
TS_BINARY_SCALAR(mul_scalar, at::mul(*a, ts_scalar(s)))
TS_BINARY_SCALAR(div_scalar, at::div(*a, ts_scalar(s)))
TS_BINARY_SCALAR(pow_scalar, at::pow(*a, ts_scalar(s)))
TS_BINARY_SCALAR(rsub_scalar, at::rsub(*a, ts_scalar(s)))          // s − a
TS_BINARY_SCALAR(remainder_scalar, at::remainder(*a, ts_scalar(s)))
TS_BINARY_SCALAR(eq_scalar, at::eq(*a, ts_scalar(s)))
TS_BINARY_SCALAR(ne_scalar, at::ne(*a, ts_scalar(s)))
TS_BINARY_SCALAR(lt_scalar, at::lt(*a, ts_scalar(s)))
TS_BINARY_SCALAR(le_scalar, at::le(*a, ts_scalar(s)))
TS_BINARY_SCALAR(gt_scalar, at::gt(*a, ts_scalar(s)))
TS_BINARY_SCALAR(ge_scalar, at::ge(*a, ts_scalar(s)))
TS_UNARY(neg, at::neg(*a))
TS_UNARY(abs, at::abs(*a))
TS_UNARY(exp, at::exp(*a))
TS_UNARY(log, at::log(*a))
TS_UNARY(log1p, at::log1p(*a))
TS_UNARY(expm1, at::expm1(*a))
TS_UNARY(sqrt, at::sqrt(*a))
TS_UNARY(rsqrt, at::rsqrt(*a))
TS_UNARY(square, at::square(*a))
TS_UNARY(reciprocal, at::reciprocal(*a))
TS_UNARY(sin, at::sin(*a))
TS_UNARY(cos, at::cos(*a))
TS_UNARY(tanh, at::tanh(*a))
TS_UNARY(sigmoid, at::sigmoid(*a))
TS_UNARY(relu, at::relu(*a))
TS_UNARY(gelu, at::gelu(*a))
TS_UNARY(silu, at::silu(*a))
TS_UNARY(erf, at::erf(*a))
TS_UNARY(sign, at::sign(*a))
TS_UNARY(floor, at::floor(*a))
TS_UNARY(ceil, at::ceil(*a))
TS_UNARY(round, at::round(*a))
TS_UNARY(trunc, at::trunc(*a))
TS_UNARY(logical_not, at::logical_not(*a))
TS_UNARY(isnan, at::isnan(*a))
TS_UNARY(isinf, at::isinf(*a))
TS_UNARY(isfinite, at::isfinite(*a))
/// Clamps to [lo, hi]; a NaN bound means "no bound".
TS_EXPORT TsTensor* ts_clamp(TsTensor* a, double lo, double hi) {
  TS_NEW(at::clamp(*a, std::isnan(lo) ? c10::optional<at::Scalar>() : c10::optional<at::Scalar>(lo),
                   std::isnan(hi) ? c10::optional<at::Scalar>() : c10::optional<at::Scalar>(hi)))
}
/// cond ? a : b (broadcast).
TS_EXPORT TsTensor* ts_where(TsTensor* cond, TsTensor* a, TsTensor* b) { TS_NEW(at::where(*cond, *a, *b)) }
/// a + w·(b − a).
TS_EXPORT TsTensor* ts_lerp(TsTensor* a, TsTensor* b, double w) { TS_NEW(at::lerp(*a, *b, w)) }
/// a + value·b·c.
TS_EXPORT TsTensor* ts_addcmul(TsTensor* a, TsTensor* b, TsTensor* c, double value) {
  TS_NEW(at::addcmul(*a, *b, *c, value))
}
/// Fills where mask is true with value (broadcast).
TS_EXPORT TsTensor* ts_masked_fill(TsTensor* a, TsTensor* mask, double value) { TS_NEW(at::masked_fill(*a, *mask, value)) }

// ---------------------------------------------------------------- reductions
// dims (n = 0 means all dims), keepdim as 0/1.

/// Sum over dims; dtype -1 keeps the default promotion.
TS_EXPORT TsTensor* ts_sum(TsTensor* a, const int64_t* dims, int32_t n, int32_t keepdim, int32_t dtype) {
  TS_NEW(at::sum(*a, ts_dims(dims, n), keepdim != 0,
                 dtype < 0 ? c10::optional<at::ScalarType>() : static_cast<at::ScalarType>(dtype)))
}
/// Mean over dims (all when n = 0).
TS_EXPORT TsTensor* ts_mean(TsTensor* a, const int64_t* dims, int32_t n, int32_t keepdim) {
  TS_NEW(n == 0 && !keepdim ? at::mean(*a) : at::mean(*a, ts_dims(dims, n), keepdim != 0))
}
/// Product of all elements [].
TS_UNARY(prod, at::prod(*a))
/// Max over dims (all when n = 0).
TS_EXPORT TsTensor* ts_amax(TsTensor* a, const int64_t* dims, int32_t n, int32_t keepdim) {
  TS_NEW(at::amax(*a, ts_dims(dims, n), keepdim != 0))
}
/// Min over dims (all when n = 0).
TS_EXPORT TsTensor* ts_amin(TsTensor* a, const int64_t* dims, int32_t n, int32_t keepdim) {
  TS_NEW(at::amin(*a, ts_dims(dims, n), keepdim != 0))
}
/// Index of the max along dim (int64).
TS_EXPORT TsTensor* ts_argmax(TsTensor* a, int32_t dim, int32_t keepdim) { TS_NEW(at::argmax(*a, dim, keepdim != 0)) }
/// Index of the min along dim (int64).
TS_EXPORT TsTensor* ts_argmin(TsTensor* a, int32_t dim, int32_t keepdim) { TS_NEW(at::argmin(*a, dim, keepdim != 0)) }
/// Variance over dims with Bessel's correction when unbiased.
TS_EXPORT TsTensor* ts_var(TsTensor* a, const int64_t* dims, int32_t n, int32_t unbiased, int32_t keepdim) {
  TS_NEW(at::var(*a, at::OptionalIntArrayRef(ts_dims(dims, n)), unbiased != 0, keepdim != 0))
}
/// Standard deviation over dims with Bessel's correction when unbiased.
TS_EXPORT TsTensor* ts_std(TsTensor* a, const int64_t* dims, int32_t n, int32_t unbiased, int32_t keepdim) {
  TS_NEW(at::std(*a, at::OptionalIntArrayRef(ts_dims(dims, n)), unbiased != 0, keepdim != 0))
}
/// log Σ exp over dims.
TS_EXPORT TsTensor* ts_logsumexp(TsTensor* a, const int64_t* dims, int32_t n, int32_t keepdim) {
  TS_NEW(at::logsumexp(*a, ts_dims(dims, n), keepdim != 0))
}
/// p-norm over dims (all when n = 0).
TS_EXPORT TsTensor* ts_linalg_vector_norm(TsTensor* a, double p, const int64_t* dims, int32_t n, int32_t keepdim) {
  TS_NEW(at::linalg_vector_norm(*a, p, n == 0 ? at::OptionalIntArrayRef() : at::OptionalIntArrayRef(ts_dims(dims, n)),
                                keepdim != 0, c10::nullopt))
}
/// Cumulative sum along dim.
TS_EXPORT TsTensor* ts_cumsum(TsTensor* a, int32_t dim) { TS_NEW(at::cumsum(*a, dim)) }
/// True when all elements are non-zero [].
TS_UNARY(all, at::all(*a))
/// True when any element is non-zero [].
TS_UNARY(any, at::any(*a))
/// Values and indices of the max along dim → out[2]; status.
TS_EXPORT int32_t ts_max_dim(TsTensor* a, int32_t dim, int32_t keepdim, TsTensor** out) {
  TS_STATUS(auto r = at::max(*a, dim, keepdim != 0); out[0] = ts_wrap(std::get<0>(r)); out[1] = ts_wrap(std::get<1>(r)))
}
/// k largest (or smallest) along dim: values and indices → out[2]; status.
TS_EXPORT int32_t ts_topk(TsTensor* a, int32_t k, int32_t dim, int32_t largest, int32_t sorted, TsTensor** out) {
  TS_STATUS(auto r = at::topk(*a, k, dim, largest != 0, sorted != 0); out[0] = ts_wrap(std::get<0>(r));
            out[1] = ts_wrap(std::get<1>(r)))
}
/// Sorted values and indices along dim → out[2]; status.
TS_EXPORT int32_t ts_sort(TsTensor* a, int32_t dim, int32_t descending, TsTensor** out) {
  TS_STATUS(auto r = at::sort(*a, dim, descending != 0); out[0] = ts_wrap(std::get<0>(r)); out[1] = ts_wrap(std::get<1>(r)))
}

// ---------------------------------------------------------------- shape (views share storage)

/// [dims] (view when possible, else copy).
TS_EXPORT TsTensor* ts_reshape(TsTensor* a, const int64_t* dims, int32_t n) { TS_NEW(a->reshape(ts_dims(dims, n))) }
/// [dims] view; fails when the strides do not allow it.
TS_EXPORT TsTensor* ts_view(TsTensor* a, const int64_t* dims, int32_t n) { TS_NEW(a->view(ts_dims(dims, n))) }
/// Swaps two dims (view).
TS_EXPORT TsTensor* ts_transpose(TsTensor* a, int32_t d0, int32_t d1) { TS_NEW(a->transpose(d0, d1)) }
/// Reorders dims (view).
TS_EXPORT TsTensor* ts_permute(TsTensor* a, const int64_t* dims, int32_t n) { TS_NEW(a->permute(ts_dims(dims, n))) }
/// Removes size-1 dim (all size-1 dims when dim = INT32_MIN).
TS_EXPORT TsTensor* ts_squeeze(TsTensor* a, int32_t dim) { TS_NEW(dim == INT32_MIN ? a->squeeze() : a->squeeze(dim)) }
/// Inserts a size-1 dim.
TS_EXPORT TsTensor* ts_unsqueeze(TsTensor* a, int32_t dim) { TS_NEW(a->unsqueeze(dim)) }
/// [.., length, ..] slice along dim from start (view).
TS_EXPORT TsTensor* ts_narrow(TsTensor* a, int32_t dim, int32_t start, int32_t length) {
  TS_NEW(a->narrow(dim, start, length))
}
/// Strided slice along dim [start, end) step (view).
TS_EXPORT TsTensor* ts_slice(TsTensor* a, int32_t dim, int32_t start, int32_t end, int32_t step) {
  TS_NEW(a->slice(dim, start, end, step))
}
/// Picks one index along dim, dropping the dim (view).
TS_EXPORT TsTensor* ts_select(TsTensor* a, int32_t dim, int32_t index) { TS_NEW(a->select(dim, index)) }
/// Broadcasts to [dims] (-1 keeps a size; view).
TS_EXPORT TsTensor* ts_expand(TsTensor* a, const int64_t* dims, int32_t n) { TS_NEW(a->expand(ts_dims(dims, n))) }
/// Tiles [dims * repeats].
TS_EXPORT TsTensor* ts_repeat(TsTensor* a, const int64_t* dims, int32_t n) { TS_NEW(a->repeat(ts_dims(dims, n))) }
/// Flattens dims start..end into one.
TS_EXPORT TsTensor* ts_flatten(TsTensor* a, int32_t start, int32_t end) { TS_NEW(a->flatten(start, end)) }
/// Reverses the order along dims.
TS_EXPORT TsTensor* ts_flip(TsTensor* a, const int64_t* dims, int32_t n) { TS_NEW(at::flip(*a, ts_dims(dims, n))) }
/// Rolls along dims by shifts.
TS_EXPORT TsTensor* ts_roll(TsTensor* a, const int64_t* shifts, const int64_t* dims, int32_t n) {
  TS_NEW(at::roll(*a, ts_dims(shifts, n), ts_dims(dims, n)))
}
/// Concatenates n tensors along dim.
TS_EXPORT TsTensor* ts_cat(TsTensor* const* ts, int32_t n, int32_t dim) { TS_NEW(at::cat(ts_tensors(ts, n), dim)) }
/// Stacks n tensors along a new dim.
TS_EXPORT TsTensor* ts_stack(TsTensor* const* ts, int32_t n, int32_t dim) { TS_NEW(at::stack(ts_tensors(ts, n), dim)) }
/// Rows picked along dim by an int64 index [.., K, ..].
TS_EXPORT TsTensor* ts_index_select(TsTensor* a, int32_t dim, TsTensor* index) { TS_NEW(at::index_select(*a, dim, *index)) }
/// out[i][j] = a[index[i][j]][j] along dim; same shape as index.
TS_EXPORT TsTensor* ts_gather(TsTensor* a, int32_t dim, TsTensor* index) { TS_NEW(at::gather(*a, dim, *index)) }
/// Copy of a with src added at index along dim.
TS_EXPORT TsTensor* ts_scatter_add(TsTensor* a, int32_t dim, TsTensor* index, TsTensor* src) {
  TS_NEW(at::scatter_add(*a, dim, *index, *src))
}
/// Copy of a with src written at index along dim.
TS_EXPORT TsTensor* ts_scatter(TsTensor* a, int32_t dim, TsTensor* index, TsTensor* src) {
  TS_NEW(at::scatter(*a, dim, *index, *src))
}
/// Elements where mask is true [K].
TS_EXPORT TsTensor* ts_masked_select(TsTensor* a, TsTensor* mask) { TS_NEW(at::masked_select(*a, *mask)) }
/// Indices of non-zero elements [K, ndim].
TS_UNARY(nonzero, at::nonzero(*a))
/// Lower triangle (diagonal offset k).
TS_EXPORT TsTensor* ts_tril(TsTensor* a, int32_t k) { TS_NEW(at::tril(*a, k)) }
/// Upper triangle (diagonal offset k).
TS_EXPORT TsTensor* ts_triu(TsTensor* a, int32_t k) { TS_NEW(at::triu(*a, k)) }
/// 1-D → diagonal matrix, 2-D → its diagonal.
TS_EXPORT TsTensor* ts_diag(TsTensor* a, int32_t k) { TS_NEW(at::diag(*a, k)) }
/// One-hot int64 [.., classes].
TS_EXPORT TsTensor* ts_one_hot(TsTensor* a, int32_t classes) { TS_NEW(at::one_hot(*a, classes)) }
/// Pads the last dims with a constant (pad pairs from the last dim backwards).
TS_EXPORT TsTensor* ts_constant_pad_nd(TsTensor* a, const int64_t* pad, int32_t n, double value) {
  TS_NEW(at::constant_pad_nd(*a, ts_dims(pad, n), value))
}
/// Splits into chunks along dim → list handle.
TS_EXPORT TsList* ts_chunk(TsTensor* a, int32_t chunks, int32_t dim) { TS_NEW_LIST(at::chunk(*a, chunks, dim)) }

// ---------------------------------------------------------------- linear algebra

TS_BINARY(matmul, at::matmul(*a, *b)) // broadcast batched matrix product
TS_BINARY(mm, at::mm(*a, *b))         // [N, K] · [K, M] → [N, M]
TS_BINARY(bmm, at::bmm(*a, *b))       // [B, N, K] · [B, K, M] → [B, N, M]
TS_BINARY(outer, at::outer(*a, *b))   // [N] ⊗ [M] → [N, M]
/// Eigen-decomposition of a symmetric matrix: ascending eigenvalues [.., N] and eigenvectors
/// [.., N, N] (columns) → out[2]; status.
TS_EXPORT int32_t ts_linalg_eigh(TsTensor* a, TsTensor** out) {
  TS_STATUS(auto r = at::linalg_eigh(*a, "L"); out[0] = ts_wrap(std::get<0>(r)); out[1] = ts_wrap(std::get<1>(r)))
}
/// Singular values [.., min(N, M)].
TS_UNARY(linalg_svdvals, at::linalg_svdvals(*a))
/// Inverse of a square matrix.
TS_UNARY(linalg_inv, at::linalg_inv(*a))

// ---------------------------------------------------------------- nn

/// [N, C, H, W] * weight [O, C/g, kh, kw] (+ bias [O]) → [N, O, H', W'].
///
/// oneDNN 2.6.3 (Debian's libdnnl2, called by libtorch 1.13) writes past its reduce-to-unit-stride workspace
/// in the backward-to-weights pass of a channels_last 1×1 convolution with stride 2 and fewer input channels
/// than its channel block (oneDNN issue #6035): with AVX2 kernels (an AVX2-only CPU, or ONEDNN_MAX_CPU_ISA=AVX2)
/// glibc then aborts ("free(): invalid pointer", "double free or corruption") or the process spins.
/// scripts/onednn_conv_probe.py measured it for every cin 1–7, any cout, sizes 14–32; cin ≥ 8, 3×3 kernels,
/// stride 1 and NCHW are clean. The AVX-512 kernel (block 16) measured clean, but the upstream fix patches
/// it too, so the guard holds on every CPU: such a convolution runs in NCHW (input and weight copied to
/// NCHW strides: libtorch picks the channels_last kernels when either is channels_last), its output given
/// back in the input's layout. Only tiny networks have such layers (a ResNet-20 below width 16).
TS_EXPORT TsTensor* ts_conv2d(TsTensor* x, TsTensor* w, TsTensor* b, int32_t stride, int32_t padding, int32_t dilation,
                              int32_t groups) {
  TS_NEW(([&] {
    const at::Tensor& in = *x;
    const at::Tensor& weight = *w;
    if (ts_conv_avoids_channels_last(in, weight, stride)) {
      auto y = at::conv2d(ts_nchw(in), ts_nchw(weight), ts_opt(b), {stride, stride}, {padding, padding},
                          {dilation, dilation}, groups);
      return y.contiguous(at::MemoryFormat::ChannelsLast);
    }
    return at::conv2d(in, weight, ts_opt(b), {stride, stride}, {padding, padding}, {dilation, dilation}, groups);
  }()))
}
/// Batch norm over [N, C, ...]; in training mode updates running_mean/var in place (if given).
TS_EXPORT TsTensor* ts_batch_norm(TsTensor* x, TsTensor* w, TsTensor* b, TsTensor* rm, TsTensor* rv, int32_t training,
                                  double momentum, double eps) {
  TS_NEW(at::batch_norm(*x, ts_opt(w), ts_opt(b), ts_opt(rm), ts_opt(rv), training != 0, momentum, eps, true))
}
/// Layer norm over the last n dims.
TS_EXPORT TsTensor* ts_layer_norm(TsTensor* x, const int64_t* shape, int32_t n, TsTensor* w, TsTensor* b, double eps) {
  TS_NEW(at::layer_norm(*x, ts_dims(shape, n), ts_opt(w), ts_opt(b), eps))
}
/// Max pooling [N, C, H, W] → [N, C, H', W'].
TS_EXPORT TsTensor* ts_max_pool2d(TsTensor* x, int32_t kernel, int32_t stride, int32_t padding, int32_t ceil_mode) {
  TS_NEW(at::max_pool2d(*x, {kernel, kernel}, {stride, stride}, {padding, padding}, {1, 1}, ceil_mode != 0))
}
/// Average pooling [N, C, H, W] → [N, C, H', W'].
TS_EXPORT TsTensor* ts_avg_pool2d(TsTensor* x, int32_t kernel, int32_t stride, int32_t padding) {
  TS_NEW(at::avg_pool2d(*x, {kernel, kernel}, {stride, stride}, {padding, padding}))
}
/// Adaptive average pooling [N, C, H, W] → [N, C, h, w].
TS_EXPORT TsTensor* ts_adaptive_avg_pool2d(TsTensor* x, int32_t h, int32_t w) { TS_NEW(at::adaptive_avg_pool2d(*x, {h, w})) }
/// x [.., I] · weight [O, I]ᵀ (+ bias [O]) → [.., O].
TS_EXPORT TsTensor* ts_linear(TsTensor* x, TsTensor* w, TsTensor* b) { TS_NEW(at::linear(*x, *w, ts_opt(b))) }
/// Softmax along dim.
TS_EXPORT TsTensor* ts_softmax(TsTensor* x, int32_t dim) { TS_NEW(at::softmax(*x, dim)) }
/// Log-softmax along dim.
TS_EXPORT TsTensor* ts_log_softmax(TsTensor* x, int32_t dim) { TS_NEW(at::log_softmax(*x, dim)) }
/// Cross entropy of logits [N, C] against int64 targets [N] (reduction 0 none, 1 mean, 2 sum).
TS_EXPORT TsTensor* ts_cross_entropy_loss(TsTensor* x, TsTensor* target, int32_t reduction, double label_smoothing) {
  TS_NEW(at::cross_entropy_loss(*x, *target, c10::nullopt, reduction, -100, label_smoothing))
}
/// Mean squared error (reduction 0 none, 1 mean, 2 sum).
TS_EXPORT TsTensor* ts_mse_loss(TsTensor* x, TsTensor* target, int32_t reduction) { TS_NEW(at::mse_loss(*x, *target, reduction)) }
/// Sampling grid [N, H, W, 2] from affine matrices theta [N, 2, 3] for an output of [N, C, H, W].
TS_EXPORT TsTensor* ts_affine_grid_generator(TsTensor* theta, const int64_t* size, int32_t n, int32_t align_corners) {
  TS_NEW(at::affine_grid_generator(*theta, ts_dims(size, n), align_corners != 0))
}
/// Samples x [N, C, H, W] at grid [N, h, w, 2] → [N, C, h, w] (mode 0 bilinear, 1 nearest;
/// padding 0 zeros, 1 border, 2 reflection).
TS_EXPORT TsTensor* ts_grid_sampler(TsTensor* x, TsTensor* grid, int32_t mode, int32_t padding, int32_t align_corners) {
  TS_NEW(at::grid_sampler(*x, *grid, mode, padding, align_corners != 0))
}
/// Bilinear resize [N, C, H, W] → [N, C, h, w].
TS_EXPORT TsTensor* ts_upsample_bilinear2d(TsTensor* x, int32_t h, int32_t w, int32_t align_corners) {
  TS_NEW(at::upsample_bilinear2d(*x, {h, w}, align_corners != 0, c10::nullopt, c10::nullopt))
}
/// Nearest resize [N, C, H, W] → [N, C, h, w].
TS_EXPORT TsTensor* ts_upsample_nearest2d(TsTensor* x, int32_t h, int32_t w) {
  TS_NEW(at::upsample_nearest2d(*x, {h, w}, c10::nullopt, c10::nullopt))
}
/// Dropout with probability p (identity when not training).
TS_EXPORT TsTensor* ts_dropout(TsTensor* x, double p, int32_t training) { TS_NEW(at::dropout(*x, p, training != 0)) }

// ---------------------------------------------------------------- autograd

/// Sets requires_grad on a leaf; status.
TS_EXPORT int32_t ts_requires_grad_(TsTensor* t, int32_t on) { TS_STATUS(t->requires_grad_(on != 0)) }
/// Writes a new handle to t.grad into out[1] (NULL when there is none); status.
TS_EXPORT int32_t ts_grad(TsTensor* t, TsTensor** out) {
  TS_STATUS(const auto& g = t->grad(); out[0] = g.defined() ? ts_wrap(g) : nullptr)
}
/// Sets t.grad to g (NULL clears it); status.
TS_EXPORT int32_t ts_set_grad(TsTensor* t, TsTensor* g) { TS_STATUS(t->mutable_grad() = g ? *g : at::Tensor()) }
/// Keeps .grad on a non-leaf during backward; status.
TS_EXPORT int32_t ts_retain_grad(TsTensor* t) { TS_STATUS(t->retain_grad()) }
/// Backward from n tensors with optional seed gradients (grads may hold NULLs); status.
TS_EXPORT int32_t ts_backward(TsTensor* const* ts, TsTensor* const* grads, int32_t n, int32_t retain_graph,
                              int32_t create_graph) {
  TS_STATUS(torch::autograd::backward(ts_tensors(ts, n), grads ? ts_tensors(grads, n) : std::vector<at::Tensor>(),
                                      c10::optional<bool>(retain_graph != 0), create_graph != 0))
}
/// Gradients of outputs w.r.t. inputs → list handle (undefined entries when allow_unused).
TS_EXPORT TsList* ts_autograd_grad(TsTensor* const* outputs, TsTensor* const* grads, int32_t n_out,
                                   TsTensor* const* inputs, int32_t n_in, int32_t retain_graph, int32_t create_graph,
                                   int32_t allow_unused) {
  TS_NEW_LIST(torch::autograd::grad(ts_tensors(outputs, n_out), ts_tensors(inputs, n_in),
                                    grads ? ts_tensors(grads, n_out) : std::vector<at::Tensor>(),
                                    c10::optional<bool>(retain_graph != 0), create_graph != 0, allow_unused != 0))
}

// ---------------------------------------------------------------- in-place (status results)

/// a += alpha·b.
TS_EXPORT int32_t ts_add_(TsTensor* a, TsTensor* b, double alpha) { TS_STATUS(a->add_(*b, ts_scalar(alpha))) }
/// a −= alpha·b.
TS_EXPORT int32_t ts_sub_(TsTensor* a, TsTensor* b, double alpha) { TS_STATUS(a->sub_(*b, ts_scalar(alpha))) }
/// a *= b.
TS_EXPORT int32_t ts_mul_(TsTensor* a, TsTensor* b) { TS_STATUS(a->mul_(*b)) }
/// a /= b.
TS_EXPORT int32_t ts_div_(TsTensor* a, TsTensor* b) { TS_STATUS(a->div_(*b)) }
/// a += s.
TS_EXPORT int32_t ts_add_scalar_(TsTensor* a, double s) { TS_STATUS(a->add_(ts_scalar(s))) }
/// a *= s.
TS_EXPORT int32_t ts_mul_scalar_(TsTensor* a, double s) { TS_STATUS(a->mul_(ts_scalar(s))) }
/// a = s.
TS_EXPORT int32_t ts_fill_(TsTensor* a, double s) { TS_STATUS(a->fill_(ts_scalar(s))) }
/// a = 0.
TS_EXPORT int32_t ts_zero_(TsTensor* a) { TS_STATUS(a->zero_()) }
/// a = b (broadcast, any dtype/device).
TS_EXPORT int32_t ts_copy_(TsTensor* a, TsTensor* b) { TS_STATUS(a->copy_(*b)) }
/// a = clamp(a, lo, hi); NaN means no bound.
TS_EXPORT int32_t ts_clamp_(TsTensor* a, double lo, double hi) {
  TS_STATUS(a->clamp_(std::isnan(lo) ? c10::optional<at::Scalar>() : c10::optional<at::Scalar>(lo),
                      std::isnan(hi) ? c10::optional<at::Scalar>() : c10::optional<at::Scalar>(hi)))
}
/// a += value·b·c.
TS_EXPORT int32_t ts_addcmul_(TsTensor* a, TsTensor* b, TsTensor* c, double value) { TS_STATUS(a->addcmul_(*b, *c, value)) }
/// a += value·b/c.
TS_EXPORT int32_t ts_addcdiv_(TsTensor* a, TsTensor* b, TsTensor* c, double value) { TS_STATUS(a->addcdiv_(*b, *c, value)) }
/// a += w·(b − a).
TS_EXPORT int32_t ts_lerp_(TsTensor* a, TsTensor* b, double w) { TS_STATUS(a->lerp_(*b, w)) }
/// a where mask is true = value.
TS_EXPORT int32_t ts_masked_fill_(TsTensor* a, TsTensor* mask, double value) { TS_STATUS(a->masked_fill_(*mask, value)) }
/// a[index] along dim = src.
TS_EXPORT int32_t ts_index_copy_(TsTensor* a, int32_t dim, TsTensor* index, TsTensor* src) {
  TS_STATUS(a->index_copy_(dim, *index, *src))
}
/// a = uniform [lo, hi).
TS_EXPORT int32_t ts_uniform_(TsTensor* a, double lo, double hi) { TS_STATUS(a->uniform_(lo, hi)) }
/// a = normal(mean, std).
TS_EXPORT int32_t ts_normal_(TsTensor* a, double mean, double std) { TS_STATUS(a->normal_(mean, std)) }
/// a = max(a, 0).
TS_EXPORT int32_t ts_relu_(TsTensor* a) { TS_STATUS(a->relu_()) }
/// a /= s (true division).
TS_EXPORT int32_t ts_div_scalar_(TsTensor* a, double s) { TS_STATUS(a->div_(s)) }

// ---------------------------------------------------------------- tensor lists (_foreach_)

/// New list handle over n borrowed tensors (the list holds its own references).
TS_EXPORT TsList* ts_list_new(TsTensor* const* ts, int32_t n) { TS_NEW_LIST(ts_tensors(ts, n)) }
/// Frees a list handle; NULL is ignored.
TS_EXPORT void ts_list_free(TsList* l) {
  if (!l) return;
  delete l;
  ts_live_lists--;
}
/// Number of entries (>= 0).
TS_EXPORT int32_t ts_list_len(TsList* l) { return static_cast<int32_t>(l->items.size()); }
/// New handle to entry i (NULL with no error when the entry is undefined).
TS_EXPORT TsTensor* ts_list_get(TsList* l, int32_t i) {
  try {
    TORCH_CHECK(i >= 0 && i < static_cast<int32_t>(l->items.size()), "list index ", i, " out of range");
    return l->items[i].defined() ? ts_wrap(l->items[i]) : nullptr;
  }
  TS_CATCH
  return nullptr;
}
/// New list of each entry's .grad; an entry without a gradient fails unless zeros = 1 (then a zero tensor).
TS_EXPORT TsList* ts_list_grads(TsList* l, int32_t zeros) {
  TS_NEW_LIST([&] {
    std::vector<at::Tensor> grads;
    for (const auto& t : l->items) {
      TORCH_CHECK(t.grad().defined() || zeros, "list_grads: a tensor has no gradient");
      grads.push_back(t.grad().defined() ? t.grad() : at::zeros_like(t));
    }
    return grads;
  }())
}
/// Each entry's .grad reset to undefined (set_to_none); status.
TS_EXPORT int32_t ts_list_zero_grad(TsList* l) { TS_STATUS(for (auto& t : l->items) t.mutable_grad().reset()) }
/// x[i] += alpha·y[i].
TS_EXPORT int32_t ts_foreach_add_(TsList* x, TsList* y, double alpha) { TS_STATUS(at::_foreach_add_(x->items, y->items, alpha)) }
/// x[i] *= s.
TS_EXPORT int32_t ts_foreach_mul_scalar_(TsList* x, double s) { TS_STATUS(at::_foreach_mul_(x->items, s)) }
/// x[i] *= y[i].
TS_EXPORT int32_t ts_foreach_mul_(TsList* x, TsList* y) { TS_STATUS(at::_foreach_mul_(x->items, y->items)) }
/// x[i] += s.
TS_EXPORT int32_t ts_foreach_add_scalar_(TsList* x, double s) { TS_STATUS(at::_foreach_add_(x->items, s)) }
/// x[i] = 0.
TS_EXPORT int32_t ts_foreach_zero_(TsList* x) { TS_STATUS(at::_foreach_zero_(x->items)) }
/// x[i] += value·y[i]·z[i].
TS_EXPORT int32_t ts_foreach_addcmul_(TsList* x, TsList* y, TsList* z, double value) {
  TS_STATUS(at::_foreach_addcmul_(x->items, y->items, z->items, value))
}
/// x[i] += value·y[i]/z[i].
TS_EXPORT int32_t ts_foreach_addcdiv_(TsList* x, TsList* y, TsList* z, double value) {
  TS_STATUS(at::_foreach_addcdiv_(x->items, y->items, z->items, value))
}
/// x[i] = sqrt(x[i]).
TS_EXPORT int32_t ts_foreach_sqrt_(TsList* x) { TS_STATUS(at::_foreach_sqrt_(x->items)) }
/// x[i] += w·(y[i] − x[i]) (1.13 has no _foreach_lerp_: x·(1 − w) + w·y instead).
TS_EXPORT int32_t ts_foreach_lerp_(TsList* x, TsList* y, double w) {
#if TORCH_VERSION_MAJOR >= 2
  TS_STATUS(at::_foreach_lerp_(x->items, y->items, w))
#else
  TS_STATUS(at::_foreach_mul_(x->items, 1.0 - w); at::_foreach_add_(x->items, y->items, w))
#endif
}
/// x[i] = y[i] (1.13 has no _foreach_copy_).
TS_EXPORT int32_t ts_foreach_copy_(TsList* x, TsList* y) {
  TS_STATUS(TORCH_CHECK(x->items.size() == y->items.size(), "foreach_copy_: lists of ", x->items.size(), " and ",
                        y->items.size(), " tensors");
            for (size_t i = 0; i < x->items.size(); i++) x->items[i].copy_(y->items[i]))
}
/// 2-norm of each entry → list of scalars.
TS_EXPORT TsList* ts_foreach_norm(TsList* x) { TS_NEW_LIST(at::_foreach_norm(x->items, 2)) }
