/**
 * The package as a JSR user gets it: the files `deno publish --dry-run` lists, copied to a folder
 * outside the checkout (no build/, no tasks), imported from another folder through an import map, as a
 * project importing `jsr:@unigrad/unigrad` would. Before the one documented command the import fails
 * with a message naming it; after `deno run -A jsr:@unigrad/unigrad/build` (here the copy's
 * src/torch/build.ts) it trains a few steps.
 *
 * The consumer's per-user cache (a temporary XDG_CACHE_HOME) has its folder for these sources linked to
 * the checkout's build/cache/, so the build command finds the library `deno task build` compiled with
 * the same code, key and flags and only records it: the test stays within seconds, and compiles (a few
 * minutes) only when the checkout has no build.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { describeExit, runChild } from "./_child.ts";
import { shimSourceHash } from "../src/torch/_shim_key.ts";

const repo = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const denoDir = Deno.env.get("DENO_DIR") ?? join(Deno.env.get("HOME") ?? "/root", ".cache", "deno");
const LIMIT_MS = 300_000;

/** Runs deno with a clean environment (no UNIGRAD_SHIM) in `cwd`. */
async function deno(
  args: string[],
  cwd: string,
  cacheHome: string,
): Promise<{ ok: boolean; text: string; stdout: string }> {
  const env: Record<string, string> = {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: Deno.env.get("HOME") ?? "/root",
    DENO_DIR: denoDir,
    XDG_CACHE_HOME: cacheHome,
    UNIGRAD_NUM_THREADS: "1",
    NO_COLOR: "1",
  };
  const libtorch = Deno.env.get("LIBTORCH");
  if (libtorch) env.LIBTORCH = libtorch;
  const out = await runChild(Deno.execPath(), { args, cwd, env, clearEnv: true, timeoutMs: LIMIT_MS });
  const ok = out.code === 0 && !out.timedOut;
  return { ok, text: ok ? out.stdout + out.stderr : `${out.stdout}\n${describeExit(out, 40)}`, stdout: out.stdout };
}

/** The consumer's program: a few training steps of UniGrad on random images, printing the losses; it imports the root and two subpaths. */
const MAIN = `
import { buildTrainer, manualSeed, rand, scope, unigrad } from "@unigrad/unigrad";
import { liveTensors } from "@unigrad/unigrad/torch";
import { SETTINGS } from "@unigrad/unigrad/run";

if (SETTINGS.lr.default !== 0.1) throw new Error("the run subpath's settings table is not the package's");

manualSeed(0);
const encoder = { arch: "resnet20" as const, inChannels: 1, imageSize: 8, width: 4, projHidden: 16, projDim: 8, projDepth: 2 };
const setup = buildTrainer({ encoder, method: unigrad({ lambda: 1 }), totalSteps: 3, lr: 0.05 });
const losses: number[] = [];
for (let step = 0; step < 3; step++) {
  const result = scope(() => setup.trainer.step([rand([8, 1, 8, 8]), rand([8, 1, 8, 8])], step, 0.05, { withLoss: true }));
  losses.push(result.loss!.item());
  result.dispose();
}
setup.dispose();
console.log(JSON.stringify({ losses, live: liveTensors() }));
`;

Deno.test({
  name: "the published file set, copied outside the checkout, trains after its one build command",
  sanitizeResources: false,
  fn: async () => {
    // --no-check: the file list only (`deno task lint` and the publish check do the type checking).
    const listed = await deno(
      ["publish", "--dry-run", "--allow-dirty", "--no-check"],
      repo,
      Deno.env.get("XDG_CACHE_HOME") ?? "",
    );
    assert.ok(listed.ok, listed.text);
    const files = [...listed.text.matchAll(/^\s+file:\/\/(\S+) \(/gm)].map((m) => m[1].slice(repo.length + 1));
    assert.ok(
      files.includes("mod.ts") && files.includes("ffi/ops.cpp") && files.includes("src/torch/build.ts"),
      files.join(),
    );
    assert.ok(!files.some((f) => f.startsWith("build/") || f.startsWith("tests/")), files.join());

    const tmp = await Deno.makeTempDir({ prefix: "unigrad-consumer-" });
    try {
      for (const f of files) {
        await Deno.mkdir(join(tmp, "pkg", f, ".."), { recursive: true });
        await Deno.copyFile(join(repo, f), join(tmp, "pkg", f));
      }
      const app = join(tmp, "app");
      await Deno.mkdir(app);
      // The package's exports, as JSR maps them: the root and one entry point per folder.
      const exports = JSON.parse(await Deno.readTextFile(join(repo, "deno.json"))).exports as Record<string, string>;
      const imports = Object.fromEntries(
        Object.entries(exports).map(([sub, file]) => [join("@unigrad/unigrad", sub), join("../pkg", file)]),
      );
      await Deno.writeTextFile(join(app, "deno.json"), JSON.stringify({ imports }));
      await Deno.writeTextFile(join(app, "main.ts"), MAIN);

      // Without a build: a clear error naming the command.
      const unbuilt = await deno(["run", "-A", "--no-lock", "main.ts"], app, join(tmp, "empty-cache"));
      assert.equal(unbuilt.ok, false, unbuilt.text);
      assert.match(unbuilt.text, /The unigrad shim is not built .*deno run -A jsr:@unigrad\/unigrad\/build/);

      // The one command, then the training steps.
      const cache = join(tmp, "cache");
      await Deno.mkdir(join(cache, "unigrad"), { recursive: true });
      await Deno.symlink(join(repo, "build", "cache"), join(cache, "unigrad", shimSourceHash(join(repo, "ffi"))));
      const built = await deno(["run", "-A", "--no-lock", "../pkg/src/torch/build.ts"], app, cache);
      assert.ok(built.ok, built.text);
      assert.match(built.text, new RegExp(`${cache}/unigrad/\\w+/\\w+/libunigrad\\.so`));
      assert.ok(Deno.statSync(join(cache, "unigrad", shimSourceHash(join(tmp, "pkg", "ffi")), "shim.json")).isFile);
      const trained = await deno(["run", "-A", "--no-lock", "main.ts"], app, cache);
      assert.ok(trained.ok, trained.text);
      const { losses, live } = JSON.parse(trained.stdout.trim().split("\n").at(-1)!);
      assert.equal(losses.length, 3);
      assert.ok(losses.every(Number.isFinite), trained.text);
      assert.equal(live, 0);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
