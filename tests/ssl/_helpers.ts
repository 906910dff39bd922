/** Shared test helpers for tests/ssl: seeded features, golden values, error measures. */
import assert from "node:assert/strict";
import { autograd } from "../../src/torch/mod.ts";
import {
  type DType,
  liveTensors,
  normalize,
  randn,
  ResNet,
  scope,
  type Tensor,
  tensor,
  unigradProjector,
} from "../../mod.ts";
import { Encoder } from "../../src/ssl/encoder.ts";
import type { Features, Method } from "../../src/ssl/method.ts";
import { disposeState, type MethodState } from "../../src/ssl/state.ts";

/** A tiny 1-channel ResNet (stages 8, 16, one basic block each) with a 32-wide hidden, `outDim`-wide projector. */
export function tinyEncoder(outDim: number): Encoder {
  const net = new ResNet({
    block: "basic",
    layers: [1, 1],
    widths: [8, 16],
    stem: "small",
    inChannels: 1,
    numClasses: 0,
  });
  return new Encoder(net, unigradProjector({ inDim: net.featureDim, hiddenDim: 32, outDim, depth: 2 }));
}

/** Random features: z online (requires grad), zt target, u = normalize(z), v = normalize(zt). */
export function randomFeatures(N: number, D: number, dtype: DType = "float64"): Required<Features> {
  const z1 = randn([N, D], { dtype, requiresGrad: true });
  const z2 = randn([N, D], { dtype, requiresGrad: true });
  const zt1 = randn([N, D], { dtype }).mul(1.5).add(0.2);
  const zt2 = randn([N, D], { dtype }).mul(0.7).sub(0.1);
  return { z1, z2, zt1, zt2, u1: normalize(z1), u2: normalize(z2), v1: normalize(zt1), v2: normalize(zt2) };
}

/** max|a − b| / max|b|. */
export function relErr(a: Tensor, b: Tensor): number {
  return a.sub(b).abs().max().item() / Math.max(b.abs().max().item(), 1e-300);
}

/** Asserts relErr(a, b) < tol, naming what is compared. */
export function assertClose(a: Tensor, b: Tensor | number[][] | number, tol: number, what: string): void {
  const ref = typeof b === "number" || Array.isArray(b) ? tensor(b as number[][], { dtype: "float64" }) : b;
  const err = relErr(a.to("float64"), ref.to("float64"));
  assert.ok(err <= tol, `${what}: relative error ${err} > ${tol}`);
}

/** The autograd gradient of method.loss() with respect to the method's inputs. */
export function autogradOf(method: Method, f: Features, state: MethodState): [Tensor, Tensor] {
  const inputs = method.wrt === "u" ? [f.u1, f.u2] : [f.z1!, f.z2!];
  const [g1, g2] = autograd.grad([method.loss!(f, state)], inputs);
  return [g1!, g2!];
}

/** Options of `assertGradientMatchesAutograd`. */
export interface AutogradCheck {
  /** Batch size. @default 5 */
  N?: number;
  /** Feature width. @default 6 */
  D?: number;
  /** Steps (the state advances between them). @default 2 */
  steps?: number;
  /** Relative tolerance. @default 1e-12 */
  tol?: number;
}

/**
 * The check every method test makes: on seeded float64 random features (seed first), `gradient()` equals
 * the autograd gradient of `loss()` at every one of `steps` steps, and nothing leaks.
 */
export function assertGradientMatchesAutograd(method: Method, options: AutogradCheck = {}): void {
  const { N = 5, D = 6, steps = 2, tol = 1e-12 } = options;
  const label = `${method.name} (${method.form}, ${method.target})`;
  const before = liveTensors();
  const s = method.initState(D, { dtype: "float64" });
  try {
    for (let step = 0; step < steps; step++) {
      scope(() => {
        const f = randomFeatures(N, D);
        const [a1, a2] = autogradOf(method, f, s);
        const { g1, g2 } = method.gradient(f, s);
        assertClose(g1, a1, tol, `${label} g1 at step ${step}`);
        assertClose(g2, a2, tol, `${label} g2 at step ${step}`);
      });
    }
    method.parameters(s).forEach((p) => p.setGrad(null));
  } finally {
    disposeState(s);
  }
  assert.equal(liveTensors(), before, `${label} leaked tensors`);
}

/** The golden file written by tests/ssl/golden/make_golden.py. */
export interface Golden {
  N: number;
  D: number;
  H: number;
  inputs: Record<"z1" | "z2" | "zt1" | "zt2" | "zn1" | "zn2", number[][]>;
  predictor: Record<string, number[] | number[][]>;
  cases: Record<string, { loss?: number; g1: number[][]; g2: number[][]; [k: string]: unknown }>;
}

/** The golden values. */
export const GOLDEN: Golden = JSON.parse(
  Deno.readTextFileSync(new URL("./golden/golden.json", import.meta.url)),
);

/** The golden inputs as float64 features (z online with grad). */
export function goldenFeatures(): Required<Features> {
  const t = (k: keyof Golden["inputs"], grad = false) =>
    tensor(GOLDEN.inputs[k], { dtype: "float64", requiresGrad: grad });
  const z1 = t("z1", true), z2 = t("z2", true), zt1 = t("zt1"), zt2 = t("zt2");
  return { z1, z2, zt1, zt2, u1: normalize(z1), u2: normalize(z2), v1: normalize(zt1), v2: normalize(zt2) };
}

/** Loads the golden predictor weights into a state's predictor. */
export function loadGoldenPredictor(s: MethodState): void {
  const map = new Map<string, Tensor>();
  for (const [k, v] of Object.entries(GOLDEN.predictor)) map.set(k, tensor(v as number[][], { dtype: "float64" }));
  s.predictor!.loadStateDict(map, false);
  map.forEach((t) => t.dispose());
}
