import assert from "node:assert/strict";
import { liveTensors } from "../../mod.ts";
import { DataFileError } from "../../src/data/dataset.ts";
import { readShard, readShardHeader, writeShard } from "../../src/data/shard.ts";
import { tempDir } from "./_helpers.ts";

Deno.test("writeShard() and readShard() round-trip images and labels, leaving no temporary file", async () => {
  const before = liveTensors();
  await using dir = await tempDir();
  const pixels = Uint8Array.from({ length: 3 * 2 * 4 * 5 }, (_, i) => (i * 7) % 256);
  await writeShard(`${dir.path}/a.bin`, pixels, [3, 2, 4, 5], [2, 0, 1]);
  assert.deepEqual((await Array.fromAsync(Deno.readDir(dir.path))).map((e) => e.name), ["a.bin"]);
  const h = await readShardHeader(`${dir.path}/a.bin`);
  assert.equal(h.offset % 64, 0);
  assert.deepEqual(h.shape, [3, 2, 4, 5]);
  {
    using ds = await readShard(`${dir.path}/a.bin`);
    assert.deepEqual(ds.images.data(), pixels);
    assert.deepEqual(Array.from(ds.labels!.data() as BigInt64Array, Number), [2, 0, 1]);
  }
  assert.equal(liveTensors(), before);
});

Deno.test("readShardHeader() refuses a wrong magic, a truncated file and a bad header", async () => {
  await using dir = await tempDir();
  const p = `${dir.path}/s.bin`;
  await writeShard(p, new Uint8Array(2 * 3 * 2 * 2), [2, 3, 2, 2]);
  const bytes = await Deno.readFile(p);
  await Deno.writeFile(p, bytes.subarray(0, bytes.length - 1));
  await assert.rejects(() => readShardHeader(p), /s.bin: size .* does not match the header's shape \[2,3,2,2\]/);
  const wrong = bytes.slice();
  wrong[0] = 0x58;
  await Deno.writeFile(p, wrong);
  await assert.rejects(
    () => readShardHeader(p),
    (e: Error) => e instanceof DataFileError && /has magic "XGSHARD1"/.test(e.message),
  );
  const json = bytes.slice();
  json[12] = 0x7d; // "}" where "{" should be
  await Deno.writeFile(p, json);
  await assert.rejects(() => readShardHeader(p), /malformed JSON header/);
  await assert.rejects(() => readShardHeader(`${dir.path}/none.bin`), /none.bin: no such file/);
  await assert.rejects(() => writeShard(p, new Uint8Array(3), [1, 1, 2, 2]), TypeError);
});
