// unigrad shim: c10d collectives (process groups over a TCPStore; Gloo on CPU, NCCL on CUDA).
// Compiled only when libtorch ships the c10d headers; the TypeScript side binds these symbols as optional.
//
// - Gloo needs Debian's libgloo-dev and -DUSE_C10D_GLOO (the PyTorch wheel ships no gloo headers);
//   NCCL needs a CUDA wheel, its nccl.h and -DUSE_C10D_NCCL. ts_dist_backends says which were compiled.
// - In 1.13 the backends derive from c10d::ProcessGroup, in 2.x from c10d::Backend (ProcessGroup became a
//   dispatching wrapper): we call the backend classes directly through their common base.
// - Every collective waits with the group's timeout; a dead or missing peer becomes an error that names
//   the operation and this rank. Gloo has no AVG reduce: callers divide (or pass a scale).
// - Differentiable collectives (all-reduce, all-gather) are autograd nodes written here in C++, whose
//   backward runs the matching collective: no JavaScript callbacks from libtorch.
#include "shim.h"

#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/functions/utils.h>
#include <torch/csrc/autograd/utils/lambda_post_hook.h>
#include <torch/csrc/autograd/variable.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#if defined(USE_C10D_GLOO) && __has_include(<gloo/algorithm.h>)
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#define TS_HAVE_GLOO 1
#else
#define TS_HAVE_GLOO 0
#endif

#if defined(USE_C10D_NCCL) && __has_include(<nccl.h>)
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#define TS_HAVE_NCCL 1
#else
#define TS_HAVE_NCCL 0
#endif

#if TORCH_VERSION_MAJOR >= 2
#include <torch/csrc/distributed/c10d/Backend.hpp>
using TsBackend = c10d::Backend;
#else
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
using TsBackend = c10d::ProcessGroup;
#endif

namespace {

/// A process group's shared state: held by its handle and by autograd nodes that still need it.
struct GroupState {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<TsBackend> backend;
  std::chrono::milliseconds timeout;
  int rank;
  int world;
};

/// Waits for a collective; turns a timeout or a peer's failure into an error naming the op and the rank.
void finish(const GroupState& g, const c10::intrusive_ptr<c10d::Work>& work, const char* op) {
  try {
    work->wait(g.timeout);
  } catch (const c10::Error& e) {
    throw std::runtime_error(std::string(op) + " on rank " + std::to_string(g.rank) + " of " +
                             std::to_string(g.world) + " failed: " + e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string(op) + " on rank " + std::to_string(g.rank) + " of " +
                             std::to_string(g.world) + " failed: " + e.what());
  }
}

void all_reduce_sum(const GroupState& g, at::Tensor& t) {
  std::vector<at::Tensor> ts{t};
  finish(g, g.backend->allreduce(ts), "allreduce");
}

at::Tensor all_gather_cat(const GroupState& g, const at::Tensor& x) {
  std::vector<at::Tensor> in{x.contiguous()};
  std::vector<std::vector<at::Tensor>> out(1);
  for (int r = 0; r < g.world; r++) out[0].push_back(at::empty_like(in[0]));
  finish(g, g.backend->allgather(out, in), "allgather");
  return at::cat(out[0], 0);
}

/// Runs `op` on one flat buffer per dtype holding every tensor of `ts`, then copies the results back.
template <typename Op>
void coalesced(std::vector<at::Tensor>& ts, Op op) {
  std::map<int, std::vector<size_t>> by_dtype;
  for (size_t i = 0; i < ts.size(); i++) {
    TORCH_CHECK(ts[i].defined(), "collective over a tensor list: entry ", i, " is undefined");
    by_dtype[static_cast<int>(ts[i].scalar_type())].push_back(i);
  }
  for (auto& [dtype, idx] : by_dtype) {
    std::vector<at::Tensor> parts;
    for (size_t i : idx) parts.push_back(ts[i].detach().reshape(-1));
    at::Tensor flat = at::cat(parts, 0);
    op(flat);
    int64_t offset = 0;
    for (size_t i : idx) {
      int64_t n = ts[i].numel();
      at::NoGradGuard no_grad;
      ts[i].copy_(flat.narrow(0, offset, n).view(ts[i].sizes()));
      offset += n;
    }
  }
}

/// Backward of the differentiable all-reduce: the loss is the sum over ranks, so dL/dx = Σ_ranks dL/dy.
struct AllReduceBackward : public torch::autograd::Node {
  std::shared_ptr<GroupState> g;
  at::Tensor like;  // an empty tensor with the input's options and sizes, for a missing gradient
  torch::autograd::variable_list apply(torch::autograd::variable_list&& grads) override {
    at::Tensor grad = grads[0].defined() ? grads[0].contiguous().clone() : at::zeros_like(like);
    all_reduce_sum(*g, grad);
    return {grad};
  }
  std::string name() const override { return "DistAllReduceBackward"; }
};

/// Backward of the differentiable all-gather: all-reduce the gradient of the gathered tensor, keep our slice.
struct AllGatherBackward : public torch::autograd::Node {
  std::shared_ptr<GroupState> g;
  at::Tensor like;  // [world·N, ...] zeros template for a missing gradient
  int64_t n;
  torch::autograd::variable_list apply(torch::autograd::variable_list&& grads) override {
    at::Tensor grad = grads[0].defined() ? grads[0].contiguous().clone() : at::zeros_like(like);
    all_reduce_sum(*g, grad);
    return {grad.narrow(0, g->rank * n, n).clone()};
  }
  std::string name() const override { return "DistAllGatherBackward"; }
};

/// Attaches `node` as out's grad_fn when x takes part in autograd.
template <typename NodeT>
void connect(const at::Tensor& x, at::Tensor& out, std::shared_ptr<NodeT> node) {
  if (!(x.requires_grad() && at::GradMode::is_enabled())) return;
  node->set_next_edges(torch::autograd::collect_next_edges(x));
  torch::autograd::set_history(out, node);
}

/// The local address this host sends from to reach `host` (the kernel's route: a UDP socket connected
/// there, then getsockname; no packet is sent), or "" when `host` does not resolve or has no route.
std::string route_source(const std::string& host) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), "9", &hints, &found) != 0 || found == nullptr) return "";
  std::string local;
  int fd = socket(found->ai_family, SOCK_DGRAM, 0);
  if (fd >= 0 && connect(fd, found->ai_addr, found->ai_addrlen) == 0) {
    sockaddr_storage me{};
    socklen_t len = sizeof(me);
    char text[INET6_ADDRSTRLEN] = {0};
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&me), &len) == 0) {
      const void* a = me.ss_family == AF_INET6 ? static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(&me)->sin6_addr)
                                                : static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(&me)->sin_addr);
      if (inet_ntop(me.ss_family, a, text, sizeof(text))) local = text;
    }
  }
  if (fd >= 0) close(fd);
  freeaddrinfo(found);
  return local;
}

c10::intrusive_ptr<TsBackend> make_backend(const c10::intrusive_ptr<c10d::Store>& store, const std::string& addr,
                                            int rank, int world, int backend, int device,
                                            std::chrono::milliseconds timeout) {
  if (backend == 0) {
#if TS_HAVE_GLOO
    auto options = c10d::ProcessGroupGloo::Options::create(timeout);
    // The interface Gloo's peers reach this rank on: GLOO_SOCKET_IFNAME when set (as PyTorch reads it);
    // else the address this host sends from towards the rendezvous host (on a multi-homed node, or in
    // a network namespace, the host name may resolve to an address on another network); loopback for
    // a job on one machine. The default device (the host name's address) only when no route is found.
    const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
    const bool loopback = addr == "127.0.0.1" || addr == "localhost" || addr == "::1";
    const std::string local = loopback || (ifname && *ifname) ? "" : route_source(addr);
    options->devices.push_back(
        ifname && *ifname ? c10d::ProcessGroupGloo::createDeviceForInterface(ifname)
        : loopback        ? c10d::ProcessGroupGloo::createDeviceForHostname(addr)
        : !local.empty()  ? c10d::ProcessGroupGloo::createDeviceForHostname(local)
                          : c10d::ProcessGroupGloo::createDefaultDevice());
    return c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, world, options);
#else
    TORCH_CHECK(false, "this shim was built without Gloo (install libgloo-dev and rebuild)");
#endif
  }
  if (backend == 1) {
#if TS_HAVE_NCCL
    (void)device;  // the tensors' device selects the GPU; the caller sets it before creating the group
    auto options = c10d::ProcessGroupNCCL::Options::create();
    options->timeout = timeout;
    return c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, world, options);
#else
    TORCH_CHECK(false, "this shim was built without NCCL (it needs a CUDA PyTorch wheel and nccl.h)");
#endif
  }
  TORCH_CHECK(false, "unknown backend code ", backend, " (0 Gloo, 1 NCCL)");
}

/// Gradient all-reduce overlapped with backward: a post hook on every parameter's AccumulateGrad node
/// launches the async all-reduce of a bucket once all of its gradients are in, buckets strictly in order
/// (the same order on every rank). This is the one loop over parameters in C++: hooks cannot call
/// JavaScript, and without hooks the all-reduce cannot start before backward ends.
struct GradSyncState {
  std::shared_ptr<GroupState> g;
  std::vector<at::Tensor> params;
  std::vector<std::vector<size_t>> buckets;  // parameter indices, in launch order
  std::vector<size_t> bucket_of;
  std::vector<size_t> pending;  // gradients still missing per bucket
  std::vector<char> ready;
  size_t next = 0;  // the next bucket to launch
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  std::vector<at::Tensor> flats;
  std::string error;
  std::mutex m;

  void reset() {
    next = 0;
    works.assign(buckets.size(), {});
    flats.assign(buckets.size(), at::Tensor());
    for (size_t b = 0; b < buckets.size(); b++) pending[b] = buckets[b].size();
    std::fill(ready.begin(), ready.end(), 0);
  }
  void launch(size_t b) {  // flat copy of the bucket's gradients (zeros where none), async all-reduce
    std::vector<at::Tensor> parts;
    for (size_t i : buckets[b]) {
      const at::Tensor& grad = params[i].grad();
      parts.push_back(grad.defined() ? grad.detach().reshape(-1) : at::zeros({params[i].numel()}, params[i].options()));
    }
    flats[b] = at::cat(parts, 0);
    std::vector<at::Tensor> ts{flats[b]};
    works[b] = g->backend->allreduce(ts);
  }
  void on_ready(size_t i) {
    std::lock_guard<std::mutex> lock(m);
    if (ready[i]) {
      error = "a parameter received a second gradient in one step after its bucket was all-reduced";
      return;
    }
    ready[i] = 1;
    pending[bucket_of[i]]--;
    while (next < buckets.size() && pending[next] == 0) launch(next++);
  }
  void finish_all(double scale) {  // launches what is left, waits, writes the scaled sums back
    std::lock_guard<std::mutex> lock(m);
    TORCH_CHECK(error.empty(), error);
    while (next < buckets.size()) launch(next++);
    for (size_t b = 0; b < buckets.size(); b++) {
      finish(*g, works[b], "allreduce");
      if (scale != 1.0) flats[b].mul_(scale);
      int64_t offset = 0;
      for (size_t i : buckets[b]) {
        at::Tensor& p = params[i];
        at::Tensor avg = flats[b].narrow(0, offset, p.numel()).view(p.sizes());
        offset += p.numel();
        at::NoGradGuard no_grad;
        if (p.grad().defined()) p.mutable_grad().copy_(avg);
        else p.mutable_grad() = avg.clone();
      }
    }
    reset();
  }
};

}  // namespace

/// Gradient-hook handle: the state and the hooks it registered (removed on free).
struct TsGradSync {
  std::shared_ptr<GradSyncState> s;
  std::vector<std::pair<std::shared_ptr<torch::autograd::Node>, uintptr_t>> hooks;
};

/// Process-group handle.
struct TsGroup {
  std::shared_ptr<GroupState> s;
};

// ---------------------------------------------------------------- groups

/// Bit mask of the compiled backends: 1 Gloo, 2 NCCL.
TS_EXPORT int32_t ts_dist_backends() { return (TS_HAVE_GLOO ? 1 : 0) | (TS_HAVE_NCCL ? 2 : 0); }
/// Joins a group: TCPStore at addr:port (rank 0 serves it) under prefix "unigrad", then the backend
/// (0 Gloo, 1 NCCL) → new group handle; blocks until every rank has joined or timeout_ms passes.
TS_EXPORT TsGroup* ts_dist_new_group(const char* addr, int32_t port, int32_t rank, int32_t world, int32_t backend,
                                     int32_t device, int32_t timeout_ms) {
  try {
    TORCH_CHECK(world >= 1 && rank >= 0 && rank < world, "rank ", rank, " is outside a world of ", world);
    TORCH_CHECK(port > 0 && port < 65536, "port ", port, " is outside 1..65535");
    auto timeout = std::chrono::milliseconds(timeout_ms);
    c10d::TCPStoreOptions opts;
    opts.port = static_cast<std::uint16_t>(port);
    opts.isServer = rank == 0;
    opts.numWorkers = static_cast<std::size_t>(world);
    opts.waitWorkers = true;
    opts.timeout = timeout;
    auto tcp = c10::make_intrusive<c10d::TCPStore>(std::string(addr), opts);
    auto store = c10::make_intrusive<c10d::PrefixStore>("unigrad", tcp);
    auto s = std::make_shared<GroupState>();
    s->store = store;
    s->backend = make_backend(store, addr, rank, world, backend, device, timeout);
    s->timeout = timeout;
    s->rank = rank;
    s->world = world;
    return new TsGroup{s};
  }
  TS_CATCH
  return nullptr;
}
/// Leaves the group (autograd nodes still holding it keep it alive); NULL is ignored.
TS_EXPORT void ts_dist_free_group(TsGroup* g) { delete g; }

// ---------------------------------------------------------------- collectives (in place, status results)

/// t = Σ_ranks t, in place; status.
TS_EXPORT int32_t ts_dist_all_reduce_(TsGroup* g, TsTensor* t) { TS_STATUS(all_reduce_sum(*g->s, *t)) }
/// Every entry of the list = scale·Σ_ranks entry, through one flat buffer per dtype; status.
TS_EXPORT int32_t ts_dist_all_reduce_list_(TsGroup* g, TsList* l, double scale) {
  TS_STATUS(coalesced(l->items, [&](at::Tensor& flat) {
    all_reduce_sum(*g->s, flat);
    if (scale != 1.0) flat.is_floating_point() ? flat.mul_(scale) : flat.copy_(flat.mul(scale));  // ints truncate
  }))
}
/// Every entry of the list = root's entry, through one flat buffer per dtype; status.
TS_EXPORT int32_t ts_dist_broadcast_list_(TsGroup* g, TsList* l, int32_t root) {
  TS_STATUS(TORCH_CHECK(root >= 0 && root < g->s->world, "broadcast root ", root, " is outside a world of ",
                        g->s->world);
            coalesced(l->items, [&](at::Tensor& flat) {
              std::vector<at::Tensor> ts{flat};
              c10d::BroadcastOptions opts;
              opts.rootRank = root;
              finish(*g->s, g->s->backend->broadcast(ts, opts), "broadcast");
            }))
}
/// Waits until every rank reaches the barrier; status.
TS_EXPORT int32_t ts_dist_barrier(TsGroup* g) {
  TS_STATUS(c10d::BarrierOptions opts; opts.timeout = g->s->timeout;
            finish(*g->s, g->s->backend->barrier(opts), "barrier"))
}

// ---------------------------------------------------------------- collectives (new tensors)

/// x [N, ...] → new [world·N, ...], every rank's x in rank order (equal N on every rank); no gradient.
TS_EXPORT TsTensor* ts_dist_all_gather(TsGroup* g, TsTensor* x) { TS_NEW(all_gather_cat(*g->s, x->detach())) }
/// x → new Σ_ranks x, differentiable: its backward all-reduces the incoming gradient.
TS_EXPORT TsTensor* ts_dist_all_reduce_grad(TsGroup* g, TsTensor* x) {
  TS_NEW([&] {
    at::Tensor out = x->detach().contiguous().clone();
    all_reduce_sum(*g->s, out);
    auto node = std::shared_ptr<AllReduceBackward>(new AllReduceBackward(), torch::autograd::deleteNode);
    node->g = g->s;
    node->like = at::empty_like(out);
    connect(*x, out, node);
    return out;
  }())
}
/// x [N, ...] → new [world·N, ...], differentiable: backward all-reduces the gradient and keeps this rank's
/// slice, so the gradient is exact for a loss over the global batch.
TS_EXPORT TsTensor* ts_dist_all_gather_grad(TsGroup* g, TsTensor* x) {
  TS_NEW([&] {
    at::Tensor out = all_gather_cat(*g->s, x->detach());
    auto node = std::shared_ptr<AllGatherBackward>(new AllGatherBackward(), torch::autograd::deleteNode);
    node->g = g->s;
    node->like = at::empty_like(out);
    node->n = x->size(0);
    connect(*x, out, node);
    return out;
  }())
}

// ---------------------------------------------------------------- gradients overlapped with backward

/// Hooks the gradients of the list's parameters: buckets of sizes[0..n) consecutive list entries are
/// all-reduced asynchronously as soon as backward has produced all their gradients → new handle.
TS_EXPORT TsGradSync* ts_dist_grad_sync_new(TsGroup* g, TsList* params, const int32_t* sizes, int32_t n) {
  try {
    auto s = std::make_shared<GradSyncState>();
    s->g = g->s;
    s->params = params->items;
    size_t at = 0;
    for (int32_t b = 0; b < n; b++) {
      std::vector<size_t> bucket;
      for (int32_t k = 0; k < sizes[b]; k++, at++) {
        TORCH_CHECK(at < s->params.size() && s->params[at].requires_grad(), "grad_sync: bucket sizes exceed the ",
                    s->params.size(), " parameters, or one does not require grad");
        bucket.push_back(at);
        s->bucket_of.push_back(static_cast<size_t>(b));
      }
      s->buckets.push_back(bucket);
    }
    TORCH_CHECK(at == s->params.size(), "grad_sync: bucket sizes cover ", at, " of ", s->params.size(), " parameters");
    s->pending.resize(s->buckets.size());
    s->ready.resize(s->params.size());
    s->reset();
    auto* h = new TsGradSync{s, {}};
    std::weak_ptr<GradSyncState> weak = s;
    for (size_t i = 0; i < s->params.size(); i++) {
      auto acc = torch::autograd::impl::grad_accumulator(s->params[i]);
      auto hook = std::make_unique<torch::autograd::utils::LambdaPostHook>(
          [weak, i](const torch::autograd::variable_list& outputs, const torch::autograd::variable_list&) {
            if (auto state = weak.lock()) state->on_ready(i);
            return outputs;
          });
      h->hooks.emplace_back(acc, acc->add_post_hook(std::move(hook)));
    }
    return h;
  }
  TS_CATCH
  return nullptr;
}
/// After backward: launches the buckets not yet started, waits for all, sets every gradient to scale·sum; status.
TS_EXPORT int32_t ts_dist_grad_sync_finish(TsGradSync* h, double scale) { TS_STATUS(h->s->finish_all(scale)) }
/// Removes the hooks and frees the handle; NULL is ignored.
TS_EXPORT void ts_dist_grad_sync_free(TsGradSync* h) {
  if (!h) return;
  for (auto& [node, key] : h->hooks) node->del_post_hook(key);
  delete h;
}

// ---------------------------------------------------------------- diagnosis

/// After a failure: marks this rank alive in the store, waits up to wait_ms for the others, and writes
/// alive[r] = 1 or 0 for every rank; fails when the store (served by rank 0) is unreachable. Status.
TS_EXPORT int32_t ts_dist_probe_peers(TsGroup* g, int32_t wait_ms, int32_t* alive) {
  TS_STATUS(auto& s = *g->s; s.store->set("alive/" + std::to_string(s.rank), std::vector<uint8_t>{1});
            auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
            for (;;) {
              int missing = 0;
              for (int r = 0; r < s.world; r++) {
                alive[r] = s.store->check({"alive/" + std::to_string(r)}) ? 1 : 0;
                missing += 1 - alive[r];
              }
              if (missing == 0 || std::chrono::steady_clock::now() >= deadline) break;
              std::this_thread::sleep_for(std::chrono::milliseconds(50));
            })
}
