import assert from "node:assert/strict";
import { mkfifo } from "../_child.ts";
import { join } from "node:path";
import {
  buildMethod,
  checkSetting,
  configChanges,
  DEFAULT_CONFIG,
  flagOf,
  lambdaRule,
  readConfigFile,
  recipeConfig,
  resolvedMethodOptions,
  type Setting,
  type SettingName,
  SETTINGS,
  TRAIN_RECIPES,
  type TrainConfig,
  validateConfig,
} from "../../src/run/mod.ts";
import { derive } from "../../src/run/config.ts";
import { checkFitsMemory, estimateParameters } from "../../src/run/memory.ts";

const config = (over: Partial<TrainConfig> = {}): TrainConfig => ({ ...DEFAULT_CONFIG, methodOptions: {}, ...over });
const source = (path: string) => Deno.readTextFileSync(new URL(path, import.meta.url));

Deno.test("SETTINGS: one row per config field, each with help, a unique flag, and a default its own check accepts", () => {
  assert.deepEqual(Object.keys(DEFAULT_CONFIG), Object.keys(SETTINGS));
  const flags = new Set<string>();
  for (const [field, row] of Object.entries(SETTINGS) as [SettingName, Setting<unknown>][]) {
    assert.ok(row.help.length >= 12, field);
    assert.ok(/^[a-z][a-z0-9-]*$/.test(flagOf(field)) && !flags.has(flagOf(field)), flagOf(field));
    flags.add(flagOf(field));
    assert.deepEqual(checkSetting(field, row.default), row.default, field);
  }
  assert.equal(flagOf("wdExcludeNormBias"), "wd-exclude-norm-bias");
});

Deno.test("configChanges() lists exactly the trajectory settings that differ (walks the table)", () => {
  for (const [field, row] of Object.entries(SETTINGS) as [SettingName, Setting<unknown>][]) {
    const changed = {
      ...DEFAULT_CONFIG,
      [field]: row.default === null ? "x" : typeof row.default === "number" ? 7 : "y",
    };
    assert.equal(configChanges(DEFAULT_CONFIG, changed as TrainConfig).length, row.trajectory ? 1 : 0, field);
  }
  // An older checkpoint's methodOpts is its methodOptions.
  assert.deepEqual(configChanges({ ...DEFAULT_CONFIG, methodOptions: undefined, methodOpts: {} }, DEFAULT_CONFIG), []);
});

Deno.test("recipes state only what they change: no value equals its default", () => {
  for (const [name, recipe] of Object.entries(TRAIN_RECIPES)) {
    for (const [field, value] of Object.entries(recipe.config)) {
      assert.notDeepEqual(value, DEFAULT_CONFIG[field as SettingName], `${name}: ${field}`);
    }
  }
});

Deno.test("every config field is read by the run (train.ts and its helpers, or derive/resolvedMethodOptions)", () => {
  const code = [
    source("../../src/run/training.ts"),
    source("../../src/run/_parts.ts"),
    source("../../src/run/_data.ts"),
    source("../../src/run/_state.ts"),
    source("../../src/run/_ranks.ts"),
    source("../../src/run/budget.ts"),
    derive.toString(),
    resolvedMethodOptions.toString(),
    source("../../src/run/method_options.ts"),
    source("../../src/run/config.ts"),
  ].join("\n");
  for (const key of Object.keys(DEFAULT_CONFIG)) {
    assert.match(code, new RegExp(`\\b(c|config)\\.${key}\\b`), `no code path reads config.${key}`);
  }
});

Deno.test("validateConfig() accepts the defaults and rejects bad fields, listing the valid values", () => {
  assert.deepEqual(validateConfig(config()), config());
  const checked = validateConfig(config());
  assert.ok(Object.isFrozen(checked) && validateConfig(checked) === checked); // checked once
  const old = validateConfig(config({ method: "barlow_twins", dataset: "fashion_mnist" as never }));
  assert.deepEqual([old.method, old.dataset], ["barlow-twins", "fashion-mnist"]); // the older spellings
  assert.equal(validateConfig(config({ method: "barlow_twins-a_identity" })).method, "barlow-twins-a-identity");
  const cases: [Partial<TrainConfig> & Record<string, unknown>, RegExp][] = [
    [{ epochs: -1 }, /Invalid epochs -1: expected an integer from 0 to 1000000$/],
    [{ epochs: 0, trainMinutes: 0 }, /Invalid epochs 0 with trainMinutes 0: epochs 0 fills trainMinutes/],
    [{ trainMinutes: -1 }, /Invalid trainMinutes -1: expected a number ≥ 0 and ≤ 10000000$/],
    [{ lr: -1 }, /Invalid lr -1: expected a number ≥ 0 and ≤ 1000000$/],
    [{ batchSize: 1 }, /Invalid batchSize 1: expected an integer from 2 to 1048576$/],
    [{ threads: 1.5 }, /Invalid threads 1.5: expected an integer from 0 to 4096$/],
    [{ projDepth: 1e12 }, /Invalid projDepth 1000000000000: expected an integer from 1 to 16$/],
    [{ seed: 1e300 }, /Invalid seed 1e\+300: expected an integer from 0 to 2\^53 − 1$/],
    [{ seed: 2 ** 53 }, /Invalid seed 9007199254740992: expected an integer from 0 to 2\^53 − 1$/],
    [{ epochs: 2 ** 60 }, /Invalid epochs .*: expected an integer from 0 to 1000000$/],
    [{ out: "" }, /Invalid out "": expected a non-blank string, or null$/],
    [{ resume: " " }, /Invalid resume " ": expected a non-blank string, or null$/],
    [
      { method: "simclrr" },
      /Invalid method "simclrr": expected one of unigrad, moco, simclr, byol, simsiam, barlow-twins, vicreg, byol-directpred, byol-unified, barlow-twins-a-identity, barlow-twins-l2, vicreg-l2$/,
    ],
    [{ arch: "resnet9" as never }, /Invalid arch "resnet9": expected one of resnet20, resnet18, resnet34, resnet50$/],
    [{ dataset: "imagenet" as never }, /Invalid dataset "imagenet": expected one of fashion-mnist, mnist, cifar10/],
    [{ target: "ema" as never }, /Invalid target "ema": expected one of stop-grad, momentum, momentum-positive$/],
    [{ precision: "fp16" as never }, /Invalid precision "fp16": expected one of auto, fp32, bf16$/],
    [{ device: "gpu" }, /Invalid device "gpu": expected cpu, cuda or cuda:<index>$/],
    [{ epochs: "2" as never }, /Invalid epochs "2": expected a number$/],
    [{ out: 3 as never }, /Invalid out 3: expected a string or null$/],
    [{ methodOptions: [] as never }, /Invalid methodOptions \[\]: expected an object$/],
    [{ methodOptions: { lambda: [1] } as never }, /Invalid method option lambda \[1\]: expected a string, number/],
    [{ epoch: 3 }, /Unknown config field\(s\) epoch: expected method, methodOptions, arch/],
    [{ methodOptions: { lamda: 1 } }, /Unknown unigrad option "lamda": expected one of lambda, rho, target/],
    [{ method: "vicreg", methodOptions: { form: "l3" } }, /Invalid vicreg form "l3": expected one of original, l2$/],
    [{ method: "vicreg", target: "momentum-positive" }, /Cannot use target "momentum-positive" with vicreg form/],
  ];
  for (const [over, message] of cases) {
    assert.throws(() => validateConfig(config(over)), message, JSON.stringify(over));
  }
  const { seed: _seed, ...partial } = config();
  assert.throws(() => validateConfig(partial as TrainConfig), /Config field\(s\) seed missing$/);
});

Deno.test("derive() gives steps per epoch (full batches), total steps, the linearly scaled lr and warm-up steps", () => {
  assert.deepEqual(derive(config({ batchSize: 256, epochs: 2, lr: 0.1, warmupEpochs: 0.2 }), 60000), {
    stepsPerEpoch: 234,
    totalSteps: 468,
    effectiveLr: 0.1,
    warmupSteps: 47,
  });
  assert.equal(derive(config({ batchSize: 512, lr: 0.1, epochs: 1 }), 60000).effectiveLr, 0.2);
  assert.throws(() => derive(config({ batchSize: 256, epochs: 1 }), 100), /100 training images give no full batch/);
  // epochs 0 (fill trainMinutes) is resolved by measuring first; planning it directly is a bug.
  assert.throws(() => derive(config({ epochs: 0 }), 60000), /epochs 0 is resolved first/);
});

Deno.test("resolvedMethodOptions() scales λ = λ_2048·d/2048 for every unit-norm form, unless λ is given", () => {
  assert.deepEqual(resolvedMethodOptions(config({ projDim: 128 })), { lambda: 6.25 });
  assert.deepEqual(resolvedMethodOptions(config({ projDim: 2048 })), { lambda: 100 });
  assert.deepEqual(resolvedMethodOptions(config({ methodOptions: { lambda: 3 } })), { lambda: 3 });
  assert.deepEqual(resolvedMethodOptions(config({ method: "byol", methodOptions: { form: "unified" } })), {
    form: "unified",
    lambda: 6.25,
  });
  assert.deepEqual(resolvedMethodOptions(config({ method: "simsiam", methodOptions: { form: "directpred" } })), {
    form: "directpred",
  });
  // Barlow Twins l2 (λ_2048 = 50) and VICReg l2 (λ_2048 = 100) follow the same rule as UniGrad.
  assert.deepEqual(resolvedMethodOptions(config({ method: "barlow-twins", methodOptions: { form: "l2" } })), {
    form: "l2",
    lambda: 3.125,
  });
  assert.deepEqual(resolvedMethodOptions(config({ method: "barlow-twins-l2", projDim: 2048 })), {
    form: "l2",
    lambda: 50,
  });
  assert.deepEqual(resolvedMethodOptions(config({ method: "vicreg-l2", projDim: 64 })), { form: "l2", lambda: 3.125 });
  assert.deepEqual(resolvedMethodOptions(config({ method: "vicreg-l2", methodOptions: { lambda: 7 } })), {
    form: "l2",
    lambda: 7,
  });
  // The batch-standardised and contrastive forms keep their constants.
  assert.deepEqual(resolvedMethodOptions(config({ method: "barlow-twins" })), {});
  assert.deepEqual(resolvedMethodOptions(config({ method: "vicreg" })), {});
  assert.deepEqual(resolvedMethodOptions(config({ method: "simclr" })), {});
  assert.deepEqual(resolvedMethodOptions(config({ method: "moco", target: "stop-grad" })), { target: "stop-grad" });
  assert.deepEqual(resolvedMethodOptions(config({ method: "byol-unified" })), { form: "unified", lambda: 6.25 });
});

Deno.test("lambdaRule() states the width rule with the resolved λ, the user's λ, or null", () => {
  assert.equal(
    lambdaRule(config({ method: "barlow-twins-l2", projDim: 128 })),
    "λ = 50·d/2048 = 3.125 (d = 128; λ_2048 = 50 for barlow-twins/l2)",
  );
  assert.equal(lambdaRule(config({ methodOptions: { lambda: 3 } })), "λ = 3 (set by the user)");
  assert.equal(lambdaRule(config({ method: "moco" })), null);
});

Deno.test("readConfigFile() reads a JSON object (a run's config.json too) and names the file on errors", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const good = join(dir, "good.json");
    await Deno.writeTextFile(
      good,
      JSON.stringify({ epochs: 3, derived: { totalSteps: 1 }, resolvedMethodOptions: {} }),
    );
    assert.deepEqual(readConfigFile(good), { epochs: 3 });
    // An older run's config.json: methodOpts was the config's, methodOptions the built ones.
    await Deno.writeTextFile(
      good,
      JSON.stringify({ methodOpts: { rho: 0.9 }, methodOptions: { rho: 0.9, lambda: 6.25 } }),
    );
    assert.deepEqual(readConfigFile(good), { methodOptions: { rho: 0.9 } });
    const bad = join(dir, "bad.json");
    await Deno.writeTextFile(bad, "{ epochs: 3 ");
    assert.throws(() => readConfigFile(bad), new RegExp(`Cannot read config file "${bad}": not valid JSON`));
    await Deno.writeTextFile(bad, "[1, 2]");
    assert.throws(() => readConfigFile(bad), /expected a JSON object, got \[1,2\]/);
    assert.throws(() => readConfigFile(join(dir, "missing.json")), /Cannot read config file ".*missing\.json": /);
    assert.throws(() => readConfigFile("/dev/zero"), /Cannot read config file "\/dev\/zero": it is a character device/);
    const fifo = join(dir, "fifo.json");
    await mkfifo(fifo);
    assert.throws(() => readConfigFile(fifo), /fifo.json": it is a FIFO, not a regular file/);
    await Deno.writeTextFile(bad, " ".repeat(2 << 20));
    assert.throws(() => readConfigFile(bad), /bad.json": its 2097152 bytes are larger than the 1048576 allowed/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("recipes unigrad-official-fashion-mnist and barlow-twins-l2-official-fashion-mnist: the official optimizer settings", () => {
  const official = validateConfig({ ...DEFAULT_CONFIG, ...recipeConfig("unigrad-official-fashion-mnist") });
  // project/pretrainer.py: SGD weight decay 1e-4 over model.parameters(); cosine floor min_lr = 1e-3·init_lr.
  assert.deepEqual([official.wd, official.wdExcludeNormBias, official.lrMin], [1e-4, false, 1e-4]);
  assert.deepEqual(resolvedMethodOptions(official), { lambda: 6.25 });
  // Apart from these, the CPU default run.
  const ours = validateConfig({ ...DEFAULT_CONFIG, ...recipeConfig("unigrad-fashion-mnist") });
  const differs = Object.keys(ours).filter((k) =>
    JSON.stringify(ours[k as keyof TrainConfig]) !== JSON.stringify(official[k as keyof TrainConfig])
  );
  assert.deepEqual(differs.sort(), ["lrMin", "recipe", "wd", "wdExcludeNormBias"]);
  // configs/barlow_twins_grad_mm.py: Barlow Twins l2 with the momentum encoder; λ by the width rule.
  const bt = validateConfig({ ...DEFAULT_CONFIG, ...recipeConfig("barlow-twins-l2-official-fashion-mnist") });
  assert.deepEqual(resolvedMethodOptions(bt), { form: "l2", lambda: 3.125, target: "momentum" });
  assert.equal(buildMethod(bt).target, "momentum");
});

Deno.test("estimateParameters() and checkFitsMemory(): exact for the projector, close for the backbones, refusing before building", () => {
  assert.equal(
    estimateParameters(config({ projDepth: 3, projHidden: 2048, projDim: 2048 })).projector,
    64 * 2048 + 2 * 2048 ** 2,
  );
  assert.equal(estimateParameters(config({ arch: "resnet50", width: 128 })).backbone, 4 * 23_500_352);
  checkFitsMemory(config(), 1 << 30); // the default run: a few MB
  assert.throws(
    () => checkFitsMemory(config({ projHidden: 65536, projDepth: 16 }), 64 * 2 ** 30),
    /about 60\.1 billion parameters, 1120\.\d GiB in training, and this machine has 64\.0 GiB available/,
  );
});
