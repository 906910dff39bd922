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

/** The shard at `path` with its JSON header rewritten by `edit` (same length, so the offset holds). */
async function editHeader(path: string, edit: (json: string) => string): Promise<void> {
  const bytes = await Deno.readFile(path);
  const length = new DataView(bytes.buffer).getUint32(8, true);
  const json = new TextDecoder().decode(bytes.subarray(12, 12 + length));
  const edited = new TextEncoder().encode(edit(json.trimEnd()).padEnd(length));
  assert.equal(edited.length, length);
  bytes.set(edited, 12);
  await Deno.writeFile(path, bytes);
}

Deno.test("readShard() refuses edited labels and pixels by their checksum, and labels out of range", async () => {
  await using dir = await tempDir();
  const p = `${dir.path}/s.bin`;
  await writeShard(p, new Uint8Array(3 * 4), [3, 1, 2, 2], [0, 1, 2]);
  await editHeader(p, (json) => json.replace('"labels":[0,1,2]', '"labels":[0,-7,99]'));
  await assert.rejects(() => readShard(p), /s.bin: has label -7 at 1, not in \[0, 2147483648\)/);
  await writeShard(p, new Uint8Array(3 * 4), [3, 1, 2, 2], [0, 1, 2]);
  await editHeader(p, (json) => json.replace('"labels":[0,1,2]', '"labels":[0,1,1]'));
  await assert.rejects(() => readShard(p), /s.bin: does not match its SHA-256 checksum/);
  await assert.rejects(() => readShardHeader(p, { verify: true }), /does not match its SHA-256 checksum/);
  await writeShard(p, new Uint8Array(3 * 4), [3, 1, 2, 2], [0, 1, 2]);
  const bytes = await Deno.readFile(p);
  bytes[bytes.length - 1] ^= 1;
  await Deno.writeFile(p, bytes);
  await assert.rejects(() => readShard(p), /does not match its SHA-256 checksum/);
  await writeShard(p, new Uint8Array(3 * 4), [3, 1, 2, 2], [0, 1, 2]);
  await assert.rejects(() => readShard(p, ["a", "b"]), /has label 2 at 2, not in \[0, 2\)/);
  await editHeader(p, (json) => json.replace(/,"sha256":"[0-9a-f]+"/, ""));
  await assert.rejects(() => readShard(p), /has no checksum/);
  await assert.rejects(() => writeShard(p, new Uint8Array(4), [1, 1, 2, 2], [-1]), /label -1 at 0/);
});
