/**
 * The identity of the shim's source: a hash of every file in `ffi/`, shared by the build script
 * (which writes it next to the built library) and the loader (which refuses a stale library).
 *
 * @module
 */

/**
 * Files of the shim, in build order; `cuda.cpp` is compiled only against a CUDA libtorch, `dist.cpp`
 * only where libtorch ships the c10d headers.
 */
export const SHIM_SOURCES = ["shim.h", "ops.cpp", "cuda.cpp", "dist.cpp"] as const;

/** FNV-1a (64-bit) over the given byte arrays, as 16 hex digits. Synchronous and dependency-free. */
export function fnv1a64(parts: Uint8Array[]): string {
  let h = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  const mask = 0xffffffffffffffffn;
  // Mix 32-bit words through BigInt: slow per byte, so fold 4 bytes at a time.
  for (const bytes of parts) {
    for (let i = 0; i < bytes.length; i += 4) {
      const word = bytes[i] | (bytes[i + 1] ?? 0) << 8 | (bytes[i + 2] ?? 0) << 16 |
        (bytes[i + 3] ?? 0) << 24;
      h = ((h ^ BigInt(word >>> 0)) * prime) & mask;
    }
  }
  return h.toString(16).padStart(16, "0");
}

/** Hash of the shim sources found in `ffiDir` (a directory path). */
export function shimSourceHash(ffiDir: string): string {
  return fnv1a64(SHIM_SOURCES.map((f) => Deno.readFileSync(`${ffiDir}/${f}`)));
}

/**
 * The per-user cache folder of the shim built from the sources at `ffiUrl` (the module's `ffi/`):
 * `$XDG_CACHE_HOME/unigrad/<key>` (`~/.cache/unigrad/<key>` by default), the key being the hash of the
 * sources for a local module and the hash of their address for one served over https (immutable per
 * version).
 */
export function userCacheDir(ffiUrl: URL): string {
  const base = Deno.env.get("XDG_CACHE_HOME") || `${Deno.env.get("HOME") ?? "/tmp"}/.cache`;
  const key = ffiUrl.protocol === "file:"
    ? shimSourceHash(ffiUrl.pathname.replace(/\/$/, ""))
    : fnv1a64([new TextEncoder().encode(ffiUrl.href)]);
  return `${base}/unigrad/${key}`;
}
