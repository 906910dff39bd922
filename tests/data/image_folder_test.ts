import assert from "node:assert/strict";
import sharp from "sharp";
import { liveTensors } from "../../mod.ts";
import { DataFileError } from "../../src/data/dataset.ts";
import { imageFolder } from "../../src/data/image_folder.ts";
import { tempDir } from "./_helpers.ts";

/** A solid-colour image file (PNG or JPEG by extension). */
async function solid(path: string, w: number, h: number, [r, g, b]: number[]): Promise<void> {
  const img = sharp({ create: { width: w, height: h, channels: 3, background: { r, g, b } } });
  await (path.endsWith(".png") ? img.png() : img.jpeg({ quality: 95 })).toFile(path);
}

Deno.test("imageFolder() decodes class folders of PNG and JPEG, resized, with labels", async () => {
  const before = liveTensors();
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/cat`);
  await Deno.mkdir(`${dir.path}/dog`);
  await solid(`${dir.path}/cat/a.png`, 40, 20, [255, 0, 0]);
  await solid(`${dir.path}/cat/b.jpg`, 16, 30, [0, 0, 255]);
  await solid(`${dir.path}/dog/c.PNG`, 12, 12, [10, 200, 30]);
  await Deno.writeTextFile(`${dir.path}/dog/notes.txt`, "not an image");
  using ds = await imageFolder(dir.path, { side: 8, shardSize: 2 });
  assert.equal(ds.length, 3);
  assert.deepEqual(ds.classes, ["cat", "dog"]);
  assert.deepEqual(ds.imageShape, [3, 8, 8]);
  {
    using mem = await ds.load();
    assert.deepEqual(Array.from(mem.labels!.data() as BigInt64Array, Number), [0, 0, 1]);
    const px = mem.images.toArray() as number[][][][];
    assert.deepEqual([px[0][0][3][3], px[0][1][3][3], px[0][2][3][3]], [255, 0, 0]); // PNG: exact
    assert.deepEqual([px[2][0][7][0], px[2][1][7][0], px[2][2][7][0]], [10, 200, 30]);
    const blue = [px[1][0][4][4], px[1][1][4][4], px[1][2][4][4]]; // JPEG: close
    assert.ok(blue[0] < 8 && blue[1] < 8 && blue[2] > 245, `${blue}`);
  }
  assert.equal(liveTensors(), before);
});

Deno.test("imageFolder() reuses its shard cache and rebuilds it when a file changes", async () => {
  await using dir = await tempDir();
  await solid(`${dir.path}/x.png`, 10, 10, [1, 2, 3]);
  await solid(`${dir.path}/y.png`, 10, 10, [4, 5, 6]);
  const cache = `${dir.path}/cache`;
  (await imageFolder(dir.path, { side: 4, channels: 1, cacheDir: cache })).close();
  const [first] = await Array.fromAsync(Deno.readDir(cache));
  const shard = `${cache}/${first.name}/shard-00000.bin`;
  const mtime = (await Deno.stat(shard)).mtime!.getTime();
  using again = await imageFolder(dir.path, { side: 4, channels: 1, cacheDir: cache });
  assert.equal(again.classes, null);
  assert.deepEqual(again.imageShape, [1, 4, 4]);
  assert.equal((await Deno.stat(shard)).mtime!.getTime(), mtime);
  await solid(`${dir.path}/z.png`, 10, 10, [7, 8, 9]);
  using third = await imageFolder(dir.path, { side: 4, channels: 1, cacheDir: cache });
  assert.equal(third.length, 3);
  assert.equal((await Array.fromAsync(Deno.readDir(cache))).length, 2);
});

Deno.test("imageFolder() names an image it cannot decode, and refuses an empty folder", async () => {
  await using dir = await tempDir();
  await assert.rejects(() => imageFolder(dir.path), /has no JPEG or PNG images/);
  await Deno.writeTextFile(`${dir.path}/broken.jpg`, "this is not a JPEG");
  await assert.rejects(
    () => imageFolder(dir.path, { side: 4 }),
    (e: Error) => e instanceof DataFileError && e.message.includes("broken.jpg: cannot decode the image"),
  );
  await assert.rejects(() => imageFolder(`${dir.path}/none`), /none: no such folder/);
});
