import assert from "node:assert/strict";
import { join } from "node:path";
import sharp from "sharp";
import { DEFAULT_CONFIG, type TrainConfig } from "../../src/run/settings.ts";
import { loadData } from "../../src/run/_data.ts";

async function png(path: string, w: number, h: number): Promise<void> {
  await sharp({ create: { width: w, height: h, channels: 3, background: { r: 9, g: 99, b: 199 } } }).png().toFile(path);
}

async function folders(): Promise<{ root: string; flat: string; labelled: string }> {
  const root = await Deno.makeTempDir({ prefix: "unigrad-run-data-" });
  const flat = join(root, "unlabelled");
  await Deno.mkdir(flat);
  for (let i = 0; i < 5; i++) await png(join(flat, `${i}.png`), 20 + i, 12);
  const labelled = join(root, "labelled");
  for (const split of ["train", "val"]) {
    for (const c of ["x", "y"]) {
      await Deno.mkdir(join(labelled, split, c), { recursive: true });
      await png(join(labelled, split, c, "1.png"), 10, 10);
    }
  }
  return { root, flat, labelled };
}

const config = (over: Partial<TrainConfig>): TrainConfig => ({
  ...DEFAULT_CONFIG,
  dataset: "image-folder",
  imageSize: 16,
  decodeWorkers: 1,
  ...over,
});

Deno.test("loadData(): a flat unlabelled folder trains, evaluated on --eval-data-dir's train/ and val/", async () => {
  const { root, flat, labelled } = await folders();
  try {
    const data = await loadData(config({ dataDir: flat, evalDataDir: labelled }), "cpu");
    try {
      assert.deepEqual([data.train.length, data.train.classes, data.train.imageShape], [5, null, [3, 18, 18]]);
      assert.deepEqual([data.evalTrain.length, data.test.length, data.test.classes], [2, 2, ["x", "y"]]);
      assert.deepEqual(data.test.imageShape, [3, 16, 16]); // the evaluation centre crops
      assert.deepEqual([data.channels, data.viewSize], [3, 16]);
    } finally {
      data.dispose();
    }
    await assert.rejects(
      () => loadData(config({ dataDir: flat }), "cpu"),
      /images have no class folders \(or give --eval-data-dir/,
    );
    await Deno.remove(join(labelled, "val"), { recursive: true });
    await assert.rejects(() => loadData(config({ dataDir: labelled }), "cpu"), /needs val\/<class>\/\* next to train/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
