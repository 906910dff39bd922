import assert from "node:assert/strict";
import { torchVersion } from "../../mod.ts";
import { type ChildResult, runChild } from "../_child.ts";

const root = new URL("../../", import.meta.url);
const manifest = JSON.parse(Deno.readTextFileSync(new URL("build/shim.json", root)));

/** Runs a tiny script that imports the tensor core at `modUrl` and makes one tensor. */
async function runScript(
  modUrl: URL,
  env: Record<string, string> = {},
): Promise<ChildResult & { success: boolean; text: string }> {
  const dir = await Deno.makeTempDir();
  try {
    const script = `${dir}/main.ts`;
    await Deno.writeTextFile(
      script,
      `import { ones, torchVersion } from ${JSON.stringify(modUrl.href)};\n` +
        `console.log(torchVersion(), ones([2]).add(1).toArray().join(","));\n`,
    );
    const out = await runChild(Deno.execPath(), {
      args: ["run", "-A", "--no-lock", script],
      env: { ...env, NO_COLOR: "1" },
      timeoutMs: 120_000,
    });
    return { ...out, success: out.code === 0 && !out.timedOut, text: out.stdout + out.stderr };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("torchVersion() names a libtorch 1.x or 2.x", () => {
  const v = torchVersion();
  assert.ok(v.startsWith("1.") || v.startsWith("2."), v);
});

Deno.test("UNIGRAD_SHIM pointing nowhere fails with a message naming `deno task build`", async () => {
  const r = await runScript(new URL("mod.ts", root), { UNIGRAD_SHIM: "/nonexistent/libunigrad.so" });
  assert.equal(r.success, false);
  assert.match(r.text, /Cannot open the unigrad shim \/nonexistent\/libunigrad\.so/);
  assert.match(r.text, /deno task build/);
});

Deno.test("UNIGRAD_SHIM pointing at a built library is used", async () => {
  const r = await runScript(new URL("mod.ts", root), { UNIGRAD_SHIM: manifest.path });
  assert.equal(r.success, true, r.text);
  assert.equal(r.text.trim(), `${torchVersion()} 2,2`);
});

Deno.test("a checkout without a build, or with a stale one, fails with a message naming `deno task build`", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${tmp}/src/torch`, { recursive: true });
    await Deno.mkdir(`${tmp}/ffi`);
    for (const e of Deno.readDirSync(new URL("src/torch", root))) {
      await Deno.copyFile(new URL(`src/torch/${e.name}`, root), `${tmp}/src/torch/${e.name}`);
    }
    for (const e of Deno.readDirSync(new URL("ffi", root))) {
      await Deno.copyFile(new URL(`ffi/${e.name}`, root), `${tmp}/ffi/${e.name}`);
    }
    const mod = new URL(`file://${tmp}/src/torch/mod.ts`);
    const noUserCache = { XDG_CACHE_HOME: `${tmp}/cache` };
    const unbuilt = await runScript(mod, noUserCache);
    assert.equal(unbuilt.success, false);
    assert.match(
      unbuilt.text,
      /The unigrad shim is not built \(no .*build\/shim\.json and no .*\/cache\/unigrad\/\w+\/shim\.json\)/,
    );
    assert.match(unbuilt.text, /deno run -A jsr:@unigrad\/unigrad\/build/);
    assert.match(unbuilt.text, /deno task build/);
    await Deno.mkdir(`${tmp}/build`);
    await Deno.writeTextFile(`${tmp}/build/shim.json`, JSON.stringify({ ...manifest, sourceHash: "0000" }));
    const stale = await runScript(mod, noUserCache);
    assert.equal(stale.success, false);
    assert.match(stale.text, /is stale \(built from other ffi\/ sources\)/);
    assert.match(stale.text, /deno task build/);
    await Deno.writeTextFile(`${tmp}/build/shim.json`, JSON.stringify(manifest));
    const fresh = await runScript(mod, noUserCache);
    assert.equal(fresh.success, true, fresh.text);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
