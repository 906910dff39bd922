import assert from "node:assert/strict";
import sharp from "sharp";
import { liveTensors, manualSeed, scope, tensor } from "../../mod.ts";
import { DataFileError } from "../../src/data/dataset.ts";
import { imageFolder, imageFolderSplits } from "../../src/data/image_folder.ts";
import { Loader } from "../../src/data/loader.ts";
import { Augmentation } from "../../src/data/pipeline.ts";
import { tempDir } from "./_helpers.ts";

/** An image file (PNG or JPEG by extension): `left` colour on the left `split` columns, `right` on the rest. */
async function image(path: string, w: number, h: number, left: number[], right = left, split = w): Promise<void> {
  const px = new Uint8Array(w * h * 3);
  for (let p = 0; p < w * h; p++) px.set(p % w < split ? left : right, 3 * p);
  const img = sharp(px, { raw: { width: w, height: h, channels: 3 } });
  await (path.endsWith(".png") ? img.png() : img.jpeg({ quality: 95 })).toFile(path);
}

/** Pixel (y, x) of image i of interleaved uint8 [B, side, side, 3] bytes. */
function pixel(bytes: Uint8Array, side: number, i: number, y: number, x: number): number[] {
  const at = ((i * side + y) * side + x) * 3;
  return [...bytes.subarray(at, at + 3)];
}

Deno.test("imageFolder() decodes class folders of whole PNG and JPEG images, letterboxed, with labels and sizes", async () => {
  const before = liveTensors();
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/cat`);
  await Deno.mkdir(`${dir.path}/dog`);
  await image(`${dir.path}/cat/a.png`, 40, 20, [255, 0, 0]);
  await image(`${dir.path}/cat/b.jpg`, 16, 30, [0, 0, 255]);
  await image(`${dir.path}/dog/c.PNG`, 12, 12, [10, 200, 30]);
  await Deno.writeTextFile(`${dir.path}/dog/notes.txt`, "not an image");
  using ds = await imageFolder(dir.path, { side: 8, workers: 2 });
  assert.equal(ds.length, 3);
  assert.deepEqual(ds.classes, ["cat", "dog"]);
  assert.deepEqual(ds.imageShape, [3, 8, 8]);
  const { images, labels, sizes } = await ds.read([2, 0, 1]);
  assert.deepEqual([...labels!], [1, 0, 0]);
  assert.deepEqual([...sizes!], [8, 8, 4, 8, 8, 4]); // [h, w]: the whole image, longer side 8
  assert.deepEqual(pixel(images, 8, 0, 7, 7), [10, 200, 30]); // PNG: exact
  assert.deepEqual(pixel(images, 8, 1, 3, 7), [255, 0, 0]);
  assert.deepEqual(pixel(images, 8, 1, 4, 7), [255, 0, 0]); // the row past the image repeats its edge
  assert.deepEqual(pixel(images, 8, 1, 6, 3), [0, 0, 0]); // the rest of the canvas is empty
  const blue = pixel(images, 8, 2, 5, 2); // JPEG: close
  assert.ok(blue[0] < 8 && blue[1] < 8 && blue[2] > 245, `${blue}`);
  assert.deepEqual(pixel(images, 8, 2, 5, 4), blue); // the column past the image repeats its edge
  using mem = await ds.load();
  assert.deepEqual(Array.from(mem.labels!.data() as BigInt64Array, Number), [0, 0, 1]);
  const px = mem.images.toArray() as number[][][][]; // [N, C, H, W]
  assert.deepEqual([px[0][0][3][7], px[0][1][3][7], px[0][2][3][7]], [255, 0, 0]);
  assert.deepEqual([px[2][0][7][7], px[2][1][7][7], px[2][2][7][7]], [10, 200, 30]);
  mem.dispose();
  assert.equal(liveTensors(), before);
});

Deno.test("imageFolder() crops come from the whole image and never from the empty canvas", async () => {
  await using dir = await tempDir();
  await image(`${dir.path}/a_wide.png`, 64, 16, [255, 0, 0], [0, 0, 255], 32); // 4:1, red | blue
  await image(`${dir.path}/b_tall.png`, 10, 30, [200, 100, 50]);
  using ds = await imageFolder(dir.path, { side: 32, workers: 1 });
  assert.equal(ds.classes, null);
  const host = await ds.read([0, 1]);
  manualSeed(0);
  scope(() => {
    assert.equal(host.channelsLast, true);
    const images = tensor(host.images, { shape: [2, 32, 32, 3] }).permute([0, 3, 1, 2]); // [2, 3, 32, 32]
    const sizes = tensor(host.sizes!, { shape: [2, 2] });
    const plain = { jitter: null, grayscale: 0, blur: null, normalize: null } as const;
    // The full-area crop at the image's own aspect ratio is the whole photograph: red and blue halves.
    const [whole] = new Augmentation([{ ...plain, size: [8, 32], scale: [1, 1], ratio: [4, 4], flip: 0 }]).apply(
      images,
      sizes,
    );
    const px = whole.mul(255).round().toArray() as number[][][][];
    assert.deepEqual([px[0][0][4][1], px[0][2][4][1]], [255, 0]);
    assert.deepEqual([px[0][0][4][30], px[0][2][4][30]], [0, 255]);
    // Random crops of the uniform tall image read only its pixels (none of the canvas's zeros).
    const views = new Augmentation([{ ...plain, size: 16, scale: [0.05, 1] }]).apply(
      images.narrow(0, 1, 1).expand([64, 3, 32, 32]),
      sizes.narrow(0, 1, 1).expand([64, 2]),
    );
    const v = views[0].mul(255);
    for (const [c, want] of [[0, 200], [1, 100], [2, 50]]) {
      const ch = v.select(1, c);
      assert.ok(Math.abs(ch.min().item() - want) < 1e-3 && Math.abs(ch.max().item() - want) < 1e-3, `channel ${c}`);
    }
  });
});

Deno.test("imageFolder() centre fit gives the evaluation crop: the centred 0.875 of the shorter side", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/a`);
  await image(`${dir.path}/a/x.png`, 80, 40, [255, 0, 0], [0, 0, 255], 40); // red | blue, split in the middle
  using ds = await imageFolder(dir.path, { side: 14, fit: "centre", workers: 1 });
  const { images, sizes } = await ds.read([0]);
  assert.deepEqual([...sizes!], [14, 14]);
  assert.deepEqual(pixel(images, 14, 0, 7, 1), [255, 0, 0]);
  assert.deepEqual(pixel(images, 14, 0, 7, 12), [0, 0, 255]);
});

Deno.test("imageFolder() follows symbolic links to class folders and files", async () => {
  await using dir = await tempDir();
  const root = `${dir.path}/root`;
  await Deno.mkdir(`${root}/a`, { recursive: true });
  await Deno.mkdir(`${root}/b`);
  await Deno.mkdir(`${dir.path}/elsewhere`);
  await image(`${root}/a/1.png`, 4, 4, [1, 2, 3]);
  await image(`${root}/b/2.png`, 4, 4, [4, 5, 6]);
  await image(`${dir.path}/elsewhere/3.png`, 4, 4, [7, 8, 9]);
  await image(`${dir.path}/4.png`, 4, 4, [10, 11, 12]);
  await Deno.symlink(`${dir.path}/elsewhere`, `${root}/c`); // a linked class folder
  await Deno.symlink(`${dir.path}/4.png`, `${root}/a/4.png`); // a linked file
  using ds = await imageFolder(root, { side: 4, workers: 1 });
  assert.deepEqual(ds.classes, ["a", "b", "c"]);
  assert.deepEqual([...ds.labels!], [0, 0, 1, 2]);
  const { images } = await ds.read([1, 3]);
  assert.deepEqual(pixel(images, 4, 0, 0, 0), [10, 11, 12]);
  assert.deepEqual(pixel(images, 4, 1, 0, 0), [7, 8, 9]);
});

Deno.test("imageFolder() names a dangling, self-looping or ancestor-looping symbolic link", async () => {
  await using dir = await tempDir();
  const make = async (name: string) => {
    await Deno.mkdir(`${dir.path}/${name}/a`, { recursive: true });
    await image(`${dir.path}/${name}/a/ok.png`, 4, 4, [1, 2, 3]);
    return `${dir.path}/${name}`;
  };
  const dangling = await make("dangling");
  await Deno.symlink(`${dir.path}/missing.png`, `${dangling}/a/gone.png`);
  await assert.rejects(
    () => imageFolder(dangling),
    (e: Error) => e instanceof DataFileError && /a\/gone\.png: is a dangling symbolic link/.test(e.message),
  );
  const self = await make("self");
  await Deno.symlink(`${self}/a/me.png`, `${self}/a/me.png`);
  await assert.rejects(
    () => imageFolder(self),
    (e: Error) => e instanceof DataFileError && /a\/me\.png: is a symbolic link .* loops back/.test(e.message),
  );
  const ancestor = await make("ancestor");
  await Deno.symlink(`${ancestor}/a`, `${ancestor}/a/again`);
  await assert.rejects(
    () => imageFolder(ancestor),
    (e: Error) => e instanceof DataFileError && /a\/again: leads back to .* symbolic link loop/.test(e.message),
  );
  const classLink = await make("class");
  await Deno.symlink(`${dir.path}/nowhere`, `${classLink}/b`);
  await assert.rejects(() => imageFolder(classLink), /class\/b: is a dangling symbolic link/);
});

Deno.test("imageFolder() cache storage: built once, reused, rebuilt when a file changes, decodes like the originals", async () => {
  await using dir = await tempDir();
  const root = `${dir.path}/imgs`;
  await Deno.mkdir(root);
  await image(`${root}/x.jpg`, 60, 30, [200, 30, 40]);
  await image(`${root}/y.png`, 20, 20, [5, 100, 250]);
  const cache = `${dir.path}/cache`;
  const opts = { side: 16, workers: 1, storage: "cache", cacheDir: cache } as const;
  (await imageFolder(root, opts)).close();
  const [first] = await Array.fromAsync(Deno.readDir(cache));
  const pack = `${cache}/${first.name}/pack-00000.bin`;
  const mtime = (await Deno.stat(pack)).mtime!.getTime();
  using again = await imageFolder(root, opts);
  assert.equal((await Deno.stat(pack)).mtime!.getTime(), mtime);
  using stream = await imageFolder(root, { side: 16, workers: 1 });
  const [a, b] = [await again.read([0, 1]), await stream.read([0, 1])];
  assert.deepEqual([...a.sizes!], [...b.sizes!]);
  assert.ok(a.images.every((v, i) => Math.abs(v - b.images[i]) <= 6), "cache decodes close to the originals");
  await image(`${root}/z.png`, 10, 10, [7, 8, 9]);
  using third = await imageFolder(root, opts);
  assert.equal(third.length, 3);
  assert.equal((await Array.fromAsync(Deno.readDir(cache))).length, 2);
});

Deno.test("imageFolder() names an image it cannot decode and refuses empty folders, stray images and bad options", async () => {
  await using dir = await tempDir();
  await assert.rejects(() => imageFolder(dir.path), /has no JPEG or PNG images/);
  await Deno.writeTextFile(`${dir.path}/broken.jpg`, "this is not a JPEG");
  using ds = await imageFolder(dir.path, { side: 4, workers: 1 });
  await assert.rejects(
    () => ds.read([0]),
    (e: Error) => e instanceof DataFileError && e.message.includes("broken.jpg: cannot decode the image"),
  );
  await assert.rejects(
    () => imageFolder(dir.path, { side: 4, workers: 1, storage: "cache" }),
    (e: Error) => e instanceof DataFileError && e.message.includes("broken.jpg: cannot decode the image"),
  );
  await assert.rejects(() => imageFolder(`${dir.path}/none`), /none: no such folder/);
  await Deno.mkdir(`${dir.path}/cls`);
  await image(`${dir.path}/cls/ok.png`, 4, 4, [1, 2, 3]);
  await assert.rejects(() => imageFolder(dir.path), /class folders and also images outside them \(broken\.jpg\)/);
  await assert.rejects(() => imageFolder(dir.path, { side: 0 }), RangeError);
  await assert.rejects(() => imageFolder(dir.path, { storage: "tape" as "cache" }), /storage must be/);
});

Deno.test("Loader over an image folder delivers sizes with the batch and frees them", async () => {
  const before = liveTensors();
  await using dir = await tempDir();
  for (let i = 0; i < 6; i++) await image(`${dir.path}/${i}.png`, 8 + 4 * i, 12, [i, i, i]);
  using ds = await imageFolder(dir.path, { side: 16, workers: 2 });
  using loader = new Loader(ds, { batchSize: 3, shuffle: false });
  const seen: number[][] = [];
  for await (using b of loader) {
    assert.deepEqual(b.images.shape, [3, 3, 16, 16]);
    assert.equal(b.labels, null);
    assert.equal(b.sizes!.dtype, "int32");
    seen.push(...(b.sizes!.toArray() as number[][]));
  }
  assert.deepEqual(seen.map(([h, w]) => [h, w]), [[16, 11], [16, 16], [12, 16], [10, 16], [8, 16], [7, 16]]);
  assert.equal(liveTensors(), before);
});

Deno.test("imageFolderSplits() opens train and val (checking their classes), or the folder itself", async () => {
  await using dir = await tempDir();
  for (const split of ["train", "val"]) {
    for (const cls of ["a", "b"]) {
      await Deno.mkdir(`${dir.path}/${split}/${cls}`, { recursive: true });
      await image(`${dir.path}/${split}/${cls}/1.png`, 8, 6, [1, 2, 3]);
    }
  }
  {
    const { train, val } = await imageFolderSplits(dir.path, {
      train: { side: 8, workers: 1 },
      val: { side: 4, workers: 1 },
    });
    assert.deepEqual([train.classes, val!.classes, train.length, val!.length], [["a", "b"], ["a", "b"], 2, 2]);
    assert.deepEqual([...(await train.read([0])).sizes!], [6, 8]); // letterboxed
    assert.deepEqual([...(await val!.read([0])).sizes!], [4, 4]); // centre crop
    train.close();
    val!.close();
  }
  {
    using few = await imageFolder(`${dir.path}/train`, { workers: 1, limit: 1 });
    assert.deepEqual([few.length, [...few.labels!]], [1, [0]]);
    const extra = ["a/2.png", "a/3.png", "b/2.png", "b/3.png"].map((f) => `${dir.path}/train/${f}`);
    for (const f of extra) await image(f, 8, 6, [1, 2, 3]);
    using spread = await imageFolder(`${dir.path}/train`, { workers: 1, limit: 2 });
    assert.deepEqual([...spread.labels!], [0, 1]); // evenly spread (the first 2 would both be class a)
    for (const f of extra) await Deno.remove(f);
  }
  {
    const { train, val } = await imageFolderSplits(`${dir.path}/train`, { train: { workers: 1 } });
    assert.deepEqual([train.classes, val], [["a", "b"], null]);
    train.close();
  }
  await Deno.mkdir(`${dir.path}/val/c`);
  await image(`${dir.path}/val/c/1.png`, 8, 6, [1, 2, 3]);
  await assert.rejects(
    () => imageFolderSplits(dir.path, { train: { workers: 1 }, val: { workers: 1 } }),
    /val: its classes differ from .*train's \(3 against 2; only in val: c; missing from val: none\)/,
  );
});
