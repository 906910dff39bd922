import assert from "node:assert/strict";
import {
  autograd,
  type Device,
  fashionMnist,
  featureStd,
  liveTensors,
  Loader,
  manualSeed,
  noGrad,
  normalize,
  randn,
  recipe,
  ResNet,
  scope,
  setNumThreads,
  SGD,
  type Tensor,
  unigradProjector,
} from "../mod.ts";
import { cutmix } from "../src/data/cutmix.ts";
import { createMethod } from "../src/ssl/mod.ts";
import type { Features, Method } from "../src/ssl/method.ts";
import { disposeState, type MethodState } from "../src/ssl/state.ts";
import { type TargetBranch, targetBranch } from "../src/ssl/target.ts";
import { Encoder } from "../src/ssl/encoder.ts";
import { Trainer } from "../src/ssl/trainer.ts";

// One intra-op thread: deterministic, and fast on a shared 2-core machine.
setNumThreads(1);

/** Projector output width d of the tiny networks, and λ scaled to it as runs scale it (100·d/2048). */
const D = 64;
const LAMBDA = (100 * D) / 2048;
const STEPS = 24;
const BATCH = 32;
const LR = 0.05;

const data = await fashionMnist({ limit: 256 });
const views = recipe("fashion-mnist");
manualSeed(1);
/** Two fixed views of the first 64 images [64, 1, 28, 28], on which every run is measured. */
const fixed = scope(() => views.apply(data.images.narrow(0, 0, 64)));

/** A two-stage ResNet (8 and 16 channels, one block each) and a 32→64 projector. */
function tinyEncoder(): Encoder {
  const net = new ResNet({
    block: "basic",
    layers: [1, 1],
    widths: [8, 16],
    stem: "small",
    inChannels: 1,
    numClasses: 0,
  });
  return new Encoder(net, unigradProjector({ inDim: net.featureDim, hiddenDim: 32, outDim: D, depth: 2 }));
}

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
  const online = tinyEncoder();
  const copy = method.target === "stop-grad" ? undefined : tinyEncoder();
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


const [mname, mopts] = [Deno.args[0], JSON.parse(Deno.args[2] ?? "{}")];
const steps = Number(Deno.args[1] ?? 24);
manualSeed(0);
const p = assemble(createMethod(mname, mopts), steps);
console.log("step", 0, JSON.stringify(measure(p)));
using loader = new Loader(data, { batchSize: BATCH, seed: 0, device: "cpu" as Device });
for (let step = 0; step < steps;) {
  for await (using batch of loader) {
    if (step === steps) break;
    scope(() => p.trainer.step(views.apply(batch.images), step, LR)).dispose();
    step++;
    console.log("step", step, JSON.stringify(measure(p)));
  }
}
