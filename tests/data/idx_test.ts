import assert from "node:assert/strict";
import { mkfifo } from "../_child.ts";
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
  await assert.rejects(
    () => readIdx(p("short")),
    /short: the header's dimensions \[2, 3, 4\] need 40 bytes but it has 30 bytes/,
  );
  await Deno.writeFile(p("long"), idx([1, 3, 4], data));
  await assert.rejects(
    () => readIdx(p("long")),
    /long: the header's dimensions \[1, 3, 4\] need 28 bytes but it has 40 bytes/,
  );
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

/** Gzips `parts` (and `zeros` zero bytes after them) into `path`, streaming. */
async function writeGzip(path: string, parts: Uint8Array[], zeros = 0): Promise<void> {
  const chunk = new Uint8Array(1 << 20);
  const source = new ReadableStream<BufferSource>({
    start(c) {
      for (const p of parts) c.enqueue(p as Uint8Array<ArrayBuffer>);
      for (let left = zeros; left > 0; left -= chunk.length) {
        c.enqueue(chunk.subarray(0, Math.min(left, chunk.length)) as Uint8Array<ArrayBuffer>);
      }
      c.close();
    },
  });
  using f = await Deno.open(path, { write: true, create: true, truncate: true });
  await source.pipeThrough(new CompressionStream("gzip")).pipeTo(f.writable);
}

Deno.test("readIdx() refuses a gzip file with a valid prefix and 256 MiB of zeros without inflating them", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/bomb-images-idx3-ubyte.gz`;
  await writeGzip(path, [idx([300, 28, 28], new Uint8Array(300 * 28 * 28))], 256 << 20);
  const rss = Deno.memoryUsage().rss;
  await assert.rejects(() => readIdx(path), (e: Error) => e instanceof DataFileError && e.message.includes(path));
  assert.ok(Deno.memoryUsage().rss - rss < 128 << 20, "decompressed the trailing zeros into memory");
});

Deno.test("readIdx() checks the header against the file's real size even with a limit", async () => {
  await using dir = await tempDir();
  const p = (name: string) => `${dir.path}/${name}`;
  const data = Uint8Array.from({ length: 10 * 4 * 4 }, (_, i) => i);
  await Deno.writeFile(p("plain"), idx([10, 4, 4], data).subarray(0, 100));
  await assert.rejects(() => readIdx(p("plain"), { limit: 2 }), /plain: the header's dimensions \[10, 4, 4\] need 176/);
  await writeGzip(p("cut.gz"), [idx([10, 4, 4], data).subarray(0, 100)]);
  await assert.rejects(() => readIdx(p("cut.gz"), { limit: 2 }), /cut.gz: .* gzip trailer records 100 bytes/);
  await writeGzip(p("ok.gz"), [idx([10, 4, 4], data)]);
  assert.deepEqual((await readIdx(p("ok.gz"), { limit: 2 })).dims, [2, 4, 4]);
});

Deno.test("readIdx() refuses zero and overflowing dimensions, naming the file", async () => {
  await using dir = await tempDir();
  const p = `${dir.path}/zero`;
  await Deno.writeFile(p, idx([5, 0, 28], new Uint8Array(0)));
  await assert.rejects(() => readIdx(p), /zero: has dimensions \[5, 0, 28\] in its header: a zero or overflowing size/);
  await Deno.writeFile(p, idx([0xffffffff, 0xffffffff, 0xffffffff], new Uint8Array(0)));
  await assert.rejects(() => readIdx(p, { limit: 1 }), /zero: has dimensions .* overflowing/);
});

Deno.test("readIdx() refuses a FIFO and a device without opening them", async () => {
  await using dir = await tempDir();
  const fifo = `${dir.path}/fifo`;
  await mkfifo(fifo);
  await assert.rejects(() => readIdx(fifo), /fifo: it is a FIFO, not a regular file/);
  await assert.rejects(() => readIdx("/dev/zero"), /\/dev\/zero: it is a character device, not a regular file/);
});
