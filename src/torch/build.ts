/**
 * Builds the C shim from the `ffi/` sources that ship with the module, against the libtorch it finds,
 * into a per-user cache, where the module looks for it: `$XDG_CACHE_HOME/unigrad/<key>/` (by default
 * `~/.cache/unigrad/<key>/`; the key is the hash of the sources, or of their address for a module served
 * over https). This is the one command a user of the published module runs once:
 *
 *     deno run -A jsr:@unigrad/unigrad/build
 *
 * In a checkout, `deno task build` builds into `build/` instead (the same code, other folders).
 *
 * libtorch is found in this order: `$LIBTORCH` (a folder with include/ and lib/), the libtorch inside
 * an installed PyTorch wheel (through python3), then Debian's `libtorch-dev` (installed with apt when
 * missing and running as root). A build is cached, keyed by libtorch version, location and the source
 * hash, so a second run costs nothing. Needs g++.
 *
 * @module
 */
import { fnv1a64, SHIM_SOURCES, shimSourceHash, userCacheDir } from "./_shim_key.ts";

/** Where a libtorch lives and what it is. */
interface Libtorch {
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

/** Whether a file or folder exists. */
function exists(path: string): boolean {
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
function findLibtorch(): Libtorch {
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

/** Options of `buildShim`. */
export interface BuildShimOptions {
  /** Rebuild even when a cached build matches. @default false */
  force?: boolean;
  /** Folder of the builds (one subfolder per libtorch and source hash). @default the per-user cache */
  cacheDir?: string;
  /** Where to record the built library for the loader. @default `<cacheDir>/shim.json` */
  manifest?: string;
}

/** The `ffi/` sources that ship with this module, as a local folder (fetched into the cache when served over https). */
async function sourceDir(cacheDir: string): Promise<string> {
  const ffi = new URL("../../ffi/", import.meta.url);
  if (ffi.protocol === "file:") return ffi.pathname;
  const dir = `${cacheDir}/ffi`;
  Deno.mkdirSync(dir, { recursive: true });
  for (const file of SHIM_SOURCES) {
    const response = await fetch(new URL(file, ffi));
    if (!response.ok) throw new Error(`Cannot fetch the shim source ${new URL(file, ffi)}: HTTP ${response.status}`);
    Deno.writeFileSync(`${dir}/${file}`, new Uint8Array(await response.arrayBuffer()));
  }
  return dir;
}

/**
 * Compiles the shim when no cached build matches, records it in the manifest the loader reads, and
 * returns the library's path. Opening it is left to the next import of the module (or `init()`).
 *
 * @param options Rebuild, and the folders (the per-user cache by default).
 * @returns The path of the built `libunigrad.so`.
 * @throws {Error} When no libtorch is found, or compiling or linking fails (with the compiler's output).
 *
 * @example Usage
 * ```ts ignore
 * import { buildShim } from "@unigrad/unigrad/build";
 *
 * const path = await buildShim(); // once per machine and version, ~15 s on 2 cores
 * console.log(path);
 * ```
 */
export async function buildShim(options: BuildShimOptions = {}): Promise<string> {
  const cacheDir = options.cacheDir ?? userCacheDir(new URL("../../ffi/", import.meta.url));
  const ffiDir = await sourceDir(cacheDir);
  const lt = findLibtorch();
  const sourceHash = shimSourceHash(ffiDir);
  const flags = ["-std=c++17", "-O2", "-fPIC", "-fvisibility=hidden", "-D_GLIBCXX_USE_CXX11_ABI=1"];
  const dist = distBuild(lt);
  const key = fnv1a64([
    new TextEncoder().encode(
      [lt.version, lt.libDir, lt.cuda, sourceHash, ...flags, dist.c10d, ...dist.flags].join("|"),
    ),
  ]);
  const dir = `${cacheDir}/${key}`;
  const lib = `${dir}/libunigrad.so`;
  if (options.force || !exists(lib)) {
    Deno.mkdirSync(dir, { recursive: true });
    const units = SHIM_SOURCES.filter((f) =>
      f.endsWith(".cpp") && (lt.cuda || f !== "cuda.cpp") && (dist.c10d || f !== "dist.cpp")
    );
    const includes = [...lt.include.map((d) => `-I${d}`), ...(lt.cuda ? cudaIncludes(lt) : [])];
    console.error(`building the unigrad shim against libtorch ${lt.version} (${lt.source}, ${lt.libDir})`);
    const t0 = performance.now();
    // Compile the translation units in parallel, then link.
    const compiled = await Promise.all(units.map(async (unit) => {
      const obj = `${dir}/${unit}.o`;
      const r = await new Deno.Command("g++", {
        args: [...flags, ...(unit === "dist.cpp" ? dist.flags : []), ...includes, "-c", `${ffiDir}/${unit}`, "-o", obj],
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
  const manifest = options.manifest ?? `${cacheDir}/shim.json`;
  const record = {
    path: lib,
    sourceHash,
    torchVersion: lt.version,
    libtorch: lt.libDir,
    cuda: lt.cuda,
    dist: dist.c10d,
  };
  Deno.writeTextFileSync(`${manifest}.tmp`, JSON.stringify(record, null, 2) + "\n");
  Deno.renameSync(`${manifest}.tmp`, manifest);
  return lib;
}

if (import.meta.main) {
  try {
    console.log(await buildShim({ force: Deno.args.includes("--force") }));
  } catch (e) {
    console.error((e as Error).message);
    Deno.exit(1);
  }
}
