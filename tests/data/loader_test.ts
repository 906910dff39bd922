import assert from "node:assert/strict";
import { arange, liveTensors, scope } from "../../mod.ts";
import { TensorDataset } from "../../src/data/dataset.ts";
import { Loader, permutation } from "../../src/data/loader.ts";
import { RecordDataset } from "../../src/data/records.ts";
import { writeShard } from "../../src/data/shard.ts";
import { tempDir } from "./_helpers.ts";

/** 20 one-pixel images whose value is their index; labels = index mod 3. */
function numbered(): TensorDataset {
  return scope(() => {
    const idx = arange(0, 20);
    return new TensorDataset(idx.to("uint8").view([20, 1, 1, 1]), idx.remainder(3).to("int64"));
  });
}

async function epoch(loader: Loader, limit = Infinity): Promise<number[][]> {
  const out: number[][] = [];
  for await (using b of loader) {
    out.push(Array.from(b.images.data(), Number));
    if (out.length >= limit) break;
  }
  return out;
}

Deno.test("permutation() is a deterministic permutation that changes with seed and epoch", () => {
  const p = permutation(1000, 42, 3);
  assert.deepEqual([...p].sort((a, b) => a - b), Array.from({ length: 1000 }, (_, i) => i));
  assert.deepEqual(permutation(1000, 42, 3), p);
  assert.notDeepEqual(permutation(1000, 42, 4), p);
  assert.notDeepEqual(permutation(1000, 43, 3), p);
  assert.notDeepEqual(permutation(1000, 2 ** 40 + 42, 3), p);
});

Deno.test("Loader yields each sample once per epoch, reshuffled every epoch", async () => {
  const before = liveTensors();
  {
    using ds = numbered();
    using loader = new Loader(ds, { batchSize: 6, seed: 1, dropLast: false });
    assert.equal(loader.batchesPerEpoch, 4);
    const e0 = await epoch(loader);
    assert.deepEqual(e0.map((b) => b.length), [6, 6, 6, 2]);
    assert.deepEqual(e0.flat().sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i));
    assert.deepEqual(loader.state, { seed: 1, epoch: 1, position: 0 });
    const e1 = await epoch(loader);
    assert.notDeepEqual(e1.flat(), e0.flat());
    assert.deepEqual(e0.flat(), Array.from(permutation(20, 1, 0)));
  }
  assert.equal(liveTensors(), before);
});

Deno.test("Loader restores the data order and position from its state", async () => {
  using ds = numbered();
  using full = new Loader(ds, { batchSize: 4, seed: 9 });
  const reference = [...(await epoch(full)), ...(await epoch(full))];
  using first = new Loader(ds, { batchSize: 4, seed: 9 });
  const head = [...(await epoch(first)), ...(await epoch(first, 2))];
  const saved = first.state;
  assert.deepEqual(saved, { seed: 9, epoch: 1, position: 8 });
  using resumed = new Loader(ds, { batchSize: 4, seed: 0 });
  resumed.setState(saved);
  const tail = await epoch(resumed);
  assert.deepEqual([...head, ...tail], reference);
});

Deno.test("Loader splits an epoch between ranks and converts to float on request", async () => {
  using ds = numbered();
  using r0 = new Loader(ds, { batchSize: 5, seed: 2, rank: 0, worldSize: 2, dtype: "float32" });
  using r1 = new Loader(ds, { batchSize: 5, seed: 2, rank: 1, worldSize: 2 });
  const a = (await epoch(r0)).flat();
  const b = (await epoch(r1)).flat();
  assert.equal(a.length + b.length, 20);
  assert.deepEqual(
    [...a.map((v) => Math.round(v * 255)), ...b].sort((x, y) => x - y),
    Array.from({ length: 20 }, (_, i) => i),
  );
  for await (using batch of r0) {
    assert.equal(batch.images.dtype, "float32");
    assert.deepEqual((batch.labels!.toArray() as number[]).length, 5);
    break;
  }
  assert.throws(() => new Loader(ds, { batchSize: 0 }), RangeError);
  assert.throws(() => new Loader(ds, { batchSize: 1, rank: 2, worldSize: 2 }), RangeError);
});

Deno.test("Loader streams a record dataset in the same order as the in-memory one", async () => {
  await using dir = await tempDir();
  const pixels = Uint8Array.from({ length: 20 }, (_, i) => i);
  await writeShard(`${dir.path}/a.bin`, pixels.subarray(0, 12), [12, 1, 1, 1], [0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2]);
  await writeShard(`${dir.path}/b.bin`, pixels.subarray(12), [8, 1, 1, 1], [2, 0, 1, 2, 0, 1, 2, 0]);
  const offset = (await Deno.stat(`${dir.path}/a.bin`)).size - 12;
  using stream = await RecordDataset.open({
    files: [{ path: `${dir.path}/a.bin`, offset, count: 12 }, { path: `${dir.path}/b.bin`, offset, count: 8 }],
    imageShape: [1, 1, 1],
    labels: Int32Array.from({ length: 20 }, (_, i) => i % 3),
  });
  using ds = numbered();
  using a = new Loader(stream, { batchSize: 3, seed: 5, prefetch: 3 });
  using b = new Loader(ds, { batchSize: 3, seed: 5 });
  assert.deepEqual(await epoch(a), await epoch(b));
  for await (using batch of a) {
    assert.deepEqual(batch.labels!.toArray(), (batch.images.toArray() as number[][][][]).map((v) => v[0][0][0] % 3));
  }
});
