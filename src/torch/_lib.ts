/**
 * Finds, opens and exposes the shim library. Internal: nothing here leaves src/torch.
 *
 * The shim is found, in order: `init({ shimPath })`, the `UNIGRAD_SHIM` environment variable (a path
 * to `libunigrad.so`), then `build/shim.json` of the checkout this file belongs to (written by
 * `deno task build`). A checkout's shim built from other sources than `ffi/` is refused as stale.
 *
 * @module
 */
import { SYMBOLS, type Symbols } from "./_symbols.ts";
import { shimSourceHash } from "./_shim_key.ts";

const BUILD_HINT = "run `deno task build` in the unigrad checkout, or point UNIGRAD_SHIM (or " +
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

function fromCheckout(): string {
  const manifestUrl = new URL("../../build/shim.json", import.meta.url);
  if (manifestUrl.protocol !== "file:") {
    throw new Error(
      `The unigrad shim location is unknown for a module served from ${manifestUrl.origin}: ${BUILD_HINT}`,
    );
  }
  let manifest: { path: string; sourceHash: string };
  try {
    manifest = JSON.parse(Deno.readTextFileSync(manifestUrl));
  } catch {
    throw new Error(`The unigrad shim is not built (no ${manifestUrl.pathname}): ${BUILD_HINT}`);
  }
  const ffiDir = new URL("../../ffi", import.meta.url).pathname;
  const current = shimSourceHash(ffiDir);
  if (current !== manifest.sourceHash) {
    throw new Error(`The unigrad shim at ${manifest.path} is stale (built from other ffi/ sources): ${BUILD_HINT}`);
  }
  return manifest.path;
}

/** Opens the shim at `path` (or wherever it is found) and makes it the active library. */
export function openShim(path?: string): void {
  const file = path ?? Deno.env.get("UNIGRAD_SHIM") ?? fromCheckout();
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
