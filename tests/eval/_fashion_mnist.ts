/**
 * Test helper: reads a subset of Fashion-MNIST (Debian `dataset-fashion-mnist`) from its gzipped IDX
 * files, without depending on src/data.
 *
 * @module
 */
import { gunzipSync } from "node:zlib";
import { type Tensor, tensor } from "../../mod.ts";

/** Directory of the Debian package's files. */
export const FASHION_DIR = "/usr/share/datasets/fashion-mnist";

/** Whether the dataset is installed (tests that need it are skipped otherwise). */
export function hasFashionMnist(): boolean {
  try {
    Deno.statSync(`${FASHION_DIR}/t10k-labels-idx1-ubyte.gz`);
    return true;
  } catch {
    return false;
  }
}

function readIdx(file: string): { dims: number[]; data: Uint8Array } {
  const raw = gunzipSync(Deno.readFileSync(`${FASHION_DIR}/${file}`));
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const magic = view.getUint32(0);
  if ((magic >>> 8) !== 0x08) {
    throw new Error(`${file}: expected unsigned-byte IDX data, magic 0x${magic.toString(16)}`);
  }
  const ndim = magic & 0xff;
  const dims = Array.from({ length: ndim }, (_, i) => view.getUint32(4 + 4 * i));
  return { dims, data: new Uint8Array(raw.buffer, raw.byteOffset + 4 + 4 * ndim) };
}

/**
 * The first `n` images as float32 pixels in [0, 1], flattened to [n, 784], and their int64 labels [n].
 */
export function fashionMnist(split: "train" | "t10k", n: number): { images: Tensor; labels: Tensor } {
  const img = readIdx(`${split}-images-idx3-ubyte.gz`);
  const lab = readIdx(`${split}-labels-idx1-ubyte.gz`);
  const d = img.dims[1] * img.dims[2];
  const px = new Float32Array(n * d);
  for (let i = 0; i < n * d; i++) px[i] = img.data[i] / 255;
  const labels = BigInt64Array.from(lab.data.subarray(0, n), (v) => BigInt(v));
  return { images: tensor(px, { shape: [n, d] }), labels: tensor(labels) };
}
