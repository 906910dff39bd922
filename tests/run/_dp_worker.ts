/**
 * One rank of the data-parallel equality test: `deno run -A _dp_worker.ts <port> <rank> <world>`, or
 * world 0 for the single-process reference (no group). For each method, builds the run's trainer
 * (buildTrainer, as train() does) on the same seeded weights, takes STEPS steps on this rank's rows of
 * the same global views, and prints the online weights and the method's F as one JSON line.
 */
import * as T from "../_all.ts";

/**
 * Method, options and learning rate. Small enough that 3 steps stay tame: at lr 0.5, SimCLR's 1-step float32 difference
 * (3e-6 of the scale) grew to 5e-4 by step 3 on AVX2 kernels; Barlow Twins' unnormalised gradient is large.
 */
export const METHODS_UNDER_TEST = [
  ["unigrad", { lambda: 0.5 }, 0.5],
  ["simclr", {}, 0.1],
  ["barlow-twins", { form: "original" }, 0.02],
  ["byol", { form: "original", hiddenDim: 16 }, 0.1], // the predictor's BatchNorm1d: SyncBN too
] as const;
const STEPS = Number(Deno.env.get("DP_STEPS") ?? 3);
const GLOBAL_BATCH = 8;

const [port, rankArg, worldArg] = Deno.args.map(Number);
const world = worldArg === 0 ? 1 : worldArg;
const rank = worldArg === 0 ? 0 : rankArg;
T.setNumThreads(1);
const group = worldArg === 0
  ? null
  : T.ProcessGroup.join({ address: "127.0.0.1", port, rank, worldSize: world, timeoutMs: 10_000 });
const results: Record<string, { weights: number[]; target: number[] | null; F: number[] | null }> = {};
for (const [name, options, lr] of METHODS_UNDER_TEST) {
  T.manualSeed(11);
  const views = [T.rand([GLOBAL_BATCH, 1, 8, 8]), T.rand([GLOBAL_BATCH, 1, 8, 8])];
  const n = GLOBAL_BATCH / world;
  const mine = views.map((v) => v.narrow(0, rank * n, n));
  T.manualSeed(rank === 0 ? 5 : 99); // other ranks start from other weights: the broadcast must fix them
  const method = T.createMethod(name, { ...options, ...(group ? { comm: T.processGroupComm(group) } : {}) });
  const setup = T.buildTrainer({
    encoder: { arch: "resnet20", inChannels: 1, imageSize: 8, width: 4, projHidden: 16, projDim: 8, projDepth: 2 },
    method,
    totalSteps: STEPS,
    lr,
    precision: "fp32", // the float32 summation-order margin below; bf16 would round each side differently
    dist: group ? { group, syncBn: true } : undefined,
  });
  for (let k = 0; k < STEPS; k++) T.scope(() => setup.trainer.step(mine, k, lr)).dispose();
  const weights = T.scope(() =>
    T.cat([...setup.online.parameters(), ...method.parameters(setup.state)].map((p) => p.detach().flatten()))
      .toArray() as number[] // the online network's and a learnable predictor's
  );
  const F = setup.state.F ? T.scope(() => setup.state.F!.flatten().toArray() as number[]) : null;
  const momentum = setup.target.kind === "stop-grad" ? null : setup.target.module;
  const target = momentum &&
    T.scope(() => T.cat(momentum.parameters().map((p) => p.detach().flatten())).toArray() as number[]);
  results[name] = { weights, target, F };
  setup.dispose();
  [...views, ...mine].forEach((t) => t.dispose());
}
console.log(JSON.stringify(results));
group?.dispose();
