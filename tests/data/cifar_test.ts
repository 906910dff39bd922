import assert from "node:assert/strict";
import { mkfifo } from "../_child.ts";
import { liveTensors } from "../../mod.ts";
import { cifar10, cifar100 } from "../../src/data/cifar.ts";
import { DataFileError } from "../../src/data/dataset.ts";
import { tempDir } from "./_helpers.ts";

/** Records of CIFAR's binary format: label bytes, then pixels (c, y, x) = (seed + 7c + 3y + x) mod 256. */
function records(labels: number[][], seed: number): Uint8Array {
  const size = labels[0].length + 3072;
  const out = new Uint8Array(labels.length * size);
  labels.forEach((l, r) => {
    out.set(l, r * size);
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 32; y++) {
        for (let x = 0; x < 32; x++) {
          out[r * size + l.length + c * 1024 + y * 32 + x] = (seed + r + 7 * c + 3 * y + x) % 256;
        }
      }
    }
  });
  return out;
}

Deno.test("cifar10() reads the five training batches and the test batch", async () => {
  const before = liveTensors();
  await using dir = await tempDir();
  for (let b = 1; b <= 5; b++) await Deno.writeFile(`${dir.path}/data_batch_${b}.bin`, records([[b], [9]], b));
  await Deno.writeFile(`${dir.path}/test_batch.bin`, records([[4]], 100));
  {
    using train = await cifar10({ dir: dir.path });
    assert.deepEqual(train.images.shape, [10, 3, 32, 32]);
    assert.deepEqual(Array.from(train.labels!.data() as BigInt64Array, Number), [1, 9, 2, 9, 3, 9, 4, 9, 5, 9]);
    const px = train.images.toArray() as number[][][][];
    assert.equal(px[2][1][5][6], (2 + 0 + 7 + 15 + 6) % 256); // batch 2, record 0, green, y 5, x 6
    using test = await cifar10({ dir: dir.path, split: "test" });
    assert.equal(test.length, 1);
    assert.equal(test.classes![4], "deer");
    using few = await cifar10({ dir: dir.path, limit: 3 });
    assert.equal(few.length, 3);
  }
  assert.equal(liveTensors(), before);
});

Deno.test("cifar100() keeps the fine or the coarse label", async () => {
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/train.bin`, records([[3, 71], [19, 99]], 0));
  using fine = await cifar100({ dir: dir.path });
  assert.deepEqual(Array.from(fine.labels!.data() as BigInt64Array, Number), [71, 99]);
  using coarse = await cifar100({ dir: dir.path, label: "coarse" });
  assert.deepEqual(Array.from(coarse.labels!.data() as BigInt64Array, Number), [3, 19]);
});

Deno.test("cifar10() and cifar100() refuse missing files, partial records and bad labels", async () => {
  await using dir = await tempDir();
  await assert.rejects(() => cifar10({ dir: dir.path, split: "test" }), /test_batch.bin: no such file/);
  await Deno.writeFile(`${dir.path}/test_batch.bin`, records([[1], [2]], 0).subarray(0, 5000));
  await assert.rejects(
    () => cifar10({ dir: dir.path, split: "test" }),
    /test_batch.bin: size 5000 bytes is not a whole number of 3073-byte records/,
  );
  await Deno.writeFile(`${dir.path}/test.bin`, records([[25, 1]], 0));
  await assert.rejects(
    () => cifar100({ dir: dir.path, split: "test", label: "coarse" }),
    (e: Error) => e instanceof DataFileError && /test.bin: record 0 has label 25, not below 20/.test(e.message),
  );
});

Deno.test("cifar10() refuses a FIFO or a device as a batch file instead of hanging", async () => {
  await using dir = await tempDir();
  const fifo = `${dir.path}/test_batch.bin`;
  await mkfifo(fifo);
  await assert.rejects(
    () => cifar10({ dir: dir.path, split: "test" }),
    /test_batch.bin: it is a FIFO, not a regular file/,
  );
  await Deno.remove(fifo);
  await Deno.symlink("/dev/zero", fifo);
  await assert.rejects(() => cifar10({ dir: dir.path, split: "test" }), /test_batch.bin: it is a character device/);
});
