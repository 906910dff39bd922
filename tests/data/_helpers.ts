import type { Tensor } from "../../mod.ts";

/** max |a − b| as a number. */
export function maxDiff(a: Tensor, b: Tensor): number {
  using d = a.sub(b);
  using m = d.abs().max();
  return m.item();
}

/** A fresh temporary folder, removed by the returned disposer. */
export async function tempDir(): Promise<{ path: string; [Symbol.asyncDispose](): Promise<void> }> {
  const path = await Deno.makeTempDir({ prefix: "unigrad-data-" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}
