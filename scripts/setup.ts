/**
 * Prepares a fresh machine: installs the Debian packages unigrad needs (when missing and running as
 * root) and builds the shim (cached). Run by `deno task test`, `deno task train` and the benchmarks.
 *
 * Packages: libtorch-dev (CPU libtorch 1.13), libopenblas0-pthread (fast BLAS for it),
 * dataset-fashion-mnist (the default data), libgloo-dev (the Gloo headers the c10d part of the shim
 * compiles against: distributed training on CPU), python3-torch, python3-torchvision and python3-pil
 * (only with `--bench`: the PyTorch side of the benchmarks), chromium (only with `--test`: the watch
 * page's browser tests).
 *
 * Usage: `deno run -A scripts/setup.ts [--bench] [--test]`
 *
 * @module
 */
import { buildShim, exists } from "./build_shim.ts";

interface Need {
  pkg: string;
  present: string;
}

const NEEDS: Need[] = [
  { pkg: "libopenblas0-pthread", present: "/usr/lib/x86_64-linux-gnu/openblas-pthread" },
  { pkg: "dataset-fashion-mnist", present: "/usr/share/datasets/fashion-mnist" },
  { pkg: "libgloo-dev", present: "/usr/include/gloo/algorithm.h" },
];
const TEST_NEEDS: Need[] = [
  { pkg: "chromium", present: "/usr/bin/chromium" }, // tests/watch_browser_test.ts
];
const BENCH_NEEDS: Need[] = [
  { pkg: "python3-torch", present: "/usr/lib/python3/dist-packages/torch" },
  { pkg: "python3-torchvision", present: "/usr/lib/python3/dist-packages/torchvision" }, // bench:decode
  { pkg: "python3-pil", present: "/usr/lib/python3/dist-packages/PIL" }, // bench:decode
];

function aptInstall(pkgs: string[]): void {
  if (pkgs.length === 0) return;
  if (Deno.uid() !== 0) {
    console.error(`missing Debian packages (install them as root): apt-get install ${pkgs.join(" ")}`);
    return;
  }
  console.error(`installing ${pkgs.join(", ")} with apt-get`);
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  new Deno.Command("apt-get", { args: ["update", "-qq"], env, stdout: "null" }).outputSync();
  const r = new Deno.Command("apt-get", { args: ["install", "-y", "-qq", ...pkgs], env, stdout: "null" })
    .outputSync();
  if (!r.success) throw new Error(`apt-get install ${pkgs.join(" ")} failed:\n${new TextDecoder().decode(r.stderr)}`);
}

/** Installs what is missing and builds the shim; returns the shim's path. */
export async function setup(options: { bench?: boolean; test?: boolean } = {}): Promise<string> {
  const needs = [...NEEDS, ...(options.bench ? BENCH_NEEDS : [])];
  aptInstall(needs.filter((n) => !exists(n.present)).map((n) => n.pkg));
  if (options.test) {
    // Optional: without it (no root, no network) the browser tests say why and are ignored.
    try {
      aptInstall(TEST_NEEDS.filter((n) => !exists(n.present)).map((n) => n.pkg));
    } catch (e) {
      console.error(`chromium could not be installed (the browser tests will be ignored): ${(e as Error).message}`);
    }
  }
  return await buildShim();
}

if (import.meta.main) {
  try {
    await setup({ bench: Deno.args.includes("--bench"), test: Deno.args.includes("--test") });
  } catch (e) {
    console.error((e as Error).message);
    Deno.exit(1);
  }
}
