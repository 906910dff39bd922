/**
 * Builds the C shim (`ffi/`) into `build/cache/<key>/libunigrad.so` and records it in
 * `build/shim.json`, where the module looks for it.
 *
 * libtorch is found in this order: `$LIBTORCH` (a folder with include/ and lib/), the libtorch inside
 * an installed PyTorch wheel (through python3), then Debian's `libtorch-dev` (installed with apt when
 * missing and running as root). The build is cached, keyed by libtorch version, location and the
 * shim source hash, so a second run costs nothing.
 *
 * Usage: `deno task build` (or `deno run -A scripts/build_shim.ts [--force]`).
 *
 * @module
 */
import { fnv1a64, SHIM_SOURCES, shimSourceHash } from "../src/torch/_shim_key.ts";

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
}

const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** Whether a file or folder exists. */
export function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

function run(cmd: string, args: string[], quiet = false): { ok: boolean; out: string } {
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
  return { source, include, libDir, version: readVersion(include), cuda: exists(`${libDir}/libtorch_cuda.so`) };
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
  return { source: "debian", include, libDir, version: readVersion(include), cuda: false };
}

/** Finds libtorch as described in the module doc, installing Debian's when nothing else is there. */
export function findLibtorch(): Libtorch {
  const env = Deno.env.get("LIBTORCH");
  if (env) {
    const found = fromPrefix("LIBTORCH", env);
    if (!found) throw new Error(`LIBTORCH=${env} has no include/ATen/ATen.h or lib/libtorch_cpu.so`);
    return found;
  }
  for (const py of ["python3", "/usr/bin/python3"]) {
    const r = run(py, ["-c", "import torch,os;print(os.path.dirname(torch.__file__))"], true);
    const found = r.ok ? fromPrefix("wheel", r.out.trim()) : null;
    if (found) return found;
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

/** CUDA runtime headers: the wheel's `nvidia/<pkg>/include` folders, then /usr/local/cuda. */
function cudaIncludes(lt: Libtorch): string[] {
  const nvidia = `${lt.libDir}/../../nvidia`;
  const dirs: string[] = [];
  try {
    for (const e of Deno.readDirSync(nvidia)) dirs.push(`${nvidia}/${e.name}/include`);
  } catch { /* not a wheel with nvidia packages */ }
  dirs.push("/usr/local/cuda/include");
  const found = dirs.find((d) => exists(`${d}/cuda_runtime_api.h`));
  return found ? [`-I${found}`] : [];
}

/** Which c10d backends `ffi/dist.cpp` can be compiled with, and the flags that turn them on. */
interface DistBuild {
  /** Whether the c10d headers are there at all (else dist.cpp is left out). */
  c10d: boolean;
  /** Extra compiler flags for dist.cpp. */
  flags: string[];
}

/** c10d: Gloo where its headers are (Debian's libgloo-dev), NCCL where a CUDA wheel brings nccl.h. */
function distBuild(lt: Libtorch): DistBuild {
  const c10d = lt.include.some((d) => exists(`${d}/torch/csrc/distributed/c10d/TCPStore.hpp`));
  const flags: string[] = [];
  if (!c10d) return { c10d, flags };
  if ([...lt.include, "/usr/include", "/usr/local/include"].some((d) => exists(`${d}/gloo/algorithm.h`))) {
    flags.push("-DUSE_C10D_GLOO");
  }
  const nccl = lt.cuda ? [`${lt.libDir}/../../nvidia/nccl/include`, "/usr/include"] : [];
  const ncclInclude = nccl.find((d) => exists(`${d}/nccl.h`));
  if (ncclInclude) flags.push("-DUSE_C10D_NCCL", `-I${ncclInclude}`);
  return { c10d, flags };
}

/** Compiles the shim when no cached build matches; returns the path of the library. */
export async function buildShim(force = false): Promise<string> {
  const lt = findLibtorch();
  const sourceHash = shimSourceHash(`${root}/ffi`);
  const flags = ["-std=c++17", "-O2", "-fPIC", "-fvisibility=hidden", "-D_GLIBCXX_USE_CXX11_ABI=1"];
  const dist = distBuild(lt);
  const key = fnv1a64([
    new TextEncoder().encode(
      [lt.version, lt.libDir, lt.cuda, sourceHash, ...flags, dist.c10d, ...dist.flags].join("|"),
    ),
  ]);
  const dir = `${root}/build/cache/${key}`;
  const lib = `${dir}/libunigrad.so`;
  if (force || !exists(lib)) {
    Deno.mkdirSync(dir, { recursive: true });
    const units = SHIM_SOURCES.filter((f) =>
      f.endsWith(".cpp") && (lt.cuda || f !== "cuda.cpp") && (dist.c10d || f !== "dist.cpp")
    );
    const includes = [...lt.include.map((d) => `-I${d}`), ...(lt.cuda ? cudaIncludes(lt) : [])];
    console.error(`building shim against libtorch ${lt.version} (${lt.source}, ${lt.libDir})`);
    const t0 = performance.now();
    // Compile the translation units in parallel, then link.
    const compiled = await Promise.all(units.map(async (unit) => {
      const obj = `${dir}/${unit}.o`;
      const r = await new Deno.Command("g++", {
        args: [
          ...flags,
          ...(unit === "dist.cpp" ? dist.flags : []),
          ...includes,
          "-c",
          `${root}/ffi/${unit}`,
          "-o",
          obj,
        ],
        stderr: "piped",
      }).output();
      if (!r.success) throw new Error(`compiling ffi/${unit} failed:\n${new TextDecoder().decode(r.stderr)}`);
      return obj;
    }));
    const cudaLibs = lt.cuda ? ["-Wl,--no-as-needed", "-ltorch_cuda", "-lc10_cuda", "-Wl,--as-needed"] : [];
    const tmp = `${lib}.tmp`;
    const r = run("g++", [
      "-shared",
      "-o",
      tmp,
      ...compiled,
      `-L${lt.libDir}`,
      `-Wl,-rpath,${lt.libDir}`,
      ...cudaLibs,
      "-ltorch",
      "-ltorch_cpu",
      "-lc10",
    ]);
    if (!r.ok) throw new Error(`linking the shim failed:\n${r.out}`);
    Deno.renameSync(tmp, lib);
    console.error(`built ${lib} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const manifest = {
    path: lib,
    sourceHash,
    torchVersion: lt.version,
    libtorch: lt.libDir,
    cuda: lt.cuda,
    dist: dist.c10d,
  };
  Deno.writeTextFileSync(`${root}/build/shim.json.tmp`, JSON.stringify(manifest, null, 2) + "\n");
  Deno.renameSync(`${root}/build/shim.json.tmp`, `${root}/build/shim.json`);
  return lib;
}

if (import.meta.main) {
  try {
    console.log(await buildShim(Deno.args.includes("--force")));
  } catch (e) {
    console.error((e as Error).message);
    Deno.exit(1);
  }
}
