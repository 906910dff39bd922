import assert from "node:assert/strict";
import {
  augmentation,
  type Device,
  fashionMnist,
  liveTensors,
  Loader,
  manualSeed,
  noGrad,
  normalize,
  randn,
  scope,
  setNumThreads,
  SGD,
  type Tensor,
} from "../../mod.ts";
import { autograd } from "../../src/torch/mod.ts";
import { featureStd } from "../../src/eval/mod.ts";
import { cutmix } from "../../src/data/cutmix.ts";
import { createMethod, widthScaledLambda } from "../../src/ssl/mod.ts";
import type { Features, Method } from "../../src/ssl/method.ts";
import { disposeState, type MethodState } from "../../src/ssl/state.ts";
import { type TargetBranch, targetBranch } from "../../src/ssl/target.ts";
import type { Encoder } from "../../src/ssl/encoder.ts";
import { Trainer } from "../../src/ssl/trainer.ts";
import { tinyEncoder } from "./_helpers.ts";

// One intra-op thread: deterministic, and fast on a shared 2-core machine.
setNumThreads(1);

/** Projector output width d of the tiny networks, and λ scaled to it as runs scale it (100·d/2048). */
const D = 64;
const LAMBDA = (100 * D) / 2048;
const STEPS = 24;
const BATCH = 32;
const LR = 0.05;

const data = await fashionMnist({ limit: 256 });
const views = augmentation("fashion-mnist");
manualSeed(1);
/** Two fixed views of the first 64 images [64, 1, 28, 28], on which every run is measured. */
const fixed = scope(() => views.apply(data.images.narrow(0, 0, 64)));

/** A two-stage ResNet (8 and 16 channels, one block each) and a 32→64 projector. */

interface Parts {
  method: Method;
  online: Encoder;
  target: TargetBranch;
  state: MethodState;
  trainer: Trainer;
  optimizer: SGD;
  dispose(): void;
}

/** Everything a Trainer needs, assembled as train() does (scripts/bench/train_step.ts shows the same). */
function assemble(method: Method, totalSteps = STEPS): Parts {
  const online = tinyEncoder(D);
  const copy = method.target === "stop-grad" ? undefined : tinyEncoder(D);
  const target = targetBranch(method.target, online, { copy, totalSteps });
  const state = method.initState(D);
  const params = [
    ...online.namedParameters(),
    ...method.parameters(state).map((t, i): [string, Tensor] => [`method.${i}`, t]),
  ];
  const optimizer = new SGD(params, { lr: LR, momentum: 0.9, weightDecay: 5e-4, excludeBiasAndNorm: true });
  const trainer = new Trainer({ online, target, method, state, optimizer });
  return {
    method,
    online,
    target,
    state,
    trainer,
    optimizer,
    dispose() {
      optimizer.dispose();
      target.dispose();
      online.dispose();
      disposeState(state);
    },
  };
}

/** The features of a pair of views, computed as the trainer computes them, without graph. */
function featuresOf(p: Parts, x1: Tensor, x2: Tensor): Features {
  const z1 = noGrad(() => p.online.forward(x1)), z2 = noGrad(() => p.online.forward(x2)); // [N, D]
  const [zt1, zt2] = p.target.kind === "stop-grad" ? [z1, z2] : [p.target.forward(x1), p.target.forward(x2)];
  return { u1: normalize(z1), u2: normalize(z2), v1: normalize(zt1), v2: normalize(zt2), z1, z2, zt1, zt2 };
}

interface Snapshot {
  /** The method's loss on the fixed views (null for a gradient-only form). */
  loss: number | null;
  /** Mean positive-pair cosine similarity u1·v2, u2·v1 on the fixed views. */
  similarity: number;
  /** Mean per-dimension std of the normalised online features (about 1/√D when healthy, 0 when collapsed). */
  std: number;
}

/**
 * The method's loss, alignment and feature spread on fixed views. The loss takes a fresh state (F from
 * these views; an empty queue) so that it measures the networks, not the state's history; a learnable
 * predictor is part of the model, so the BYOL/SimSiam original form uses the trained one.
 */
function measure(p: Parts): Snapshot {
  return scope(() => {
    const f = featuresOf(p, fixed[0], fixed[1]);
    const fresh = p.state.predictor === null;
    const state = fresh ? p.method.initState(D) : p.state;
    const loss = p.method.loss ? noGrad(() => p.method.loss!(f, state)).item() : null;
    if (fresh) disposeState(state);
    const similarity = f.u1.mul(f.v2).sum(1).mean().add(f.u2.mul(f.v1).sum(1).mean()).mul(0.5).item();
    return { loss, similarity, std: featureStd(f.u1).mean };
  });
}

/** STEPS training steps on the first 256 Fashion-MNIST images; the snapshots before and after. */
async function shortRun(name: string, options: Record<string, unknown>): Promise<[Snapshot, Snapshot]> {
  manualSeed(0);
  const p = assemble(createMethod(name, options));
  try {
    const before = measure(p);
    using loader = new Loader(data, { batchSize: BATCH, seed: 0, device: "cpu" as Device });
    for (let step = 0; step < STEPS;) {
      for await (using batch of loader) {
        if (step === STEPS) break;
        scope(() => p.trainer.step(views.apply(batch.images), step, LR)).dispose();
        step++;
      }
    }
    return [before, measure(p)];
  } finally {
    p.dispose();
  }
}

/**
 * A criterion: "loss" — the loss on the fixed views falls by 2 % of |loss|; "alignment" — the positive
 * pairs' similarity rises by 0.02 (the gradient-only forms, which have no loss); `{ floor }` — for a loss
 * with a large constant offset (Barlow Twins l2: D − 2·tr W + λ·‖W‖² ≥ D − 2, tr W being a mean cosine),
 * the loss's distance to its floor shrinks by 10 % and the alignment rises by 0.05.
 */
type Criterion = "loss" | "alignment" | { floor: number };

/** The options with λ as a run sets it: λ_2048·d/2048 for the unit-norm forms (`widthScaledLambda`). */
function atWidth(name: string, options: Record<string, unknown>): Record<string, unknown> {
  const scaled = widthScaledLambda(createMethod(name, options), D);
  return scaled === null ? options : { ...options, lambda: scaled.lambda };
}

/**
 * [method, options, what must improve]: every method's default form and the simplified forms, each unit-norm
 * form with its width-scaled λ (with the d = 2048 constants at d = 64, Barlow Twins l2's loss oscillates
 * between 65 and 69 after its first step and its end point depends on the CPU's BLAS kernels).
 */
const RUNS: [string, Record<string, unknown>, Criterion][] = [
  ["unigrad", {}, "loss"],
  ["moco", {}, "loss"],
  ["simclr", {}, "loss"],
  ["byol", { hiddenDim: 32 }, "loss"],
  ["simsiam", { hiddenDim: 32 }, "loss"],
  ["barlow-twins", {}, "loss"],
  ["vicreg", {}, "loss"],
  ["byol", { form: "unified" }, "loss"],
  ["byol", { form: "directpred" }, "alignment"],
  ["simsiam", { form: "unified" }, "loss"],
  ["simsiam", { form: "directpred" }, "alignment"],
  ["barlow-twins", { form: "a-identity" }, "loss"],
  ["barlow-twins", { form: "l2" }, { floor: D - 2 }],
  ["vicreg", { form: "l2" }, "loss"],
  ["vicreg", { form: "l2", target: "momentum-positive" }, "loss"], // the momentum encoder in the positive only
  ["simclr", { form: "gradient" }, "loss"],
];

for (const [name, given, criterion] of RUNS) {
  const options = atWidth(name, given);
  const { form, target } = createMethod(name, options);
  const what = typeof criterion === "string" ? criterion : "loss and alignment";
  Deno.test(`Trainer trains ${name} (${form}, ${target}): its ${what} ${typeof criterion === "string" ? "improves" : "improve"} without collapse`, async () => {
    const live = liveTensors();
    const [before, after] = await shortRun(name, options);
    const info = `${name} ${JSON.stringify(options)}: ${JSON.stringify(before)} → ${JSON.stringify(after)}`;
    if (criterion === "loss") {
      assert.ok(after.loss! < before.loss! - 0.02 * Math.abs(before.loss!), `loss did not fall: ${info}`);
    } else if (criterion === "alignment") {
      assert.ok(after.similarity > before.similarity + 0.02, `alignment did not rise: ${info}`);
    } else {
      const [gapBefore, gapAfter] = [before.loss! - criterion.floor, after.loss! - criterion.floor];
      assert.ok(gapAfter < 0.9 * gapBefore, `loss did not approach its floor ${criterion.floor}: ${info}`);
      assert.ok(after.similarity > before.similarity + 0.05, `alignment did not rise: ${info}`);
    }
    // Not collapsed: the features spread over the dimensions (1/√D = 0.125 at best, 0 when collapsed).
    assert.ok(after.std > 0.4 / Math.sqrt(D), `features collapsed: ${info}`);
    assert.equal(liveTensors(), live);
  });
}

/** Two random views [8, 1, 12, 12]. */
function randomViews(): Tensor[] {
  return [randn([8, 1, 12, 12]), randn([8, 1, 12, 12])];
}

/** Online parameters by name, copied. */
function snapshot(m: Encoder | { namedParameters(): [string, Tensor][] }): Map<string, Tensor> {
  return new Map(m.namedParameters().map(([k, t]) => [k, noGrad(() => t.clone())]));
}

Deno.test("Trainer.step() throws a TypeError with fewer than two views", () => {
  const live = liveTensors();
  manualSeed(1);
  const p = assemble(createMethod("simclr"));
  scope(() => {
    const [x1] = randomViews();
    assert.throws(() => p.trainer.step([x1], 0, LR), /Cannot train on 1 view\(s\): the trainer needs at least 2/);
  });
  p.dispose();
  assert.equal(liveTensors(), live);
});

Deno.test("Trainer.step() moves the weights by −lr·(autograd of the method's loss), for u- and z-space methods", () => {
  const live = liveTensors();
  for (const options of [{ name: "unigrad", lambda: LAMBDA }, { name: "barlow-twins" }, { name: "simclr" }]) {
    const { name, ...rest } = options;
    manualSeed(2);
    const method = createMethod(name, { ...rest, target: "stop-grad" });
    const p = assemble(method);
    const optimizer = new SGD(p.online.namedParameters(), { lr: 0.5, momentum: 0, weightDecay: 0 });
    const trainer = new Trainer({ ...p.trainer.parts, optimizer });
    scope(() => {
      const [x1, x2] = randomViews();
      const params = p.online.namedParameters();
      // The reference: autograd of the loss (targets detached, a fresh state as the step sees it).
      const z1 = p.online.forward(x1), z2 = p.online.forward(x2); // [N, D]
      const [u1, u2] = [normalize(z1), normalize(z2)];
      const f: Features = { u1, u2, v1: u1.detach(), v2: u2.detach(), z1, z2, zt1: z1.detach(), zt2: z2.detach() };
      const fresh = method.initState(D);
      const grads = autograd.grad([method.loss!(f, fresh)], params.map(([, t]) => t));
      disposeState(fresh);
      const expected = params.map(([, t], i) => noGrad(() => t.sub(grads[i]!.mul(0.5))));
      trainer.step([x1, x2], 0, 0.5).dispose();
      params.forEach(([k, t], i) => {
        const err = t.sub(expected[i]).abs().max().item() / Math.max(expected[i].abs().max().item(), 1e-12);
        assert.ok(err < 1e-4, `${name}: parameter ${k} differs from the autograd step by ${err}`);
      });
    });
    optimizer.dispose();
    p.dispose();
  }
  assert.equal(liveTensors(), live);
});

Deno.test("Trainer.step() trains a learnable predictor (BYOL original form)", () => {
  const live = liveTensors();
  manualSeed(3);
  const p = assemble(createMethod("byol", { hiddenDim: 16 }));
  const before = snapshot(p.state.predictor!);
  scope(() => p.trainer.step(randomViews(), 0, LR)).dispose();
  for (const [k, t] of p.state.predictor!.namedParameters()) {
    const moved = scope(() => t.sub(before.get(k)!).abs().max().item());
    assert.ok(moved > 0, `predictor parameter ${k} did not move`);
  }
  before.forEach((t) => t.dispose());
  p.dispose();
  assert.equal(liveTensors(), live);
});

Deno.test("Trainer.step() reports the loss, lr and EMA momentum, and updates the momentum target after the optimizer", () => {
  const live = liveTensors();
  manualSeed(4);
  const p = assemble(createMethod("unigrad", { lambda: LAMBDA }), 10);
  const targetBefore = snapshot(p.target.module as Encoder);
  const result = scope(() => p.trainer.step(randomViews(), 3, 0.01, { withLoss: true }));
  assert.equal(result.lr, 0.01);
  assert.equal(result.momentum, p.target.momentum(3));
  assert.ok(result.momentum > 0.996 && result.momentum < 1);
  assert.deepEqual(result.loss!.shape, []);
  assert.ok(Number.isFinite(result.loss!.item()));
  assert.equal(result.stats.lambda.item(), LAMBDA);
  result.dispose();
  // target ← m·target + (1 − m)·online, with the online weights after the optimizer step.
  const online = new Map(p.online.namedParameters());
  for (const [k, t] of (p.target.module as Encoder).namedParameters()) {
    const err = scope(() =>
      targetBefore.get(k)!.mul(result.momentum).add(online.get(k)!.mul(1 - result.momentum)).sub(t).abs().max().item()
    );
    assert.ok(err < 1e-6, `target parameter ${k} is not the EMA (error ${err})`);
  }
  targetBefore.forEach((t) => t.dispose());
  const noLoss = scope(() => p.trainer.step(randomViews(), 4, 0.01));
  assert.equal(noLoss.loss, null);
  noLoss.dispose();
  p.dispose();
  assert.equal(liveTensors(), live);
});

Deno.test("Trainer.step() keeps only the stats it returns: the live-handle count is flat over steps", () => {
  manualSeed(5);
  const p = assemble(createMethod("moco", { queueSize: 16 }));
  const views = randomViews();
  scope(() => p.trainer.step(views, 0, LR, { withLoss: true })).dispose();
  const live = liveTensors();
  for (let step = 1; step < 4; step++) scope(() => p.trainer.step(views, step, LR, { withLoss: true })).dispose();
  assert.equal(liveTensors(), live);
  views.forEach((t) => t.dispose());
  p.dispose();
});

Deno.test("Trainer.step() trains on multi-crop local views and a CutMix view, advancing the state once", () => {
  const live = liveTensors();
  manualSeed(7);
  const p = assemble(createMethod("unigrad", { lambda: LAMBDA }), 10);
  const before = snapshot(p.online);
  scope(() => {
    const [g0, g1] = randomViews(); // two global views [8, 1, 12, 12]
    const locals = [randn([8, 1, 8, 8]), randn([8, 1, 8, 8])]; // smaller crops
    const mixed = cutmix(g0);
    const cut = { view: 4, partner: mixed.partner, lambda: mixed.lambda };
    p.trainer.step([g0, g1, ...locals, mixed.images], 0, LR, { cutmix: cut }).dispose();
  });
  assert.equal(p.state.step, 1, "the method state advances exactly once per step");
  const moved = scope(() =>
    p.online.namedParameters().filter(([k, t]) => t.sub(before.get(k)!).abs().max().item() > 0).length
  );
  assert.ok(moved > p.online.parameters().length / 2, `only ${moved} parameters moved`);
  before.forEach((t) => t.dispose());
  p.dispose();
  assert.equal(liveTensors(), live);
});

/** Every tensor a step may change, copied: weights and buffers, target, optimizer and method state. */
function everything(p: Parts): Map<string, Tensor> {
  const all = new Map<string, Tensor>([
    ...[...p.online.stateDict()].map(([k, t]): [string, Tensor] => [`online.${k}`, t]),
    ...[...p.target.module.stateDict()].map(([k, t]): [string, Tensor] => [`target.${k}`, t]),
    ...[...p.optimizer.stateDict()].filter(([k]) => k !== "step").map(([k, t]): [string, Tensor] => [`optim.${k}`, t]),
    ...[...p.method.stateDict(p.state).tensors].map(([k, t]): [string, Tensor] => [`method.${k}`, t]),
  ]);
  return new Map([...all].map(([k, t]) => [k, noGrad(() => t.clone())]));
}

Deno.test("Trainer.step() with guardNonFinite keeps a non-finite step out of the weights and method state", () => {
  const live = liveTensors();
  for (const [name, options] of [["unigrad", { lambda: LAMBDA }], ["moco", { queueSize: 16 }], ["byol", {}]] as const) {
    manualSeed(7);
    const p = assemble(
      createMethod(name, { ...options, checkValues: false, ...(name === "byol" && { form: "unified" }) }),
    );
    const trainer = new Trainer({ ...p.trainer.parts, guardNonFinite: true });
    scope(() => trainer.step(randomViews(), 0, LR)).dispose();
    const before = everything(p);
    for (let step = 1; step <= 2; step++) {
      scope(() => {
        const [x1, x2] = randomViews();
        trainer.step([x1.maskedFill(x1.gt(2), NaN), x2], step, LR).dispose(); // a few NaN pixels
      });
    }
    assert.deepEqual(trainer.nonFinite(), { skipped: 2, consecutive: 2 });
    const after = everything(p);
    for (const [k, t] of before) {
      assert.ok(scope(() => t.eq(after.get(k)!).all().item()), `${name}: ${k} changed on a non-finite step`);
    }
    scope(() => trainer.step(randomViews(), 3, LR)).dispose();
    assert.deepEqual(trainer.nonFinite(), { skipped: 2, consecutive: 0 });
    const moved = everything(p);
    const first = [...before.keys()][0]; // an online weight
    assert.ok(scope(() => !moved.get(first)!.eq(before.get(first)!).all().item()), `${name}: ${first} did not move`);
    for (const m of [before, after, moved]) m.forEach((t) => t.dispose());
    trainer.dispose();
    p.dispose();
  }
  assert.equal(liveTensors(), live);
});

Deno.test("Trainer.step() with guardNonFinite and data parallelism skips a step any rank found non-finite", () => {
  const live = liveTensors();
  for (const others of [0, 1]) {
    manualSeed(7);
    const p = assemble(createMethod("unigrad", { lambda: LAMBDA, checkValues: false }));
    // One process standing in for rank 0 of a job whose other ranks report `others` non-finite steps.
    const parallel = {
      gatherWithGrad: (x: Tensor) => x,
      averageGradients: () => {},
      allReduceSum_: (x: Tensor) => void x.add_(others),
    };
    const trainer = new Trainer({ ...p.trainer.parts, guardNonFinite: true, parallel });
    const before = everything(p);
    scope(() => trainer.step(randomViews(), 0, LR)).dispose(); // finite here
    assert.deepEqual(trainer.nonFinite(), { skipped: others, consecutive: others });
    const after = everything(p);
    const first = [...before.keys()][0];
    const same = Boolean(scope(() => after.get(first)!.eq(before.get(first)!).all().item()));
    assert.equal(
      same,
      others === 1,
      others ? "a step another rank skipped moved this rank" : "a finite step did not move",
    );
    for (const m of [before, after]) m.forEach((t) => t.dispose());
    trainer.dispose();
    p.dispose();
  }
  assert.equal(liveTensors(), live);
});
