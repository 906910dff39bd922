/**
 * The symbol table (src/torch/_symbols.ts) against the built library and the C sources, and a call of
 * every shim function with good and with bad inputs.
 *
 * Adding a shim function: add its entry to CASES below (a good call, and a bad call that makes the
 * shim fail, or the reason it cannot fail).
 */
import assert from "node:assert/strict";
import { assertExit, runChild } from "../_child.ts";
import * as T from "../_all.ts";
import { SYMBOLS } from "../../src/torch/_symbols.ts";
import { lastError, sym } from "../../src/torch/_lib.ts";
import { check, checkHandle, dims, HANDLE } from "../../src/torch/_handle.ts";
import { noLeaks } from "./_helpers.ts";

const root = new URL("../../", import.meta.url);
const manifest = JSON.parse(Deno.readTextFileSync(new URL("build/shim.json", root)));
type Name = keyof typeof SYMBOLS;
const NAMES = Object.keys(SYMBOLS) as Name[];
const OPTIONAL = new Set(NAMES.filter((n) => "optional" in SYMBOLS[n] && SYMBOLS[n].optional));

interface CFunction {
  name: string;
  params: number;
  result: string;
}

/** Exported functions of a C file in definition order: `TS_EXPORT … ts_x(…)` and the TS_UNARY/TS_BINARY macros. */
function cFunctions(file: string): CFunction[] {
  const src = Deno.readTextFileSync(new URL(`ffi/${file}`, root));
  const re = /^(?:TS_EXPORT\s+([^(]*?)\b(ts_\w+)\s*\(([^)]*)\)|TS_(BINARY_SCALAR|BINARY|UNARY)\((\w+),)/gm;
  return Array.from(src.matchAll(re), (m) => {
    if (m[2] !== undefined) {
      const type = m[1].trim();
      const result = type === "void" ? "void" : type.endsWith("*") ? "pointer" : type === "int32_t" ? "i32" : type;
      return { name: m[2], params: m[3].trim() === "" ? 0 : m[3].split(",").length, result };
    }
    return { name: `ts_${m[5]}`, params: m[4] === "UNARY" ? 1 : 2, result: "pointer" };
  });
}

Deno.test("SYMBOLS lists exactly the ts_ symbols exported by the built library", async () => {
  const out = await runChild("nm", { args: ["-D", "--defined-only", manifest.path], timeoutMs: 30_000 });
  assertExit(out, 0, `nm -D ${manifest.path}`);
  const exported = new Set(
    Array.from(out.stdout.matchAll(/ T (ts_\w+)$/gm), (m) => m[1]),
  );
  const built = (n: Name) => n.startsWith("ts_dist_") ? manifest.dist : manifest.cuda;
  const missing = NAMES.filter((n) => !exported.has(n) && !(OPTIONAL.has(n) && !built(n)));
  const unlisted = [...exported].filter((n) => !(n in SYMBOLS));
  assert.deepEqual(missing, [], "in SYMBOLS but not exported by the library");
  assert.deepEqual(unlisted, [], "exported by the library but not in SYMBOLS");
});

Deno.test("SYMBOLS follows ffi/ops.cpp, ffi/cuda.cpp then ffi/dist.cpp in order, parameter count and result type", () => {
  const c = [...cFunctions("ops.cpp"), ...cFunctions("cuda.cpp"), ...cFunctions("dist.cpp")];
  assert.deepEqual(NAMES, c.map((f) => f.name), "symbol order differs from the C files");
  for (const f of c) {
    const s = SYMBOLS[f.name as Name];
    assert.equal(s.parameters.length, f.params, `${f.name}: parameter count`);
    assert.equal(s.result, f.result, `${f.name}: result type`);
  }
  const optional = [...cFunctions("cuda.cpp"), ...cFunctions("dist.cpp")];
  for (const n of NAMES) assert.equal(OPTIONAL.has(n), optional.some((f) => f.name === n), n);
});

// ------------------------------------------------------------------ every shim function, good and bad

interface Case {
  /** A call that must reach the symbol and succeed (absent where this build cannot succeed). */
  good?: () => unknown;
  /** A call that must throw `error` (TorchError by default) because the symbol failed. */
  bad?: () => unknown;
  error?: new (...args: never[]) => Error;
  /** False when `bad` fails before the shim (a disposed handle, a check in TypeScript). */
  native?: boolean;
  /** Why the symbol cannot fail for valid handles (then `bad`, if any, is not native). */
  why?: string;
}

const gpu = T.cuda.isAvailable();
const o = (shape: number[], options: T.TensorOptions = {}) => T.ones(shape, options);
const int = (values: number[]) => T.tensor(values, { dtype: "int64" });
const leaf = () => o([2], { requiresGrad: true });
const gone = () => {
  const t = o([2]);
  t.dispose();
  return t;
};
/** A 2^50-element view: any op that allocates a result of its size fails in the allocator. */
const huge = () => o([1]).expand([2 ** 20, 2 ** 20, 2 ** 10]);
const goneList = () => {
  const l = list(o([1]));
  l.dispose();
  return l;
};
/** Lists made by a case (scopes do not track lists): freed after each call. */
const lists: T.TensorList[] = [];
const mine = (l: T.TensorList) => (lists.push(l), l);
const list = (...ts: T.Tensor[]) => mine(T.TensorList.of(ts));
const infallible = (why: string, bad?: () => unknown): Partial<Case> => ({ why, bad, native: false });

/** Ops made by the TS_BINARY/TS_BINARY_SCALAR/TS_UNARY macros and ts_add/ts_sub, as "symbol:method". */
const BINARY = ("add sub mul div pow maximum minimum remainder atan2 eq ne lt le gt ge matmul mm bmm " +
  "logical_and:logicalAnd logical_or:logicalOr logical_xor:logicalXor").split(" ");
const SCALAR = ("add_scalar:add mul_scalar:mul div_scalar:div pow_scalar:pow rsub_scalar:rsub " +
  "remainder_scalar:remainder eq_scalar:eq ne_scalar:ne lt_scalar:lt le_scalar:le gt_scalar:gt ge_scalar:ge").split(
    " ",
  );
const UNARY = ("neg abs exp log log1p expm1 sqrt rsqrt square reciprocal sin cos tanh sigmoid relu gelu silu erf " +
  "sign floor ceil round trunc isnan isinf isfinite logical_not:logicalNot").split(" ");
/** Calls a Tensor method by name. */
const call = (t: T.Tensor, method: string, ...args: unknown[]) =>
  (t as unknown as Record<string, (...a: unknown[]) => T.Tensor>)[method](...args);
/** In-place ops that a leaf requiring grad refuses outside noGrad. */
const LEAF_INPLACE = {
  ts_fill_: (t: T.Tensor) => t.fill_(1),
  ts_zero_: (t: T.Tensor) => t.zero_(),
  ts_clamp_: (t: T.Tensor) => t.clamp_(0, 1),
  ts_uniform_: (t: T.Tensor) => t.uniform_(),
  ts_normal_: (t: T.Tensor) => t.normal_(),
  ts_relu_: (t: T.Tensor) => t.relu_(),
} as const;

/** A one-rank Gloo group for the ts_dist_ cases (joined on first use). */
let group1: T.C10dGroup | null = null;
const freePort = () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
};
const join1 = (rank = 0) => T.C10dGroup.join({ address: "127.0.0.1", port: freePort(), rank, worldSize: 1 });
const group = () => group1 ??= join1();
/** Hooks a leaf, runs `backwards` backward passes into it, then finishes the all-reduce. */
const syncTwice = (backwards: number) => {
  const w = leaf();
  using sync = group().gradSync(list(w), [1]);
  for (let i = 0; i < backwards; i++) w.mul(2).sum().backward();
  sync.finish(1);
};
const noDist = { bad: () => join1(), native: false, why: "not built without c10d; TypeScript refuses the call" };
const DIST_CASES: Partial<Record<Name, Case>> = manifest.dist
  ? {
    ts_dist_backends: { good: () => T.c10dBackends(), why: "reads compile-time flags" },
    ts_dist_new_group: { good: () => join1().dispose(), bad: () => join1(1) },
    ts_dist_free_group: { good: () => join1().dispose(), why: "void; NULL is ignored, and dispose() frees once" },
    ts_dist_all_reduce_: {
      good: () => group().allReduce_(o([2])),
      bad: () => group().allReduce_(o([2], { dtype: "bool" })),
    },
    ts_dist_all_reduce_list_: {
      good: () => group().allReduceList_(list(o([2])), 0.5),
      bad: () => group().allReduceList_(list(huge())),
    },
    ts_dist_broadcast_list_: {
      good: () => group().broadcastList_(list(o([2]))),
      bad: () => group().broadcastList_(list(o([2])), 5),
    },
    ts_dist_barrier: { good: () => group().barrier(), why: "a barrier of one live rank cannot fail" },
    ts_dist_all_gather: { good: () => group().allGather(o([2])), bad: () => group().allGather(huge()) },
    ts_dist_all_reduce_grad: {
      good: () => group().allReduceWithGrad(leaf()),
      bad: () => group().allReduceWithGrad(huge()),
    },
    ts_dist_all_gather_grad: {
      good: () => group().allGatherWithGrad(leaf()),
      bad: () => group().allGatherWithGrad(huge()),
    },
    ts_dist_grad_sync_new: {
      good: () => group().gradSync(list(leaf()), [1]).dispose(),
      bad: () => group().gradSync(list(leaf()), [2]),
    },
    ts_dist_grad_sync_finish: {
      good: () => syncTwice(1),
      bad: () => syncTwice(2), // a second gradient after the bucket was all-reduced
    },
    ts_dist_grad_sync_free: { good: () => group().gradSync(list(leaf()), [1]).dispose(), why: "void; NULL is ignored" },
    ts_dist_probe_peers: { good: () => group().probePeers(10), why: "the store of a live group answers" },
  }
  : Object.fromEntries(
    [
      "backends",
      "new_group",
      "free_group",
      "all_reduce_",
      "all_reduce_list_",
      "broadcast_list_",
      "barrier",
      "all_gather",
      "all_reduce_grad",
      "all_gather_grad",
      "grad_sync_new",
      "grad_sync_finish",
      "grad_sync_free",
      "probe_peers",
    ].map((n) => [`ts_dist_${n}`, noDist]),
  );

const CASES: Partial<Record<Name, Case>> = {
  ...DIST_CASES,
  ts_last_error: { good: () => lastError(), why: "reads a thread-local string" },
  ts_live_count: { good: () => T.liveTensors(), why: "reads a counter" },
  ts_list_live_count: { good: () => T.liveLists(), why: "reads a counter" },
  ts_free: { good: () => o([1]).dispose(), why: "void; NULL is ignored, and dispose() frees once" },
  ts_version: { good: () => T.torchVersion(), why: "writes a constant string" },
  ts_set_num_threads: {
    good: () => T.setNumThreads(T.getNumThreads()),
    bad: () => check(sym.ts_set_num_threads(0), "setNumThreads"),
  },
  ts_get_num_threads: { good: () => T.getNumThreads(), why: "reads a setting" },
  ts_onednn_isa: { good: () => sym.ts_onednn_isa(), why: "reads a setting (-1 when oneDNN cannot be asked)" },
  ts_signals_watch: {
    good: () => T.watchSignals()[Symbol.dispose](),
    why: "sigaction of SIGINT and SIGTERM with a valid handler cannot fail; any flag value is on or off",
  },
  ts_signal_received: { good: () => T.receivedSignal(), why: "reads a flag" },
  ts_mallopt: {
    good: () => check(sym.ts_mallopt(256 << 20, 1 << 30, 64 << 20), "mallopt"),
    why: "glibc's mallopt accepts every value of these three parameters",
  },
  ts_manual_seed: {
    good: () => T.manualSeed(0),
    ...infallible("any u64 seeds", () => T.manualSeed(-1)),
    error: RangeError,
  },
  ts_get_rng_state: { good: () => T.getRngState(), why: "copies the generator state" },
  ts_set_rng_state: { good: () => T.setRngState(T.getRngState()), bad: () => T.setRngState(T.zeros([3])) },
  ts_cuda_is_available: { good: () => T.cuda.isAvailable(), why: "catches everything and answers 0" },
  ts_cuda_device_count: { good: () => T.cuda.deviceCount(), why: "catches everything and answers 0" },
  ts_cuda_synchronize: {
    good: gpu ? () => T.cuda.synchronize() : undefined,
    bad: () => T.cuda.synchronize(99),
  },
  ts_set_cudnn_benchmark: { good: () => T.cuda.setCudnnBenchmark(false), why: "sets a global flag" },
  ts_set_autocast: {
    good: () => T.cuda.autocast("cpu", () => 0),
    ...infallible("sets thread-local flags", () => T.cuda.autocast("tpu" as never, () => 0)),
    error: TypeError,
  },
  ts_set_grad_enabled: { good: () => T.noGrad(() => 0), why: "sets a thread-local flag" },
  ts_is_grad_enabled: { good: () => T.isGradEnabled(), why: "reads a thread-local flag" },
  ts_from_blob: {
    good: () => T.tensor([1, 2]),
    bad: () => new T.Tensor(checkHandle(sym.ts_from_blob(new Float32Array(2), 4n, dims([2]), 1, 6, -1), "tensor")),
  },
  ts_copy_to_host: {
    good: () => o([2]).data(),
    bad: () => check(sym.ts_copy_to_host(o([2])[HANDLE], new Float32Array(1), 4n), "data"),
  },
  ts_item: { good: () => o([1]).item(), bad: () => o([2]).item() },
  ts_empty: { good: () => T.empty([2]), bad: () => T.empty([2 ** 40, 2 ** 10]) },
  ts_full: { good: () => T.full([2], 1), bad: () => T.full([2], 1000, { dtype: "uint8" }) },
  ts_eye: { good: () => T.eye(2), bad: () => T.eye(-1) },
  ts_arange: { good: () => T.arange(0, 2), bad: () => T.arange(0, 2, 0) },
  ts_linspace: { good: () => T.linspace(0, 1, 3), bad: () => T.linspace(0, 1, -1) },
  ts_randn: { good: () => T.randn([2]), bad: () => T.randn([2], { dtype: "int64" }) },
  ts_rand: { good: () => T.rand([2]), bad: () => T.rand([2], { dtype: "int64" }) },
  ts_randint: { good: () => T.randint(0, 2, [2]), bad: () => T.randint(2, 2, [2]) },
  ts_randperm: { good: () => T.randperm(3), bad: () => T.randperm(-1) },
  ts_full_like: { good: () => T.fullLike(o([2]), 3), bad: () => T.fullLike(o([1], { dtype: "uint8" }), 1000) },
  ts_randn_like: { good: () => T.randnLike(o([2])), bad: () => T.randnLike(int([1])) },
  ts_rand_like: { good: () => T.randLike(o([2])), bad: () => T.randLike(int([1])) },
  ts_to: { good: () => o([1]).to("float64"), bad: () => o([1]).to("cuda:99") },
  ts_contiguous: {
    good: () => o([1, 2, 2, 2]).contiguous("channels_last"),
    bad: () => o([2]).contiguous("channels_last"),
  },
  ts_set_memory_format_: {
    good: () => o([1, 2, 2, 2]).setMemoryFormat_("channels_last"),
    bad: () => o([2]).setMemoryFormat_("channels_last"),
  },
  ts_clone: { good: () => o([1]).clone(), bad: () => huge().clone() },
  ts_detach: { good: () => o([1]).detach(), ...infallible("makes a view", () => gone().detach()) },
  ts_shallow_clone: { good: () => o([1]).share(), ...infallible("copies a reference", () => gone().share()) },
  ts_info: { good: () => o([1]).shape, bad: () => o(new Array(17).fill(1)).shape },
  ts_strides: { good: () => o([2]).strides(), ...infallible("reads metadata", () => gone().strides()) },
  ts_clamp: { good: () => o([2]).clamp(0, 1), bad: () => huge().clamp(0, 1) },
  ts_where: {
    good: () => T.where(T.tensor([true, false]), o([2]), o([2])),
    bad: () => T.where(o([2]).gt(0), o([2]), o([3])),
  },
  ts_lerp: { good: () => o([2]).lerp(o([2]), 0.5), bad: () => o([2]).lerp(o([3]), 0.5) },
  ts_addcmul: { good: () => o([2]).addcmul(o([2]), o([2])), bad: () => o([2]).addcmul(o([3]), o([2])) },
  ts_masked_fill: { good: () => o([2]).maskedFill(o([2]).gt(0), 0), bad: () => o([2]).maskedFill(o([3]).gt(0), 0) },
  ts_sum: { good: () => o([2]).sum(), bad: () => o([2]).sum(3) },
  ts_mean: { good: () => o([2]).mean(), bad: () => int([1]).mean() },
  ts_prod: { good: () => o([2]).prod(), ...infallible("reduces any tensor", () => gone().prod()) },
  ts_amax: { good: () => o([2]).amax(), bad: () => o([2]).amax(3) },
  ts_amin: { good: () => o([2]).amin(), bad: () => o([2]).amin(3) },
  ts_argmax: { good: () => o([2]).argmax(0), bad: () => o([2]).argmax(3) },
  ts_argmin: { good: () => o([2]).argmin(0), bad: () => o([2]).argmin(3) },
  ts_var: { good: () => o([2]).var(), bad: () => o([2]).var(3) },
  ts_std: { good: () => o([2]).std(), bad: () => o([2]).std(3) },
  ts_logsumexp: { good: () => o([2]).logsumexp(0), bad: () => o([2]).logsumexp(3) },
  ts_linalg_vector_norm: { good: () => o([2]).norm(), bad: () => int([1]).norm() },
  ts_cumsum: { good: () => o([2]).cumsum(0), bad: () => o([2]).cumsum(3) },
  ts_all: { good: () => o([2]).all(), ...infallible("reduces any tensor", () => gone().all()) },
  ts_any: { good: () => o([2]).any(), ...infallible("reduces any tensor", () => gone().any()) },
  ts_max_dim: { good: () => o([2]).maxDim(0), bad: () => o([2]).maxDim(3) },
  ts_topk: { good: () => o([2]).topk(1), bad: () => o([2]).topk(5) },
  ts_sort: { good: () => o([2]).sort(), bad: () => o([2]).sort(3) },
  ts_reshape: { good: () => o([2]).reshape([2, 1]), bad: () => o([2]).reshape([3]) },
  ts_view: { good: () => o([2]).view([2, 1]), bad: () => o([2, 3]).t().view([6]) },
  ts_transpose: { good: () => o([2, 3]).transpose(0, 1), bad: () => o([2, 3]).transpose(0, 5) },
  ts_permute: { good: () => o([2, 3]).permute([1, 0]), bad: () => o([2, 3]).permute([0]) },
  ts_squeeze: { good: () => o([1, 2]).squeeze(), bad: () => o([2]).squeeze(3) },
  ts_unsqueeze: { good: () => o([2]).unsqueeze(0), bad: () => o([2]).unsqueeze(5) },
  ts_narrow: { good: () => o([2]).narrow(0, 0, 1), bad: () => o([2]).narrow(0, 1, 5) },
  ts_slice: { good: () => o([2]).slice(0, 0, 1), bad: () => o([2]).slice(3, 0, 1) },
  ts_select: { good: () => o([2]).select(0, 0), bad: () => o([2]).select(0, 5) },
  ts_expand: { good: () => o([1]).expand([3]), bad: () => o([2]).expand([3]) },
  ts_repeat: { good: () => o([2]).repeat([2]), bad: () => o([2, 2]).repeat([2]) },
  ts_flatten: { good: () => o([2, 2]).flatten(), bad: () => o([2, 2]).flatten(1, 0) },
  ts_flip: { good: () => o([2]).flip([0]), bad: () => o([2]).flip([3]) },
  ts_roll: { good: () => o([2]).roll([1], [0]), bad: () => o([2]).roll([1], [3]) },
  ts_cat: { good: () => T.cat([o([2]), o([2])]), bad: () => T.cat([o([2]), o([2, 2])]) },
  ts_stack: { good: () => T.stack([o([2]), o([2])]), bad: () => T.stack([o([2]), o([3])]) },
  ts_index_select: { good: () => o([2]).indexSelect(0, int([1])), bad: () => o([2]).indexSelect(0, o([1])) },
  ts_gather: { good: () => o([2]).gather(0, int([1])), bad: () => o([2]).gather(0, o([1])) },
  ts_scatter_add: {
    good: () => o([3]).scatterAdd(0, int([0, 1]), o([2])),
    bad: () => o([3]).scatterAdd(0, o([2]), o([2])),
  },
  ts_scatter: { good: () => o([3]).scatter(0, int([0, 1]), o([2])), bad: () => o([3]).scatter(0, o([2]), o([2])) },
  ts_masked_select: { good: () => o([2]).maskedSelect(o([2]).gt(0)), bad: () => o([2]).maskedSelect(o([3]).gt(0)) },
  ts_nonzero: { good: () => o([2]).nonzero(), ...infallible("indexes any tensor", () => gone().nonzero()) },
  ts_tril: { good: () => o([2, 2]).tril(), bad: () => o([2]).tril() },
  ts_triu: { good: () => o([2, 2]).triu(), bad: () => o([2]).triu() },
  ts_diag: { good: () => o([2, 2]).diag(), bad: () => o([2, 2, 2]).diag() },
  ts_one_hot: { good: () => T.oneHot(int([0, 1]), 2), bad: () => T.oneHot(o([2]), 2) },
  ts_constant_pad_nd: { good: () => T.pad(o([2]), [1, 1]), bad: () => T.pad(o([2]), [1]) },
  ts_chunk: { good: () => o([2]).chunk(2), bad: () => o([2]).chunk(0) },
  ts_outer: { good: () => o([2]).outer(o([3])), bad: () => o([2, 2]).outer(o([2])) },
  ts_linalg_eigh: { good: () => T.eigh(T.eye(2)), bad: () => T.eigh(o([2, 3])) },
  ts_linalg_svdvals: { good: () => T.svdvals(o([2, 3])), bad: () => T.svdvals(o([2])) },
  ts_linalg_inv: { good: () => T.inv(T.eye(2)), bad: () => T.inv(o([2, 3])) },
  ts_conv2d: {
    good: () => T.conv2d(o([1, 1, 3, 3]), o([1, 1, 2, 2]), o([1])),
    bad: () => T.conv2d(o([1, 2, 3, 3]), o([1, 1, 2, 2])),
  },
  ts_batch_norm: { good: () => T.batchNorm(o([2, 3])), bad: () => T.batchNorm(o([2, 3]), { weight: o([4]) }) },
  ts_layer_norm: { good: () => T.layerNorm(o([2, 3]), [3]), bad: () => T.layerNorm(o([2, 3]), [4]) },
  ts_max_pool2d: { good: () => T.maxPool2d(o([1, 1, 2, 2]), 2), bad: () => T.maxPool2d(o([1, 1, 2, 2]), 3) },
  ts_avg_pool2d: { good: () => T.avgPool2d(o([1, 1, 2, 2]), 2), bad: () => T.avgPool2d(o([1, 1, 2, 2]), 3) },
  ts_adaptive_avg_pool2d: {
    good: () => T.adaptiveAvgPool2d(o([1, 1, 2, 2]), 1),
    bad: () => T.adaptiveAvgPool2d(o([2]), 1),
  },
  ts_linear: { good: () => T.linear(o([1, 2]), o([3, 2])), bad: () => T.linear(o([1, 2]), o([3, 4])) },
  ts_softmax: { good: () => T.softmax(o([2]), 0), bad: () => T.softmax(o([2]), 3) },
  ts_log_softmax: { good: () => T.logSoftmax(o([2]), 0), bad: () => T.logSoftmax(o([2]), 3) },
  ts_cross_entropy_loss: {
    good: () => T.crossEntropy(o([2, 3]), int([0, 1])),
    bad: () => T.crossEntropy(o([2, 3]), o([2])),
  },
  ts_mse_loss: { good: () => T.mseLoss(o([2]), o([2])), bad: () => T.mseLoss(o([2]), o([3])) },
  ts_affine_grid_generator: {
    good: () => T.affineGrid(o([1, 2, 3]), [1, 1, 2, 2]),
    bad: () => T.affineGrid(o([1, 3, 3]), [1, 1, 2, 2]),
  },
  ts_grid_sampler: {
    good: () => T.gridSample(o([1, 1, 2, 2]), T.zeros([1, 1, 1, 2])),
    bad: () => T.gridSample(o([1, 1, 2, 2]), T.zeros([1, 1, 1, 3])),
  },
  ts_upsample_bilinear2d: {
    good: () => T.interpolate(o([1, 1, 2, 2]), [3, 3]),
    bad: () => T.interpolate(o([2, 2]), [3, 3]),
  },
  ts_upsample_nearest2d: {
    good: () => T.interpolate(o([1, 1, 2, 2]), [3, 3], "nearest"),
    bad: () => T.interpolate(o([2, 2]), [3, 3], "nearest"),
  },
  ts_dropout: { good: () => T.dropout(o([2]), 0.5), bad: () => T.dropout(o([2]), 1.5) },
  ts_requires_grad_: { good: () => o([1]).requiresGrad_(), bad: () => int([1]).requiresGrad_() },
  ts_grad: { good: () => o([1]).grad, ...infallible("reads a field", () => gone().grad) },
  ts_set_grad: {
    good: () => leaf().setGrad(o([2])),
    ...infallible("assigns a field (shapes are checked in TypeScript)", () => leaf().setGrad(o([3]))),
    error: TypeError,
  },
  ts_retain_grad: { good: () => leaf().mul(2).retainGrad(), bad: () => o([1]).retainGrad() },
  ts_backward: { good: () => leaf().sum().backward(), bad: () => o([1]).sum().backward() },
  ts_autograd_grad: {
    good: () => T.autograd.grad([leaf().sum()], [o([1], { requiresGrad: true }).mul(1)], null, { allowUnused: true }),
    bad: () => T.autograd.grad([leaf().sum()], [leaf()]),
  },
  ts_add_: { good: () => o([2]).add_(o([2])), bad: () => o([2]).add_(o([3])) },
  ts_sub_: { good: () => o([2]).sub_(o([2])), bad: () => o([2]).sub_(o([3])) },
  ts_mul_: { good: () => o([2]).mul_(o([2])), bad: () => o([2]).mul_(o([3])) },
  ts_div_: { good: () => o([2]).div_(o([2])), bad: () => o([2]).div_(o([3])) },
  ts_add_scalar_: { good: () => o([2]).add_(1), bad: () => int([1]).add_(0.5) },
  ts_mul_scalar_: { good: () => o([2]).mul_(2), bad: () => int([1]).mul_(0.5) },
  ts_div_scalar_: { good: () => o([2]).div_(2), bad: () => int([1]).div_(2) },
  ts_copy_: { good: () => o([2]).copy_(o([2])), bad: () => o([2]).copy_(o([3])) },
  ts_addcmul_: { good: () => o([2]).addcmul_(o([2]), o([2])), bad: () => o([2]).addcmul_(o([3]), o([3])) },
  ts_addcdiv_: { good: () => o([2]).addcdiv_(o([2]), o([2])), bad: () => o([2]).addcdiv_(o([3]), o([3])) },
  ts_lerp_: { good: () => o([2]).lerp_(o([2]), 0.5), bad: () => o([2]).lerp_(o([3]), 0.5) },
  ts_masked_fill_: { good: () => o([2]).maskedFill_(o([2]).gt(0), 0), bad: () => o([2]).maskedFill_(o([3]).gt(0), 0) },
  ts_index_copy_: {
    good: () => o([3]).indexCopy_(0, int([0]), o([1])),
    bad: () => o([3]).indexCopy_(0, o([1]), o([1])),
  },
  ts_list_new: { good: () => list(o([1])).dispose(), ...infallible("copies references", () => list(gone())) },
  ts_list_free: { good: () => list(o([1])).dispose(), why: "void; dispose() frees once" },
  ts_list_len: { good: () => list(o([1])).length, ...infallible("reads a size", () => goneList().length) },
  ts_list_get: { good: () => list(o([1])).get(0), bad: () => list(o([1])).get(5), error: RangeError },
  ts_list_grads: { good: () => mine(list(o([1])).grads(true)), bad: () => mine(list(o([1])).grads()) },
  ts_list_zero_grad: {
    good: () => list(leaf()).zeroGrad(),
    ...infallible("resets fields", () => goneList().zeroGrad()),
  },
  ts_foreach_add_: { good: () => list(o([1])).add_(list(o([1]))), bad: () => list(o([1])).add_(list(o([1]), o([1]))) },
  ts_foreach_mul_scalar_: { good: () => list(o([1])).mul_(2), bad: () => list(int([1])).mul_(0.5) },
  ts_foreach_mul_: { good: () => list(o([1])).mul_(list(o([1]))), bad: () => list(o([1])).mul_(list(o([2]))) },
  ts_foreach_add_scalar_: { good: () => list(o([1])).add_(2), bad: () => list(int([1])).add_(0.5) },
  ts_foreach_zero_: {
    good: () => list(o([1])).zero_(),
    ...infallible("zero fits any dtype", () => goneList().zero_()),
  },
  ts_foreach_addcmul_: {
    good: () => list(o([1])).addcmul_(list(o([1])), list(o([1]))),
    bad: () => list(o([1])).addcmul_(list(o([2])), list(o([2]))),
  },
  ts_foreach_addcdiv_: {
    good: () => list(o([1])).addcdiv_(list(o([1])), list(o([1]))),
    bad: () => list(o([1])).addcdiv_(list(o([2])), list(o([2]))),
  },
  ts_foreach_sqrt_: { good: () => list(o([1])).sqrt_(), bad: () => list(int([1])).sqrt_() },
  ts_foreach_lerp_: {
    good: () => list(o([1])).lerp_(list(o([1])), 0.5),
    bad: () => list(o([1])).lerp_(list(o([2])), 0.5),
  },
  ts_foreach_copy_: { good: () => list(o([1])).copy_(list(o([1]))), bad: () => list(o([1])).copy_(list()) },
  ts_foreach_norm: { good: () => list(o([1])).norms(), bad: () => list(int([1])).norms() },
  ts_cuda_memory_stats: gpu ? { good: () => T.cuda.memoryStats(), bad: () => T.cuda.memoryStats(99) } : {
    bad: () => T.cuda.memoryStats(),
    native: false,
    why: "not built without CUDA; TypeScript refuses the call",
  },
  ts_cuda_reset_peak_memory_stats: gpu
    ? { good: () => T.cuda.resetPeakMemoryStats(), bad: () => T.cuda.resetPeakMemoryStats(99) }
    : { bad: () => T.cuda.resetPeakMemoryStats(), native: false, why: "not built without CUDA" },
  ts_cuda_set_device: gpu
    ? { good: () => T.cuda.setDevice(0), bad: () => T.cuda.setDevice(999) }
    : { bad: () => T.cuda.setDevice(0), native: false, why: "not built without CUDA" },
  ts_cuda_empty_cache: {
    good: gpu ? () => T.cuda.emptyCache() : undefined,
    ...infallible("frees cached blocks", gpu ? undefined : () => T.cuda.emptyCache()),
  },
};
/** Shapes of [a, a good b, a bad b] for the binary ops that are not elementwise. */
const BINARY_SHAPES: Record<string, number[][]> = {
  ts_matmul: [[2, 3], [3, 2], [2, 3]],
  ts_mm: [[2, 2], [2, 2], [3, 2]],
  ts_bmm: [[1, 2, 2], [1, 2, 2], [1, 3, 2]],
};
for (const entry of BINARY) {
  const [op, method = op] = entry.split(":");
  const [a, good, bad] = BINARY_SHAPES[`ts_${op}`] ?? [[2], [2], [3]];
  CASES[`ts_${op}` as Name] = { good: () => call(o(a), method, o(good)), bad: () => call(o(a), method, o(bad)) };
}
for (const entry of SCALAR) {
  const [op, method] = entry.split(":");
  CASES[`ts_${op}` as Name] = { good: () => call(o([2]), method, 2), bad: () => call(huge(), method, 2) };
}
for (const entry of UNARY) {
  const [op, method = op] = entry.split(":");
  CASES[`ts_${op}` as Name] = { good: () => call(o([2]), method), bad: () => call(huge(), method) };
}
for (const [name, op] of Object.entries(LEAF_INPLACE)) {
  CASES[name as Name] = { good: () => op(o([2])), bad: () => op(leaf()) };
}

Deno.test(
  "every shim function is called with good inputs, and with bad ones it fails as a TorchError without crashing",
  noLeaks(() => {
    const uncovered = NAMES.filter((n) => !(n in CASES));
    assert.deepEqual(uncovered, [], "symbols without a case in tests/torch/symbols_test.ts CASES");
    const table = sym as unknown as Record<string, (...args: unknown[]) => unknown>;
    const originals = new Map<string, (...args: unknown[]) => unknown>();
    const log = new Map<string, { ok: number; failed: number }>();
    for (const name of NAMES) {
      const f = table[name];
      if (typeof f !== "function") continue; // an optional symbol this build lacks
      originals.set(name, f);
      const pointer = SYMBOLS[name].result === "pointer";
      table[name] = (...args: unknown[]) => {
        const r = f(...args);
        const entry = log.get(name) ?? { ok: 0, failed: 0 };
        if (pointer ? r === null : r === -1) entry.failed++;
        else entry.ok++;
        log.set(name, entry);
        return r;
      };
    }
    try {
      for (const name of NAMES) {
        const c = CASES[name]!;
        if (c.good) {
          log.clear();
          T.scope(() => void c.good!());
          lists.splice(0).forEach((l) => l.dispose());
          assert.ok((log.get(name)?.ok ?? 0) > 0, `${name}: the good call did not reach it successfully`);
        } else {
          assert.ok(name === "ts_cuda_synchronize" || OPTIONAL.has(name), `${name}: needs a good call`);
          assert.ok(name.startsWith("ts_dist_") ? !manifest.dist : !gpu, `${name}: needs a good call on this build`);
        }
        if (c.bad) {
          log.clear();
          assert.throws(() => T.scope(() => void c.bad!()), c.error ?? T.TorchError, `${name}: the bad call`);
          lists.splice(0).forEach((l) => l.dispose());
          if (c.native !== false) {
            assert.ok((log.get(name)?.failed ?? 0) > 0, `${name}: the bad call did not fail in it`);
          }
        }
        assert.ok(c.bad || c.why, `${name}: needs a bad call, or the reason it cannot fail`);
        assert.ok(!(c.why && c.bad && c.native !== false), `${name}: a 'why' case has no native bad call`);
      }
    } finally {
      for (const [name, f] of originals) table[name] = f;
      group1?.dispose();
    }
    T.scope(() => assert.deepEqual(T.ones([2]).add(1).toArray(), [2, 2])); // the process is fine
  }),
);
