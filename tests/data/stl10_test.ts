import assert from "node:assert/strict";
import { liveTensors } from "../../mod.ts";
import { stl10, stl10Stream } from "../../src/data/stl10.ts";
import { tempDir } from "./_helpers.ts";

const RECORD = 3 * 96 * 96;
const value = (n: number, c: number, y: number, x: number) => (n * 31 + c * 7 + y * 5 + x * 3) % 256;

/** n images in STL-10's layout: each channel column-major (x outer, y inner). */
function images(n: number): Uint8Array {
  const out = new Uint8Array(n * RECORD);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) {
      for (let x = 0; x < 96; x++) {
        for (let y = 0; y < 96; y++) out[i * RECORD + c * 9216 + x * 96 + y] = value(i, c, y, x);
      }
    }
  }
  return out;
}

async function fixture(dir: string): Promise<void> {
  await Deno.writeFile(`${dir}/train_X.bin`, images(3));
  await Deno.writeFile(`${dir}/train_y.bin`, Uint8Array.of(1, 10, 4));
  await Deno.writeFile(`${dir}/unlabeled_X.bin`, images(5));
}

Deno.test("stl10() reads column-major records into row-major images with labels 0–9", async () => {
  const before = liveTensors();
  await using dir = await tempDir();
  await fixture(dir.path);
  {
    using ds = await stl10({ dir: dir.path });
    assert.deepEqual(ds.images.shape, [3, 3, 96, 96]);
    assert.deepEqual(Array.from(ds.labels!.data() as BigInt64Array, Number), [0, 9, 3]);
    const px = ds.images.toArray() as number[][][][];
    for (const [n, c, y, x] of [[0, 0, 0, 1], [1, 2, 50, 3], [2, 1, 95, 17]]) {
      assert.equal(px[n][c][y][x], value(n, c, y, x));
    }
    using unlabeled = await stl10({ dir: dir.path, split: "unlabeled", limit: 2 });
    assert.equal(unlabeled.labels, null);
    assert.equal(unlabeled.length, 2);
  }
  assert.equal(liveTensors(), before);
});

Deno.test("stl10Stream() reads the same images in any order from a worker thread", async () => {
  await using dir = await tempDir();
  await fixture(dir.path);
  using all = await stl10({ dir: dir.path, split: "unlabeled" });
  const ref = all.images.data() as Uint8Array;
  using stream = await stl10Stream({ dir: dir.path });
  assert.equal(stream.length, 5);
  const batch = await stream.read([4, 0, 4]);
  assert.equal(batch.labels, null);
  assert.deepEqual(batch.images.subarray(0, RECORD), ref.subarray(4 * RECORD, 5 * RECORD));
  assert.deepEqual(batch.images.subarray(RECORD, 2 * RECORD), ref.subarray(0, RECORD));
  assert.deepEqual(batch.images.subarray(2 * RECORD), ref.subarray(4 * RECORD, 5 * RECORD));
  await assert.rejects(() => stream.read([5]), RangeError);
});

Deno.test("stl10() refuses partial images, label counts that differ and bad labels", async () => {
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/test_X.bin`, images(2).subarray(0, RECORD + 10));
  await assert.rejects(
    () => stl10({ dir: dir.path, split: "test" }),
    /test_X.bin: size 27658 bytes is not a whole number of 27648-byte/,
  );
  await Deno.writeFile(`${dir.path}/test_X.bin`, images(2));
  await Deno.writeFile(`${dir.path}/test_y.bin`, Uint8Array.of(1));
  await assert.rejects(() => stl10({ dir: dir.path, split: "test" }), /test_y.bin: has 1 labels but .* has 2 images/);
  await Deno.writeFile(`${dir.path}/test_y.bin`, Uint8Array.of(1, 11));
  await assert.rejects(() => stl10Stream({ dir: dir.path, split: "test" }), /test_y.bin: label 11 at 1 is not in 1–10/);
  await assert.rejects(() => stl10({ dir: dir.path, split: "train" }), /train_X.bin: no such file/);
});
