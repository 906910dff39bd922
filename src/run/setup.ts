/**
 * `buildTrainer`: the encoder + target branch + method state + optimizer + trainer set-up of a
 * training run, built in one place for `train()` and the training-step benchmark
 * (scripts/bench/train_step.ts), so that the benchmark times the step a run takes.
 *
 * @module
 */
import { cpuCapabilities, cuda, type Device, type Tensor } from "../torch/mod.ts";
import { BatchNorm } from "../nn/mod.ts";
import { LARS, type Optimizer, SGD } from "../optim/mod.ts";
import { broadcastTensors, dataParallel, type ProcessGroup, syncBatchNorm } from "../distributed/mod.ts";
import {
  disposeState,
  type Encoder,
  type Method,
  type MethodState,
  siameseEncoder,
  type SiameseEncoderOptions,
  type TargetBranch,
  targetBranch,
  Trainer,
} from "../ssl/mod.ts";
import { chooseNumerics, type Numerics, type Precision } from "./numerics.ts";
import { DEFAULT_CONFIG } from "./settings.ts";

/** Options of `buildTrainer`. */
export interface BuildTrainerOptions {
  /** The encoder both branches run (the momentum encoder is a second one, its weights copied). */
  encoder: SiameseEncoderOptions;
  /** The method; its target kind decides whether a momentum encoder is built. */
  method: Method;
  /** Device of the networks and the state. @default "cpu" */
  device?: Device;
  /** Steps of the whole run (the EMA coefficient's cosine schedule). */
  totalSteps: number;
  /** Learning rate the optimizer starts with (the trainer sets each step's). */
  lr: number;
  /** Weight decay. @default DEFAULT_CONFIG.wd */
  weightDecay?: number;
  /** Exclude BN parameters and biases from weight decay (and from LARS's adaptation). @default DEFAULT_CONFIG.wdExcludeNormBias */
  excludeBiasAndNorm?: boolean;
  /** "sgd" or "lars". @default DEFAULT_CONFIG.optimizer */
  optimizer?: "sgd" | "lars";
  /** Momentum of the optimizer. @default DEFAULT_CONFIG.momentum */
  momentum?: number;
  /** LARS trust coefficient η. @default DEFAULT_CONFIG.larsTrust */
  trustCoefficient?: number;
  /** Encoder forwards in bf16 autocast or float32; "auto" as `chooseNumerics` decides for this machine. @default "auto" */
  precision?: Precision;
  /** Feed the encoders channels_last batches. @default as `chooseNumerics` decides (true) */
  channelsLast?: boolean;
  /**
   * Skip non-finite steps on the device (see `TrainerOptions.guardNonFinite`): for methods built without
   * per-step value checks (`checkValues: false`, the CUDA default). @default false
   */
  guardNonFinite?: boolean;
  /**
   * Data parallelism over a process group: rank 0's initial weights, buffers and method state are
   * broadcast, gradients are averaged after backward, and with `syncBn` both encoders' batch norms use
   * the global batch. @default none (one process)
   */
  dist?: { group: ProcessGroup; syncBn: boolean };
}

/** The parts `buildTrainer` makes, freed together by `dispose()`. */
export interface BuiltTrainer {
  /** The online encoder. */
  online: Encoder;
  /** The target branch (stop-gradient, or a momentum encoder). */
  target: TargetBranch;
  /** The method's state (F, queue, predictor). */
  state: MethodState;
  /** SGD or LARS over the online encoder's and the method's parameters. */
  optimizer: Optimizer;
  /** The trainer stepping them. */
  trainer: Trainer;
  /** The numerics the trainer runs with, and why. */
  numerics: Numerics;
  /** Frees every part (in reverse order of construction). */
  dispose(): void;
}

/**
 * Builds the networks, the method state, the optimizer (SGD or LARS) and the `Trainer` of a run. The weights come from the
 * global generator in a fixed order (online encoder, momentum copy, method state), so a seeded caller
 * gets the same weights every time. The numerics come from `chooseNumerics` (bf16 autocast where the
 * CPU computes bf16 natively, or when asked for; channels_last); on CUDA cuDNN autotuning is on.
 *
 * @param options The encoder, method, device, schedule length and optimizer settings.
 * @returns The parts; free them with `dispose()`.
 *
 * @example Usage
 * ```ts
 * import { buildTrainer, manualSeed, rand, scope, unigrad } from "@unigrad/unigrad";
 * import assert from "node:assert/strict";
 *
 * manualSeed(0);
 * const encoder = { arch: "resnet20" as const, inChannels: 1, imageSize: 8, width: 4, projHidden: 8, projDim: 8, projDepth: 2 };
 * const setup = buildTrainer({ encoder, method: unigrad({ lambda: 1 }), totalSteps: 1, lr: 0.1 });
 * const x = rand([4, 1, 8, 8]);
 * const result = scope(() => setup.trainer.step([x, x], 0, 0.1));
 * assert.equal(result.lr, 0.1);
 * result.dispose();
 * x.dispose();
 * setup.dispose();
 * ```
 */
export function buildTrainer(options: BuildTrainerOptions): BuiltTrainer {
  const { method, totalSteps, lr, weightDecay = DEFAULT_CONFIG.wd, precision = DEFAULT_CONFIG.precision } = options;
  const device = options.device ?? "cpu";
  using stack = new DisposableStack();
  const encoder = () => siameseEncoder(options.encoder).to(device);
  const online = stack.adopt(encoder(), (e) => e.dispose());
  const copy = method.target === "stop-grad" ? undefined : encoder();
  const target = stack.adopt(targetBranch(method.target, online, { copy, totalSteps }), (t) => t.dispose());
  const state = stack.adopt(method.initState(options.encoder.projDim, { device }), disposeState);
  const params: [string, Tensor][] = [
    ...online.namedParameters(),
    ...method.parameters(state).map((t, i): [string, Tensor] => [`method.${i}`, t]),
  ];
  const o = {
    lr,
    momentum: options.momentum ?? DEFAULT_CONFIG.momentum,
    weightDecay,
    excludeBiasAndNorm: options.excludeBiasAndNorm ?? DEFAULT_CONFIG.wdExcludeNormBias,
  };
  const optimizer: Optimizer = stack.adopt(
    options.optimizer === "lars"
      ? new LARS(params, { ...o, trustCoefficient: options.trustCoefficient ?? DEFAULT_CONFIG.larsTrust })
      : new SGD(params, o),
    (o) => o.dispose(),
  );
  const trained = [...online.parameters(), ...method.parameters(state)];
  let parallel = undefined;
  if (options.dist) {
    const { group, syncBn } = options.dist;
    // The BYOL/SimSiam predictor's BatchNorm1d too: its statistics are over the global batch, as the
    // encoders' (a rank-local predictor BN would normalise each rank's features differently).
    const nets = [
      online,
      ...(target.kind === "stop-grad" ? [] : [target.module]),
      ...(state.predictor ? [state.predictor] : []),
    ];
    if (syncBn) {
      for (const bn of nets.flatMap((n) => n.modules())) {
        if (bn instanceof BatchNorm) bn.setTrainingNorm((x, o) => syncBatchNorm(group, x, o));
      }
    }
    const saved = method.stateDict(state).tensors;
    const everything = [...nets.flatMap((n) => [...n.parameters(), ...n.buffers()]), ...trained, ...saved.values()];
    broadcastTensors(group, [...new Set(everything)]); // rank 0's weights, buffers and method state
    parallel = dataParallel(group, trained);
  }
  const onCuda = device !== "cpu";
  if (onCuda) cuda.setCudnnBenchmark(true);
  const chosen = chooseNumerics(device, precision, cpuCapabilities());
  const numerics = options.channelsLast === undefined || options.channelsLast === chosen.channelsLast
    ? chosen
    : { ...chosen, channelsLast: options.channelsLast, reason: chosen.reason.replace("channels_last", "NCHW") };
  const trainer = stack.adopt(
    new Trainer({
      online,
      target,
      method,
      state,
      optimizer,
      bf16: numerics.bf16,
      channelsLast: numerics.channelsLast,
      guardNonFinite: options.guardNonFinite ?? false,
      parallel,
    }),
    (t) => t.dispose(),
  );
  const owned = stack.move();
  return { online, target, state, optimizer, trainer, numerics, dispose: () => owned.dispose() };
}

/** @deprecated Renamed `BuiltTrainer`; this alias goes in the next release. */
export type TrainerSetup = BuiltTrainer;
