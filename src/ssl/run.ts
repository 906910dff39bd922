/**
 * `train(config)`: a whole run, read top to bottom — data, networks, method, target branch and
 * optimizer; kNN at initialisation; the epoch loop around `Trainer.step`; checkpoints; the final kNN,
 * linear probe, plot and report. `train.ts` is its command line.
 *
 * @module
 */
import {
  cuda,
  type Device,
  getNumThreads,
  manualSeed,
  scope,
  setNumThreads,
  type Tensor,
  torchVersion,
} from "../torch/mod.ts";
import { resnet18, resnet20, resnet34, resnet50 } from "../nn/resnet.ts";
import { unigradProjector } from "../nn/heads.ts";
import { SGD } from "../optim/sgd.ts";
import { warmupCosine } from "../optim/schedule.ts";
import { cifar10, cifar100, fashionMnist, Loader, mnist, recipe, stl10, type TensorDataset } from "../data/mod.ts";
import { extractFeatures, knnAccuracy } from "../eval/knn.ts";
import { linearProbe } from "../eval/linear_probe.ts";
import {
  addPrefix,
  latestCheckpoint,
  loadCheckpoint,
  restoreRngState,
  rngStateToBase64,
  saveCheckpoint,
  selectPrefix,
} from "../io/checkpoint.ts";
import { MetricsLog, readMetricsLog, type TrainingRecord } from "../io/metrics_log.ts";
import { plotPanels, trainingPanels } from "../io/plot.ts";
import { Progress } from "../io/progress.ts";
import { writeReport } from "../io/report.ts";
import { type Backbone, Encoder } from "./encoder.ts";
import { derive, scaledMethodOpts, type TrainConfig, validateConfig } from "./config.ts";
import { createMethod } from "./mod.ts";
import { readStats } from "./method.ts";
import { disposeState } from "./state.ts";
import { targetBranch } from "./target.ts";
import { Trainer } from "./trainer.ts";

/** What a finished run measured. */
export interface RunResult {
  /** The run folder. */
  out: string;
  /** kNN top-1 at initialisation (null when resumed past it). */
  knnInit: number | null;
  /** kNN top-1 after training. */
  knnFinal: number;
  /** Linear-probe test accuracy (null when skipped). */
  linearProbe: number | null;
  /** Mean training throughput, image pairs per second. */
  pairsPerSecond: number;
  /** Training wall time in seconds (evaluation excluded). */
  trainSeconds: number;
  /** Steps taken (in total, across resumes). */
  steps: number;
}

interface Data {
  train: TensorDataset;
  test: TensorDataset;
  size: number;
}

async function loadData(c: TrainConfig): Promise<Data> {
  const limit = (n: number) => (n > 0 ? n : undefined);
  const load = (split: "train" | "test") => {
    const o = { split, limit: limit(split === "train" ? c.limitTrain : c.limitTest) };
    const dir = c.dataDir ?? undefined;
    switch (c.dataset) {
      case "fashion-mnist":
        return fashionMnist({ ...o, dir });
      case "mnist":
        return mnist({ ...o, dir: dir ?? "/usr/share/datasets/mnist" });
      case "cifar10":
        return cifar10({ ...o, dir: dir ?? "data/cifar-10-batches-bin" });
      case "cifar100":
        return cifar100({ ...o, dir: dir ?? "data/cifar-100-binary" });
      case "stl10":
        return stl10({ ...o, dir: dir ?? "data/stl10_binary" });
    }
  };
  const [train, test] = await Promise.all([load("train"), load("test")]);
  return { train, test, size: train.imageShape[1] };
}

function backbone(c: TrainConfig, inChannels: number, size: number): Backbone {
  const options = { numClasses: 0, inChannels, stem: size <= 64 ? "small" as const : "imagenet" as const };
  return { resnet20, resnet18, resnet34, resnet50 }[c.arch](options);
}

function encoder(c: TrainConfig, inChannels: number, size: number): Encoder {
  const net = backbone(c, inChannels, size);
  const projector = unigradProjector({
    inDim: net.featureDim,
    hiddenDim: c.projHidden,
    outDim: c.projDim,
    depth: c.projDepth,
  });
  return new Encoder(net, projector);
}

function recipeFor(c: TrainConfig, size: number) {
  if (c.dataset === "fashion-mnist" || c.dataset === "mnist") return recipe("fashion_mnist", { size });
  return recipe("mocov2", { size });
}

/** kNN top-1 of the backbone features (test set against training set). */
function evaluateKnn(online: Encoder, data: Data, device: Device): number {
  const backboneFn = { forward: (x: Tensor) => online.features(x) };
  online.eval();
  try {
    return scope(() => {
      const train = extractFeatures(backboneFn.forward, data.train.images, { batchSize: 512, device });
      const test = extractFeatures(backboneFn.forward, data.test.images, { batchSize: 512, device });
      return knnAccuracy({ features: train, labels: data.train.labels! }, {
        features: test,
        labels: data.test.labels!,
      });
    });
  } finally {
    online.train();
  }
}

/**
 * Trains an encoder as `config` says and writes the run folder: `config.json`, `metrics.jsonl`,
 * `checkpoints/`, `plot.svg` and `report.md`.
 *
 * @param config A complete config (see `DEFAULT_CONFIG`); it is validated first.
 * @param log Where progress lines go. @default console.log
 * @returns The measured figures.
 * @throws {RangeError} On a bad config value or a diverged run (naming the step).
 */
export async function train(config: TrainConfig, log: (line: string) => void = console.log): Promise<RunResult> {
  const c = validateConfig(config);
  const device = c.device as Device;
  setNumThreads(c.threads > 0 ? c.threads : navigator.hardwareConcurrency);
  manualSeed(c.seed);
  const out = c.out ?? `runs/${c.method}-${c.dataset}`;
  await Deno.mkdir(out, { recursive: true });

  // ---- data (held whole on the training device) and augmentation
  const data = await loadData(c);
  const trainImages = data.train;
  const inChannels = trainImages.imageShape[0];
  const derived = derive(c, trainImages.length);
  const views = recipeFor(c, data.size);

  // ---- networks, method, target branch, optimizer
  const methodOpts = { ...scaledMethodOpts(c), ...(c.target ? { target: c.target } : {}) };
  const method = createMethod(c.method, methodOpts);
  const online = encoder(c, inChannels, data.size).to(device);
  const state = method.initState(c.projDim, { device });
  const target = targetBranch(method.target, online, {
    copy: method.target === "stop-grad" ? undefined : encoder(c, inChannels, data.size).to(device),
    totalSteps: derived.totalSteps,
  });
  const params: [string, Tensor][] = [
    ...online.namedParameters(),
    ...method.parameters(state).map((t, i): [string, Tensor] => [`method.${i}`, t]),
  ];
  const optimizer = new SGD(params, {
    lr: derived.effectiveLr,
    momentum: 0.9,
    weightDecay: c.wd,
    excludeBiasAndNorm: true,
  });
  const lrAt = warmupCosine({
    baseLr: derived.effectiveLr,
    warmupSteps: derived.warmupSteps,
    totalSteps: derived.totalSteps,
    finalLr: 0,
  });
  const onCuda = device !== "cpu";
  if (onCuda) cuda.setCudnnBenchmark(true);
  const trainer = new Trainer({
    online,
    target,
    method,
    state,
    optimizer,
    bf16: onCuda && c.precision === "bf16",
    channelsLast: onCuda,
  });
  const loader = new Loader(trainImages, { batchSize: c.batchSize, seed: c.seed, device });

  log(`unigrad ${c.method} (${method.form}, target ${method.target}) on ${c.dataset}, ${c.arch}, device ${device}`);
  log(
    `  pairs/step ${c.batchSize}, steps/epoch ${derived.stepsPerEpoch}, total steps ${derived.totalSteps}, ` +
      `effective lr ${derived.effectiveLr}, warm-up steps ${derived.warmupSteps}, threads ${getNumThreads()}, ` +
      `libtorch ${torchVersion()}, method options ${JSON.stringify(methodOpts)}`,
  );
  await Deno.writeTextFile(`${out}/config.json`, JSON.stringify({ ...c, derived, methodOpts }, null, 2) + "\n");

  // ---- resume
  let step = 0;
  let knnInit: number | null = null;
  let trainSeconds = 0;
  const ckptDir = `${out}/checkpoints`;
  if (c.resume) {
    const path = (await latestCheckpoint(`${c.resume}/checkpoints`)) ?? (await latestCheckpoint(c.resume)) ?? c.resume;
    const ckpt = await loadCheckpoint(path);
    try {
      online.loadStateDict(selectPrefix(ckpt.tensors, "online."));
      if (method.target !== "stop-grad") target.module.loadStateDict(selectPrefix(ckpt.tensors, "target."));
      optimizer.loadStateDict(selectPrefix(ckpt.tensors, "optim."));
      const s = ckpt.state as Record<string, never>;
      method.loadState(state, { tensors: selectPrefix(ckpt.tensors, "method."), numbers: s.method });
      loader.setState(s.loader);
      restoreRngState(s.rng);
      step = s.step;
      knnInit = s.knnInit;
      trainSeconds = s.trainSeconds;
    } finally {
      for (const t of ckpt.tensors.values()) t.dispose();
    }
    log(`  resumed from ${path} at step ${step}`);
  } else {
    await Deno.writeTextFile(`${out}/metrics.jsonl`, "");
    knnInit = evaluateKnn(online, data, device);
    log(`  kNN at initialisation: ${(knnInit * 100).toFixed(2)} %`);
  }
  using metrics = new MetricsLog(`${out}/metrics.jsonl`);
  if (!c.resume) metrics.write({ step: 0, epoch: 0, knn: knnInit! });

  const save = async () => {
    const saved = method.stateDict(state);
    const tensors = new Map([
      ...addPrefix(online.stateDict(), "online."),
      ...(method.target === "stop-grad" ? [] : addPrefix(target.module.stateDict(), "target.")),
      ...addPrefix(optimizer.stateDict(), "optim."),
      ...addPrefix(saved.tensors, "method."),
    ]);
    await saveCheckpoint(ckptDir, {
      tensors,
      state: {
        step,
        epoch: step / derived.stepsPerEpoch,
        loader: loader.state,
        rng: rngStateToBase64(),
        method: saved.numbers,
        knnInit,
        trainSeconds,
        config: { ...c },
      },
    }, { step });
  };

  // ---- the loop
  const progress = new Progress({
    total: derived.totalSteps,
    initial: step,
    label: c.method,
    pairsPerStep: c.batchSize,
  });
  let knnFinal = knnInit ?? 0;
  while (step < derived.totalSteps) {
    const epochStart = performance.now();
    let t0 = epochStart;
    for await (const batch of loader) {
      if (step >= derived.totalSteps) {
        batch.dispose();
        break;
      }
      const lr = lrAt(step);
      const logNow = (step + 1) % c.logEvery === 0;
      // Augmentation runs on the batch's device; the views are freed after the step.
      const result = scope(() => trainer.step(views.apply(batch.images), step, lr, logNow));
      batch.dispose();
      step++;
      if (logNow) {
        // Reading values forces a device sync: only every logEvery steps.
        const s = readStats(result.stats);
        const loss = result.loss?.item() ?? -s.similarity;
        if (!Number.isFinite(loss) || !Number.isFinite(s.negative)) {
          result.dispose();
          throw new RangeError(
            `Training diverged at step ${step} (epoch ${(step / derived.stepsPerEpoch).toFixed(2)}): loss ${loss}`,
          );
        }
        const seconds = (performance.now() - t0) / 1000;
        t0 = performance.now();
        metrics.write({
          step,
          epoch: step / derived.stepsPerEpoch,
          loss,
          lr,
          positive: s.positive,
          negative: s.negative,
          balance: s.negative / s.positive,
          lambda: s.lambda,
          similarity: s.similarity,
          momentum: result.momentum,
          pairsPerSecond: (c.logEvery * c.batchSize) / seconds,
        });
        progress.update(step, { loss, lr });
      }
      result.dispose();
      if (step % c.checkpointEvery === 0) await save();
    }
    const epoch = Math.round(step / derived.stepsPerEpoch);
    const last = step >= derived.totalSteps;
    trainSeconds += (performance.now() - epochStart) / 1000;
    if (last || (c.evalEvery > 0 && epoch % c.evalEvery === 0)) {
      knnFinal = evaluateKnn(online, data, device);
      metrics.write({ step, epoch, knn: knnFinal });
      log(`\n  epoch ${epoch}: kNN ${(knnFinal * 100).toFixed(2)} %`);
    }
    await save();
  }
  progress.done();

  // ---- final evaluation, plot, report
  let probe: number | null = null;
  if (c.probeEpochs > 0) {
    probe = scope(() => {
      online.eval();
      const f = (x: Tensor) => online.features(x);
      const train = extractFeatures(f, data.train.images, { batchSize: 512, device });
      const test = extractFeatures(f, data.test.images, { batchSize: 512, device });
      online.train();
      return linearProbe(
        { features: train, labels: data.train.labels! },
        { features: test, labels: data.test.labels! },
        { epochs: c.probeEpochs },
      ).testAccuracy;
    });
    log(`  linear probe: ${(probe * 100).toFixed(2)} %`);
  }
  const records: TrainingRecord[] = readMetricsLog(`${out}/metrics.jsonl`);
  const rates = records.map((r) => r.pairsPerSecond).filter((x): x is number => typeof x === "number");
  const pairsPerSecond = rates.length ? rates.reduce((a, b) => a + b, 0) / rates.length : 0;
  await Deno.writeTextFile(
    `${out}/plot.svg`,
    plotPanels(trainingPanels(records), { title: `${c.method} on ${c.dataset}` }),
  );
  await writeReport(`${out}/report.md`, {
    title: `unigrad: ${c.method} on ${c.dataset}`,
    rows: [{
      method: `${c.method} (${method.form})`,
      epochs: c.epochs,
      knnInit: knnInit ?? undefined,
      knnFinal,
      linearProbe: probe ?? undefined,
      pairsPerSecond,
      wallSeconds: trainSeconds,
    }],
    config: { ...c, methodOpts },
    plot: "plot.svg",
    notes: [`device ${device}, libtorch ${torchVersion()}, ${getNumThreads()} CPU threads`],
  });
  log(`  report: ${out}/report.md`);

  trainer.parts.target.dispose();
  optimizer.dispose();
  online.dispose();
  loader.close();
  for (const d of [data.train, data.test]) d.dispose();
  disposeState(state);
  return { out, knnInit, knnFinal, linearProbe: probe, pairsPerSecond, trainSeconds, steps: step };
}
