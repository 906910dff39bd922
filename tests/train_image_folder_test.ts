import assert from "node:assert/strict";
import { join } from "node:path";
import sharp from "sharp";
import { parseConfig } from "../train.ts";
import { readMetricsLog } from "../src/io/metrics_log.ts";
import { type ChildResult, runChild } from "./_child.ts";

const repo = new URL("..", import.meta.url).pathname;
const root = await Deno.makeTempDir({ prefix: "unigrad-image-folder-run-" });
addEventListener("unload", () => Deno.removeSync(root, { recursive: true }));

/**
 * DIR/train/<class>/*.jpg (30 per class) and DIR/val/<class>/*.jpg (6 per class), ten classes of
 * small JPEGs of a few sizes and aspect ratios, each class its own colour pattern.
 */
async function imageNetLike(dir: string): Promise<void> {
  for (const [split, n] of [["train", 30], ["val", 6]] as const) {
    for (let k = 0; k < 10; k++) {
      const folder = join(dir, split, `n0${k}`);
      await Deno.mkdir(folder, { recursive: true });
      for (let i = 0; i < n; i++) {
        const [w, h] = [36 + (i % 3) * 8, 30 + (i % 2) * 6];
        const px = new Uint8Array(w * h * 3);
        for (let p = 0; p < w * h; p++) {
          const [x, y] = [p % w, Math.floor(p / w)];
          px.set([(k * 25 + x * 3) & 255, ((k % 3) * 80 + y * 4) & 255, ((x + y) * (k + 1) + i) & 255], 3 * p);
        }
        await sharp(px, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 90 })
          .toFile(join(folder, `${i}.jpg`));
      }
    }
  }
}

const data = join(root, "imagenet");
await imageNetLike(data);

/** The recipe's options, with a tiny network and images so that a run takes seconds on the CPU. */
const TINY = [
  ...["--dataset", "image-folder", "--data-dir", data, "--epochs", "1", "--limit-train", "96", "--limit-test", "30"],
  ...["--arch", "resnet20", "--width", "4", "--image-size", "24", "--proj-hidden", "32", "--proj-dim", "32"],
  ...["--batch-size", "32", "--probe-epochs", "1", "--decode-workers", "1", "--threads", "1", "--log-every", "1"],
];

function cli(args: string[]): Promise<ChildResult> {
  return runChild(Deno.execPath(), { args: ["run", "-A", "train.ts", ...args], cwd: repo, timeoutMs: 180_000 });
}

Deno.test("train.ts --recipe unigrad-imagenet-100ep trains on an image folder end to end and records the resolved config", async () => {
  const out = join(root, "recipe");
  const r = await cli(["--recipe", "unigrad-imagenet-100ep", ...TINY, "--out", out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /recipe unigrad-imagenet-100ep, views 24, 24 \(mocov2\), optimizer sgd/);
  assert.match(r.stdout, /epoch 1\/1: kNN [\d.]+ % \(top-5 [\d.]+ %\)/);
  assert.match(await Deno.readTextFile(join(out, "report.md")), /unigrad/);
  const config = JSON.parse(await Deno.readTextFile(join(out, "config.json")));
  // The recipe's values, except where a flag overrode them.
  assert.deepEqual(
    [config.recipe, config.lr, config.wd, config.wdExcludeNormBias, config.warmupEpochs, config.zeroInitResidual],
    ["unigrad-imagenet-100ep", 0.05, 1e-4, false, 5, true],
  );
  assert.deepEqual([config.arch, config.epochs, config.batchSize, config.projDepth], ["resnet20", 1, 32, 3]);
  assert.deepEqual(config.methodOptions, { lambda: 100, rho: 0.99 });
  assert.deepEqual(config.resolved, { augment: "mocov2", views: 2 });
  assert.equal(config.derived.warmupSteps, config.derived.totalSteps); // 5 warm-up epochs cover the 1-epoch run
  const steps = readMetricsLog(join(out, "metrics.jsonl")).filter((m) => m.loss !== undefined);
  assert.equal(steps.length, 3); // 96 images, batch 32
  assert.ok(steps.every((m) => Number.isFinite(m.loss)));
});

Deno.test("train.ts trains UniGrad with multi-crop, CutMix and LARS from flags on an image folder", async () => {
  const out = join(root, "multi");
  const r = await cli([...TINY, "--multi-crop", "2x24,3x12", "--cutmix", "1", "--optimizer", "lars", "--out", out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /views 24, 24, 12, 12, 12 \+ CutMix \(α 1\) \(mocov2\), optimizer lars/);
  const config = JSON.parse(await Deno.readTextFile(join(out, "config.json")));
  assert.deepEqual(config.resolved, { augment: "mocov2", views: 6 });
  assert.ok(readMetricsLog(join(out, "metrics.jsonl")).some((m) => m.linearProbe !== undefined));
});

Deno.test("train.ts refuses extra views for a method that cannot take them, before any work", async () => {
  assert.throws(
    () => parseConfig([...TINY, "--method", "simclr", "--multi-crop", "2x24,4x12"]),
    /Cannot train simclr \(original, target stop-grad\) with 4 local views \(--multi-crop 2x24,4x12\): this form reads no target features/,
  );
  assert.throws(
    () => parseConfig([...TINY, "--method", "unigrad", "--target", "momentum-positive", "--cutmix", "1"]),
    /with a CutMix view \(--cutmix 1\): with target "momentum-positive"/,
  );
  const r = await cli([...TINY, "--method", "simclr", "--cutmix", "1", "--out", join(root, "refused")]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /error: Cannot train simclr .* with a CutMix view/);
});

Deno.test("parseConfig(): a recipe sets every option, a config file and flags override it, unknown names are listed", async () => {
  const c = parseConfig(["--recipe", "unigrad-cutmix", "--data-dir", data])!;
  assert.deepEqual([c.arch, c.projDim, c.cutmix, c.epochs, c.precision, c.recipe], [
    "resnet50",
    2048,
    1,
    800,
    "auto", // bf16 autocast on a GPU and a CPU with bf16 instructions, float32 elsewhere
    "unigrad-cutmix",
  ]);
  const file = join(root, "c.json");
  await Deno.writeTextFile(file, JSON.stringify({ recipe: "unigrad-multicrop", epochs: 7, lr: 0.3 }));
  const d = parseConfig(["--config", file, "--data-dir", data, "--lr", "0.2"])!;
  assert.deepEqual([d.multiCrop, d.epochs, d.lr, d.recipe], ["2x224,6x96", 7, 0.2, "unigrad-multicrop"]);
  assert.throws(
    () => parseConfig(["--recipe", "unigrad-imagenet"]),
    /Unknown recipe "unigrad-imagenet": expected one of unigrad-imagenet-100ep, /,
  );
  assert.throws(() => parseConfig(["--recipe", "unigrad-imagenet-100ep"]), /image-folder without --data-dir/);
  assert.throws(
    () => parseConfig(["--augment", "simclr"]),
    /Invalid augment "simclr": expected one of mocov2, byol, fashion-mnist, none/,
  );
  assert.throws(() => parseConfig(["--wd-exclude-norm-bias", "yes"]), /expected true or false/);
  assert.throws(() => parseConfig(["--multi-crop", "2x224,6"]), /Invalid multi-crop group "6"/);
});
