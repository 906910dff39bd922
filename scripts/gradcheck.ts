/**
 * Gradient check of the unified framework. For every method and form, on random float64 features, it
 * prints the maximum relative difference max|g − g_ref| / max|g_ref| between `gradient()` and the
 * autograd gradient of `loss()`, and between each simplified form and the original loss it stands for
 * (both taken on the raw projector outputs z, through the l2-normalisation where the form works on u,
 * with the cosine between the two). Exits 1 when a gradient differs from its loss's autograd gradient by
 * more than 1e-9.
 *
 * Usage: `deno task gradcheck` (or `deno run -A scripts/gradcheck.ts [--batch 8] [--dim 16] [--seed 0]`)
 *
 * @module
 */
import { parseArgs } from "node:util";
import { autograd } from "../src/torch/mod.ts";
import { cat, manualSeed, normalize, randn, scope, type Tensor } from "../mod.ts";
import { createMethod, type Features, type GradientSpace, type Method } from "../src/ssl/mod.ts";
import { disposeState } from "../src/ssl/state.ts";

const { values } = parseArgs({
  options: {
    batch: { type: "string", default: "8" },
    dim: { type: "string", default: "16" },
    seed: { type: "string", default: "0" },
  },
  strict: true,
});
const [N, D, SEED] = [Number(values.batch), Number(values.dim), Number(values.seed)];
if (!(Number.isInteger(N) && N >= 2 && Number.isInteger(D) && D >= 2)) {
  throw new RangeError(`gradcheck needs --batch ≥ 2 and --dim ≥ 2, got ${values.batch} and ${values.dim}`);
}
const TOLERANCE = 1e-9;

/** Every method in every form, with the paper's constants (predictor widths scaled to D), and a note. */
const METHODS: [Method, string][] = [
  [createMethod("unigrad"), ""],
  [createMethod("moco"), "in-batch negatives"],
  [createMethod("moco", { queueSize: 4 * N }), `queue K = ${4 * N}`],
  [createMethod("simclr"), ""],
  [createMethod("simclr", { form: "gradient" }), ""],
  ...(["original", "directpred", "unified"] as const).flatMap((form): [Method, string][] => [
    [createMethod("byol", { form, hiddenDim: 2 * D }), ""],
    [createMethod("simsiam", { form, hiddenDim: D }), ""],
  ]),
  ...(["original", "a-identity", "l2"] as const).map((
    form,
  ): [Method, string] => [createMethod("barlow-twins", { form }), ""]),
  ...(["original", "l2"] as const).map((form): [Method, string] => [createMethod("vicreg", { form }), ""]),
];

/** Seeded features whose targets lie near the online ones, as a momentum encoder's do. */
function features(): Required<Features> {
  const o = { dtype: "float64" as const };
  const z1 = randn([N, D], { ...o, requiresGrad: true });
  const z2 = randn([N, D], { ...o, requiresGrad: true });
  const zt1 = z1.detach().add(randn([N, D], o).mul(0.3));
  const zt2 = z2.detach().add(randn([N, D], o).mul(0.3));
  return { z1, z2, zt1, zt2, u1: normalize(z1), u2: normalize(z2), v1: normalize(zt1), v2: normalize(zt2) };
}

/** Both views' gradient as one [2N, D] tensor on the inputs `wrt`. */
function both(g: (Tensor | null)[]): Tensor {
  return cat([g[0]!, g[1]!]); // [2N, D]
}

/** The gradient on z1, z2 of a gradient on `wrt`. */
function onZ(f: Required<Features>, wrt: GradientSpace, g: [Tensor, Tensor]): Tensor {
  return wrt === "z" ? both(g) : both(autograd.grad([f.u1, f.u2], [f.z1, f.z2], g, { retainGraph: true }));
}

function lossGradient(f: Required<Features>, wrt: GradientSpace, loss: Tensor): [Tensor, Tensor] {
  const g = autograd.grad([loss], wrt === "u" ? [f.u1, f.u2] : [f.z1, f.z2], null, { retainGraph: true });
  return [g[0]!, g[1]!];
}

const relErr = (a: Tensor, b: Tensor) => a.sub(b).abs().max().item() / b.abs().max().item();
const cosine = (a: Tensor, b: Tensor) => a.mul(b).sum().item() / (a.norm().item() * b.norm().item());
const fmt = (x: number) => x.toExponential(1);

manualSeed(SEED);
console.log(`unified gradient check: float64, batch ${N}, width ${D}, seed ${SEED}\n`);
console.log("| method | form | target | gradient vs autograd of loss | original it simplifies | rel. diff | cosine |");
console.log("|---|---|---|---|---|---|---|");
let worst = 0;
for (const [m, note] of METHODS) {
  const s = m.initState(D, { dtype: "float64" });
  scope(() => {
    const f = features();
    const fromLoss = m.loss ? lossGradient(f, m.wrt, m.loss(f, s)) : null;
    const ref = m.reference ? lossGradient(f, m.reference.wrt, m.reference.loss(f, s)) : null;
    const { g1, g2 } = m.gradient(f, s);
    let check = "— (gradient-only form)";
    if (fromLoss) {
      const err = relErr(both([g1, g2]), both(fromLoss));
      worst = Math.max(worst, err);
      check = `${fmt(err)}${
        m.form === "original" && m.parameters(s).length ? " (autograd through the predictor)" : ""
      }`;
    }
    let cols = "— | — | —";
    if (ref && m.reference) {
      const [a, b] = [onZ(f, m.wrt, [g1, g2]), onZ(f, m.reference.wrt, ref)];
      cols = `${m.reference.name} | ${fmt(relErr(a, b))} | ${cosine(a, b).toFixed(3)}`;
    }
    console.log(`| ${m.name} | ${m.form}${note ? ` (${note})` : ""} | ${m.target} | ${check} | ${cols} |`);
  });
  m.parameters(s).forEach((p) => p.setGrad(null));
  disposeState(s);
}
console.log(`\nlargest gradient-vs-autograd difference: ${fmt(worst)} (tolerance ${fmt(TOLERANCE)})`);
if (!(worst <= TOLERANCE)) Deno.exit(1);
