/**
 * Finds, opens and exposes the shim library. Internal: nothing here leaves src/torch.
 *
 * The shim is found, in order: `init({ shimPath })`, the `UNIGRAD_SHIM` environment variable (a path
 * to `libunigrad.so`), `build/shim.json` of the checkout this file belongs to (written by
 * `deno task build`), then the per-user cache that `deno run -A jsr:@unigrad/unigrad/build` (the
 * module's src/torch/build.ts) fills, `$XDG_CACHE_HOME/unigrad/<key>/shim.json`. A shim built from
 * other sources than this module's `ffi/` is refused as stale.
 *
 * @module
 */
import { SYMBOLS, type Symbols } from "./_symbols.ts";
import { shimSourceHash, userCacheDir } from "./_shim_key.ts";

const BUILD_HINT = "run `deno task build` in the unigrad checkout, or `deno run -A jsr:@unigrad/unigrad/build` " +
  "once for the published module (or the module's src/torch/build.ts), or point UNIGRAD_SHIM (or " +
  "init({ shimPath })) at a built libunigrad.so";

let library: Deno.DynamicLibrary<typeof SYMBOLS> | null = null;
let loadError: Error | null = null;

function unavailable(): Symbols {
  return new Proxy({} as Symbols, {
    get() {
      throw loadError ?? new Error(`The unigrad shim is not loaded: ${BUILD_HINT}`);
    },
  });
}

/** The shim's symbols (a throwing stand-in until a library is opened). */
export let sym: Symbols = unavailable();

/** The manifest at `path` ({ path, sourceHash }), or null when there is none. */
function readManifest(path: string): { path: string; sourceHash: string } | null {
  try {
    return JSON.parse(Deno.readTextFileSync(path));
  } catch {
    return null;
  }
}

/** The built library a checkout's `build/shim.json` or the per-user cache records for this module's `ffi/`. */
function findBuilt(): string {
  const ffi = new URL("../../ffi/", import.meta.url);
  const local = ffi.protocol === "file:";
  const checkout = new URL("../../build/shim.json", import.meta.url).pathname;
  const user = `${userCacheDir(ffi)}/shim.json`;
  const manifest = (local ? readManifest(checkout) : null) ?? readManifest(user);
  if (manifest === null) {
    throw new Error(`The unigrad shim is not built (no ${local ? `${checkout} and no ` : ""}${user}): ${BUILD_HINT}`);
  }
  if (local && shimSourceHash(ffi.pathname.replace(/\/$/, "")) !== manifest.sourceHash) {
    throw new Error(`The unigrad shim at ${manifest.path} is stale (built from other ffi/ sources): ${BUILD_HINT}`);
  }
  return manifest.path;
}

/** Opens the shim at `path` (or wherever it is found) and makes it the active library. */
export function openShim(path?: string): void {
  const file = path ?? Deno.env.get("UNIGRAD_SHIM") ?? findBuilt();
  let opened: Deno.DynamicLibrary<typeof SYMBOLS>;
  try {
    opened = Deno.dlopen(file, SYMBOLS);
  } catch (e) {
    throw new Error(`Cannot open the unigrad shim ${file}: ${(e as Error).message}; ${BUILD_HINT}`);
  }
  library?.close();
  library = opened;
  sym = opened.symbols;
  loadError = null;
  const threads = Number(Deno.env.get("UNIGRAD_NUM_THREADS") ?? navigator.hardwareConcurrency ?? 1);
  // Debian's libtorch starts with a single intra-op thread; use the machine's cores.
  if (threads > 0) sym.ts_set_num_threads(threads);
  // Keep freed tensor memory mapped for reuse (256 MiB mmap threshold, 1 GiB trim threshold, 64 MiB top
  // pad): fresh pages cost a fault each. UNIGRAD_MALLOC=default keeps glibc's own settings.
  if (Deno.env.get("UNIGRAD_MALLOC") !== "default") sym.ts_mallopt(256 << 20, 1 << 30, 64 << 20);
}

/** The last error message libtorch reported on this thread. */
export function lastError(): string {
  const p = sym.ts_last_error();
  // Keep the first paragraph: dispatcher errors append a long list of registered backends.
  return p === null ? "" : Deno.UnsafePointerView.getCString(p).split("\n\n")[0];
}

try {
  openShim();
} catch (e) {
  loadError = e as Error;
}
