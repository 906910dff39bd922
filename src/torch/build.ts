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
import { cudaIncludeDirs, exists, findLibtorch, type Libtorch, run } from "./_libtorch.ts";

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

/** What leaving out an optional translation unit costs. */
const OPTIONAL_PARTS: Record<string, string> = {
  "cuda.cpp": "no CUDA memory statistics nor cuda.setDevice",
  "dist.cpp": "no distributed training: c10d",
};

/** The translation units a build in `dir` compiled (all of them for builds that predate the record). */
function builtUnits(dir: string): string[] {
  try {
    return JSON.parse(Deno.readTextFileSync(`${dir}/units.json`));
  } catch {
    return SHIM_SOURCES.filter((f) => f.endsWith(".cpp"));
  }
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
  // The C++ ABI of the libtorch found (a pre-cxx11 wheel would otherwise fail at link or load time).
  const flags = [
    "-std=c++17",
    "-O2",
    "-fPIC",
    "-fvisibility=hidden",
    `-D_GLIBCXX_USE_CXX11_ABI=${lt.cxx11Abi ? 1 : 0}`,
  ];
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
    const includes = [...lt.include, ...(lt.cuda ? cudaIncludeDirs(lt.libDir) : [])].map((d) => `-I${d}`);
    console.error(`building the unigrad shim against libtorch ${lt.version} (${lt.source}, ${lt.libDir})`);
    const t0 = performance.now();
    // Compile the translation units in parallel, then link.
    // ops.cpp is the shim; cuda.cpp and dist.cpp are optional parts (their symbols are bound as optional):
    // one of them failing to compile (another wheel's header layout) leaves it out with a warning instead
    // of failing the whole build, and the manifest says what the shim has.
    const built = await Promise.all(units.map(async (unit) => {
      const obj = `${dir}/${unit}.o`;
      const r = await new Deno.Command("g++", {
        args: [...flags, ...(unit === "dist.cpp" ? dist.flags : []), ...includes, "-c", `${ffiDir}/${unit}`, "-o", obj],
        stderr: "piped",
      }).output();
      if (r.success) return obj;
      const message = `compiling ffi/${unit} failed:\n${new TextDecoder().decode(r.stderr)}`;
      if (unit === "ops.cpp") throw new Error(message);
      console.error(
        `warning: the shim is built without ffi/${unit} (${OPTIONAL_PARTS[unit]}): ${message.slice(0, 4000)}`,
      );
      return null;
    }));
    const compiled = built.filter((o): o is string => o !== null);
    Deno.writeTextFileSync(`${dir}/units.json`, JSON.stringify(units.filter((_, i) => built[i] !== null)));
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
    dist: dist.c10d && builtUnits(dir).includes("dist.cpp"),
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
