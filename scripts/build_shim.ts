/**
 * Builds the C shim (`ffi/`) of this checkout into `build/cache/<key>/libunigrad.so` and records it in
 * `build/shim.json`, where the module looks for it first. The build itself is `buildShim` of
 * src/torch/build.ts (what users of the published module run as `deno run -A jsr:@unigrad/unigrad/build`,
 * into their per-user cache).
 *
 * Usage: `deno task build` (or `deno run -A scripts/build_shim.ts [--force]`).
 *
 * @module
 */
import { buildShim as build } from "../src/torch/build.ts";

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

/** Builds this checkout's shim when no cached build matches; returns the path of the library. */
export async function buildShim(force = false): Promise<string> {
  Deno.mkdirSync(`${root}/build`, { recursive: true });
  return await build({ force, cacheDir: `${root}/build/cache`, manifest: `${root}/build/shim.json` });
}

if (import.meta.main) {
  try {
    console.log(await buildShim(Deno.args.includes("--force")));
  } catch (e) {
    console.error((e as Error).message);
    Deno.exit(1);
  }
}
