import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { liveTensors } from "../../mod.ts";
import { DataFileError } from "../../src/data/dataset.ts";
import { fashionMnist, IDX_IMAGES, IDX_LABELS, mnist, readIdx } from "../../src/data/idx.ts";
import { tempDir } from "./_helpers.ts";

const DIR = "/usr/share/datasets/fashion-mnist";

/** An IDX file of unsigned bytes. */
function idx(dims: number[], data: Uint8Array, magicRank = dims.length): Uint8Array {
  const head = new Uint8Array(4 + 4 * dims.length);
  const v = new DataView(head.buffer);
  v.setUint32(0, 0x0800 + magicRank, false);
  dims.forEach((d, i) => v.setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(head.length + data.length);
  out.set(head);
  out.set(data, head.length);
  return out;
}

Deno.test("fashionMnist() loads the Debian package's test split byte for byte", async () => {
  const before = liveTensors();
  // The reference: the whole gzip file decompressed once by zlib.
  const raw = gunzipSync(await Deno.readFile(`${DIR}/t10k-images-idx3-ubyte.gz`));
  const labels = gunzipSync(await Deno.readFile(`${DIR}/t10k-labels-idx1-ubyte.gz`));
  {
    using ds = await fashionMnist({ split: "test" });
    assert.deepEqual(ds.images.shape, [10000, 1, 28, 28]);
    assert.equal(ds.images.dtype, "uint8");
    assert.deepEqual(ds.images.data(), new Uint8Array(raw.subarray(16)));
    assert.deepEqual(Array.from(ds.labels!.data() as BigInt64Array, Number), Array.from(labels.subarray(8)));
    assert.equal(ds.classes!.length, 10);
  }
  assert.equal(liveTensors(), before);
});

Deno.test("fashionMnist() with a limit reads only the first training samples", async () => {
  using ds = await fashionMnist({ limit: 512 });
  assert.deepEqual(ds.images.shape, [512, 1, 28, 28]);
  const labels = Array.from(ds.labels!.data() as BigInt64Array, Number);
  assert.deepEqual(labels.slice(0, 5), [9, 0, 0, 3, 0]); // Fashion-MNIST's first training labels
  assert.ok(labels.every((l) => l >= 0 && l < 10));
});

Deno.test("readIdx() reads plain files and refuses wrong magic, truncation and extra bytes", async () => {
  await using dir = await tempDir();
  const p = (name: string) => `${dir.path}/${name}`;
  const data = Uint8Array.from({ length: 2 * 3 * 4 }, (_, i) => i);
  await Deno.writeFile(p("ok"), idx([2, 3, 4], data));
  const ok = await readIdx(p("ok"), { magic: IDX_IMAGES });
  assert.deepEqual(ok.dims, [2, 3, 4]);
  assert.deepEqual(ok.data, data);

  await assert.rejects(() => readIdx(p("ok"), { magic: IDX_LABELS }), (e: Error) => {
    assert.ok(e instanceof DataFileError);
    assert.match(e.message, new RegExp(`${p("ok")}: has magic 0x00000803 but expected 0x00000801`));
    return true;
  });
  await Deno.writeFile(p("short"), idx([2, 3, 4], data).subarray(0, 30));
  await assert.rejects(() => readIdx(p("short")), /short: truncated: 2 items of \[3, 4\]/);
  await Deno.writeFile(p("long"), idx([1, 3, 4], data));
  await assert.rejects(() => readIdx(p("long")), /long: has 12 bytes after the 1 items of \[3, 4\]/);
  await Deno.writeFile(p("float"), Uint8Array.of(0, 0, 0x0d, 1, 0, 0, 0, 0));
  await assert.rejects(() => readIdx(p("float")), /not an IDX file of unsigned bytes/);
  await assert.rejects(() => readIdx(p("missing")), /missing: no such file/);
});

Deno.test("mnist() refuses a truncated gzip file, naming it", async () => {
  await using dir = await tempDir();
  const gz = await Deno.readFile(`${DIR}/t10k-labels-idx1-ubyte.gz`);
  await Deno.copyFile(`${DIR}/t10k-images-idx3-ubyte.gz`, `${dir.path}/t10k-images-idx3-ubyte.gz`);
  await Deno.writeFile(`${dir.path}/t10k-labels-idx1-ubyte.gz`, gz.subarray(0, gz.length - 2000));
  await assert.rejects(
    () => mnist({ dir: dir.path, split: "test" }),
    (e: Error) => e instanceof DataFileError && e.message.includes("t10k-labels-idx1-ubyte.gz"),
  );
});

Deno.test("mnist() refuses label and image counts that differ, and a missing folder", async () => {
  await using dir = await tempDir();
  await Deno.writeFile(`${dir.path}/train-images-idx3-ubyte`, idx([3, 2, 2], new Uint8Array(12)));
  await Deno.writeFile(`${dir.path}/train-labels-idx1-ubyte`, idx([2], Uint8Array.of(1, 2)));
  await assert.rejects(() => mnist({ dir: dir.path }), /train-labels-idx1-ubyte: has 2 labels but .* has 3 images/);
  await assert.rejects(() => fashionMnist({ dir: `${dir.path}/none` }), DataFileError);
});
