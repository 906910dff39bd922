/**
 * Finding libtorch for the shim build, and the compiler flags it needs: where its headers and libraries
 * are, its version, whether it has CUDA, its C++ ABI, and a CUDA wheel's include folders. Internal to
 * src/torch (build.ts uses it); pure enough to be tested against a fake wheel tree.
 *
 * @module
 */

/** Where a libtorch lives and what it is. */
export interface Libtorch {
  /** How it was found: "LIBTORCH", "wheel" or "debian". */
  source: string;
  /** Include directories. */
  include: string[];
  /** Directory holding libtorch*.so. */
  libDir: string;
  /** Version string, e.g. "1.13.1". */
  version: string;
  /** Whether libtorch_cuda is present. */
  cuda: boolean;
  /** Built with the C++11 ABI of libstdc++ (`_GLIBCXX_USE_CXX11_ABI=1`): Debian's and PyTorch 2.x wheels are. */
  cxx11Abi: boolean;
}

/** Whether a file or folder exists. */
export function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Runs a command; its stdout (and stderr unless `quiet`), and whether it succeeded. */
export function run(cmd: string, args: string[], quiet = false): { ok: boolean; out: string } {
  try {
    const r = new Deno.Command(cmd, { args, stdout: "piped", stderr: quiet ? "null" : "piped" })
      .outputSync();
    const out = new TextDecoder().decode(r.stdout) +
      (quiet ? "" : new TextDecoder().decode(r.stderr));
    return { ok: r.success, out };
  } catch {
    return { ok: false, out: `${cmd}: not found` };
  }
}

function fromPrefix(source: string, prefix: string): Libtorch | null {
  const libDir = `${prefix}/lib`;
  if (!exists(`${libDir}/libtorch_cpu.so`) || !exists(`${prefix}/include/ATen/ATen.h`)) return null;
  const include = [`${prefix}/include`, `${prefix}/include/torch/csrc/api/include`];
  const cuda = exists(`${libDir}/libtorch_cuda.so`);
  return { source, include, libDir, version: readVersion(include), cuda, cxx11Abi: libCxx11Abi(libDir) };
}

function readVersion(include: string[]): string {
  for (const dir of include) {
    const file = `${dir}/torch/version.h`;
    if (!exists(file)) continue;
    const m = Deno.readTextFileSync(file).match(/#define TORCH_VERSION "([^"]+)"/);
    if (m) return m[1];
    const parts = ["MAJOR", "MINOR", "PATCH"].map((p) =>
      Deno.readTextFileSync(file).match(new RegExp(`TORCH_VERSION_${p} (\\d+)`))?.[1] ?? "0"
    );
    return parts.join(".");
  }
  return "unknown";
}

function debianLibtorch(): Libtorch | null {
  const libDir = "/usr/lib/x86_64-linux-gnu";
  if (!exists("/usr/include/ATen/ATen.h") || !exists(`${libDir}/libtorch_cpu.so`)) return null;
  const include = ["/usr/include", "/usr/include/torch/csrc/api/include"];
  return { source: "debian", include, libDir, version: readVersion(include), cuda: false, cxx11Abi: true };
}

/** Finds libtorch as described in build.ts, installing Debian's when nothing else is there. */
export function findLibtorch(): Libtorch {
  const env = Deno.env.get("LIBTORCH");
  if (env) {
    const found = fromPrefix("LIBTORCH", env);
    if (!found) throw new Error(`LIBTORCH=${env} has no include/ATen/ATen.h or lib/libtorch_cpu.so`);
    return found;
  }
  for (const py of ["python3", "/usr/bin/python3"]) {
    const r = run(py, [
      "-c",
      "import torch,os;print(os.path.dirname(torch.__file__));print(int(torch._C._GLIBCXX_USE_CXX11_ABI))",
    ], true);
    const [prefix, abi] = r.out.trim().split("\n");
    const found = r.ok ? fromPrefix("wheel", prefix) : null;
    if (found) return abi === "0" || abi === "1" ? { ...found, cxx11Abi: abi === "1" } : found; // torch says it
  }
  const debian = debianLibtorch();
  if (debian) return debian;
  if (Deno.uid() === 0) {
    console.error("libtorch not found: installing Debian's libtorch-dev with apt-get");
    run("apt-get", ["update", "-qq"]);
    const r = run("apt-get", ["install", "-y", "-qq", "libtorch-dev", "libopenblas0-pthread"]);
    if (!r.ok) throw new Error(`apt-get install libtorch-dev failed:\n${r.out}`);
    const installed = debianLibtorch();
    if (installed) return installed;
  }
  throw new Error(
    "libtorch not found: set LIBTORCH, install a PyTorch wheel, or `apt-get install libtorch-dev`",
  );
}

/**
 * Include folders for a CUDA libtorch: every `nvidia/<package>/include` beside a wheel's torch/ folder
 * (cuda_runtime, cublas, cusparse, cusolver, cudnn, nccl, …: ATen's CUDA headers, which c10d's NCCL header
 * pulls in through CUDAContext.h, need several of them), then the CUDA toolkit's /usr/local/cuda/include.
 *
 * @param libDir The folder of libtorch_cpu.so (`<site-packages>/torch/lib` for a wheel).
 * @returns The folders that exist, in a stable order.
 */
export function cudaIncludeDirs(libDir: string): string[] {
  const nvidia = `${libDir}/../../nvidia`;
  const dirs: string[] = [];
  try {
    for (const e of Deno.readDirSync(nvidia)) {
      if (exists(`${nvidia}/${e.name}/include`)) dirs.push(`${nvidia}/${e.name}/include`);
    }
  } catch { /* not a wheel with nvidia packages */ }
  dirs.sort();
  if (exists("/usr/local/cuda/include")) dirs.push("/usr/local/cuda/include");
  return dirs;
}

/**
 * Whether the libtorch in `libDir` uses the C++11 ABI, read from libc10.so's exported names (a cxx11
 * build names `std::__cxx11::basic_string`); true when they cannot be read (nm missing).
 */
export function libCxx11Abi(libDir: string): boolean {
  const lib = ["libc10.so", "libtorch_cpu.so"].map((f) => `${libDir}/${f}`).find(exists);
  if (!lib) return true;
  const r = run("nm", ["-D", "--defined-only", lib], true);
  return !r.ok || abiOfSymbols(r.out);
}

/**
 * The ABI `nm -D` output shows: libc10 exports many functions taking std::string, named with
 * `__cxx11` under the C++11 ABI and never under the old one. An empty list tells nothing: C++11.
 */
export function abiOfSymbols(symbols: string): boolean {
  return symbols.trim() === "" || symbols.includes("__cxx11");
}
