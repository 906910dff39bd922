import assert from "node:assert/strict";
import { manualSeed, normalize, scope } from "../../mod.ts";
import { createMethod, createPreset, METHODS, TABLE1 } from "../../src/ssl/mod.ts";
import type { Features, Method } from "../../src/ssl/method.ts";
import { disposeState } from "../../src/ssl/state.ts";
import { assertClose, assertGradientMatchesAutograd, randomFeatures } from "./_helpers.ts";

/** Every method in every form, small. */
function everyForm(): Method[] {
  return [
    createMethod("unigrad", { lambda: 3 }),
    createMethod("moco", { queueSize: 5 }),
    createMethod("simclr"),
    createMethod("simclr", { form: "gradient" }),
    ...(["original", "directpred", "unified"] as const).flatMap((form) => [
      createMethod("byol", { form, hiddenDim: 6, lambda: 3 }),
      createMethod("simsiam", { form, hiddenDim: 6, lambda: 3 }),
    ]),
    ...(["original", "a-identity", "l2"] as const).map((form) => createMethod("barlow-twins", { form })),
    ...(["original", "l2"] as const).map((form) => createMethod("vicreg", { form, lambda: 3 })),
  ];
}

Deno.test("createMethod() builds every registered method and names the known ones on a typo", () => {
  assert.deepEqual(Object.keys(METHODS), ["unigrad", "moco", "simclr", "byol", "simsiam", "barlow-twins", "vicreg"]);
  for (const name of Object.keys(METHODS)) assert.equal(createMethod(name).name, name);
  assert.throws(
    () => createMethod("simclrr"),
    (e: Error) =>
      e instanceof TypeError &&
      e.message ===
        'Unknown method "simclrr": expected one of unigrad, moco, simclr, byol, simsiam, barlow-twins, vicreg',
  );
});

Deno.test("createPreset() selects each of the paper's Table 1 rows (a)–(j) by name or letter", () => {
  const rows = Object.values(TABLE1).map((r) => r.row);
  assert.deepEqual(rows, ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"]);
  for (const [name, r] of Object.entries(TABLE1)) {
    const [a, b] = [createPreset(name), createPreset(r.row)];
    assert.equal(a.name, r.method);
    assert.deepEqual([a.name, a.form, a.target], [b.name, b.form, b.target]);
  }
  assert.equal(createPreset("barlow-twins-l2", { target: "momentum" }).target, "momentum");
  assert.equal(createPreset("barlow_twins-a_identity").form, "a-identity"); // the older spelling
  assert.equal(createMethod("barlow_twins").name, "barlow-twins");
  assert.throws(() => createPreset("k"), /Unknown Table 1 preset "k": expected one of moco, simclr, byol/);
});

Deno.test("every method with a loss: gradient() equals autograd of loss() to 1e-9 in float64, leaking nothing", () => {
  manualSeed(110);
  for (const m of everyForm()) if (m.loss) assertGradientMatchesAutograd(m, { tol: 1e-9 });
});

Deno.test("every method works in float32 and agrees with its float64 gradient", () => {
  manualSeed(111);
  for (const m of everyForm()) {
    const s64 = m.initState(6, { dtype: "float64" });
    const s32 = m.initState(6, { dtype: "float32" });
    if (s64.predictor) m.loadState(s32, m.stateDict(s64)); // same predictor weights
    scope(() => {
      const f = randomFeatures(5, 6);
      const g = {} as Features;
      for (const [k, t] of Object.entries(f)) (g as unknown as Record<string, unknown>)[k] = t.detach().to("float32");
      Object.assign(g, { u1: normalize(g.z1!), u2: normalize(g.z2!) });
      const r64 = m.gradient(f, s64);
      const r32 = m.gradient(g, s32);
      assert.equal(r32.g1.dtype, "float32");
      assertClose(r32.g1, r64.g1, 1e-4, `${m.name} ${m.form} float32 g1`);
      assert.ok(Number.isFinite(r32.stats.negative.item()));
    });
    [s64, s32].forEach((s) => m.parameters(s).forEach((p) => p.setGrad(null)));
    [s64, s32].forEach(disposeState);
  }
});

Deno.test("every registry method has its file with a formula header, an exported options type and an autograd test", () => {
  const read = (path: string) => Deno.readTextFileSync(new URL(path, import.meta.url));
  for (const [name, entry] of Object.entries(METHODS)) {
    const file = name.replaceAll("-", "_");
    const factory = entry.create.name; // e.g. "barlowTwins"
    const source = read(`../../src/ssl/${file}.ts`);
    const header = source.slice(0, source.indexOf("@module"));
    assert.match(header, /^\/\*\*/, `${name}: src/ssl/${file}.ts starts with a JSDoc header`);
    assert.match(header, /\bg1 = /, `${name}: the header of src/ssl/${file}.ts states its gradient g1 = …`);
    const options = `${factory[0].toUpperCase()}${factory.slice(1)}Options`;
    // Its own options interface, or (BYOL, SimSiam) the asymmetric factory's, under its own name.
    const own = new RegExp(
      `export (interface ${options} extends CommonOptions \\{|type ${options} = AsymmetricOptions;)`,
    );
    assert.match(source, own, `${name}: ${options}`);
    assert.match(source, new RegExp(`export function ${factory}\\(options: ${options} = \\{\\}\\): Method`), name);
    assert.match(read("../../src/ssl/mod.ts"), new RegExp(`\\b${factory}, type ${options}\\b`), `${name}: exported`);
    const test = read(`./${file}_test.ts`);
    assert.match(test, new RegExp(`assertGradientMatchesAutograd\\(\\s*${factory}\\(`), `${name}: autograd test`);
  }
});
