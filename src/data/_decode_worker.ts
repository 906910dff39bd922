/**
 * Worker thread of `DecodePool`: decodes JPEG/PNG files (or byte ranges of a pack file) with libvips
 * (npm `sharp`) into fixed-size uint8 canvases, or re-encodes them smaller for a cache. Internal.
 *
 * - "letterbox": the whole image resized (aspect ratio kept) so that its longer side is `side`, at
 *   the top-left of a `side`×`side` canvas; the row and column just past the image repeat its edge
 *   (bilinear sampling at the border reads them), the rest is 0.
 *
 * Pixels come out interleaved ([B, side, side, C], as libvips writes them): the loader views them
 * as [B, C, side, side] (channels-last strides) on the device, so no thread transposes them. The reply gives each image's
 *   [height, width] inside the canvas, so crops can be drawn from the whole image later.
 * - "centre": the centred square of `crop` times the shorter side, resized to `side`×`side`
 *   (torchvision's Resize(side / crop) + CenterCrop(side), the evaluation transform).
 * - "encode": the image resized so that its longer side is at most `side`, as JPEG of `quality`.
 *
 * @module
 */
import sharp, { type Sharp } from "sharp";

/** One image: a file, or `length` bytes at `offset` in it. */
export interface DecodeItem {
  path: string;
  offset?: number;
  length?: number;
}

/** A decode request. */
export interface DecodeRequest {
  id: number;
  kind: "letterbox" | "centre" | "encode";
  items: DecodeItem[];
  side: number;
  channels: 1 | 3;
  /** Centre-crop fraction ("centre") or JPEG quality ("encode"). */
  param: number;
}

/** The answer: pixels [B, side, side, C] (interleaved) and sizes [B, 2] (or JPEG bytes and lengths), or an error naming the file. */
export type DecodeReply =
  | { id: number; bytes: ArrayBuffer; sizes: Int32Array }
  | { id: number; path: string; error: string };

/** This worker's global scope (typed here rather than with a lib directive, which JSR refuses). */
const worker = self as unknown as {
  onmessage: ((e: MessageEvent<DecodeRequest>) => void) | null;
  postMessage(message: unknown, transfer?: Transferable[]): void;
};

sharp.cache(false); // every image is read once per epoch: libvips' operation cache only costs memory
sharp.concurrency(1); // one libvips thread per worker: the pool provides the parallelism

const files = new Map<string, Deno.FsFile>();

function input(item: DecodeItem): string | Uint8Array {
  if (item.offset === undefined || item.length === undefined) return item.path;
  let f = files.get(item.path);
  if (!f) files.set(item.path, f = Deno.openSync(item.path, { read: true }));
  const out = new Uint8Array(item.length);
  f.seekSync(item.offset, Deno.SeekMode.Start);
  for (let at = 0; at < out.length;) {
    const n = f.readSync(out.subarray(at));
    if (n === null) throw new Error(`truncated: ${item.length} bytes at offset ${item.offset} run past the end`);
    at += n;
  }
  return out;
}

function colour(img: Sharp, channels: 1 | 3): Sharp {
  return channels === 1 ? img.toColourspace("b-w") : img.removeAlpha().toColourspace("srgb");
}

/**
 * Interleaved (HWC) pixels of an h×w image → the top-left of a side×side HWC canvas, one row copy
 * at a time, plus one edge column and one edge row (bilinear sampling at the border reads them).
 */
function place(src: Uint8Array, h: number, w: number, c: number, side: number, dst: Uint8Array): void {
  const row = w * c;
  const stride = side * c;
  for (let y = 0; y < h; y++) {
    const at = y * stride;
    dst.set(src.subarray(y * row, (y + 1) * row), at);
    if (w < side) dst.copyWithin(at + row, at + row - c, at + row); // the pixel past the right edge
  }
  if (h < side) dst.copyWithin(h * stride, (h - 1) * stride, h * stride); // the row past the bottom edge
}

async function decodeOne(req: DecodeRequest, item: DecodeItem, dst: Uint8Array, size: Int32Array): Promise<void> {
  const { side, channels } = req;
  let img = sharp(input(item), { failOn: "error" });
  if (req.kind === "centre") {
    const { width = 0, height = 0 } = await img.metadata();
    const s = Math.max(1, Math.round(Math.min(width, height) * req.param));
    const box = { left: Math.floor((width - s) / 2), top: Math.floor((height - s) / 2), width: s, height: s };
    img = img.extract(box).resize(side, side, { fit: "fill", kernel: "linear" });
  } else img = img.resize(side, side, { fit: "inside", kernel: "linear" });
  const { data, info } = await colour(img, channels).raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== channels || info.width > side || info.height > side) {
    throw new Error(`decoded to ${info.width}×${info.height}×${info.channels}, not within ${side}×${side}×${channels}`);
  }
  place(data, info.height, info.width, channels, side, dst);
  size[0] = info.height;
  size[1] = info.width;
}

async function serve(req: DecodeRequest): Promise<DecodeReply> {
  const n = req.items.length;
  const sizes = new Int32Array(2 * n);
  let path = req.items[0]?.path ?? "";
  try {
    if (req.kind === "encode") {
      const parts: Uint8Array[] = [];
      for (const [i, item] of req.items.entries()) {
        path = item.path;
        const img = sharp(input(item), { failOn: "error" })
          .resize(req.side, req.side, { fit: "inside", kernel: "linear", withoutEnlargement: true });
        const { data, info } = await colour(img, req.channels).jpeg({ quality: req.param })
          .toBuffer({ resolveWithObject: true });
        parts.push(data);
        sizes[2 * i] = info.height;
        sizes[2 * i + 1] = info.width;
      }
      const bytes = new Uint8Array(parts.reduce((a, p) => a + p.length, 0) + 4 * n);
      const lengths = new DataView(bytes.buffer);
      let at = 4 * n;
      parts.forEach((p, i) => {
        lengths.setUint32(4 * i, p.length, true);
        bytes.set(p, at);
        at += p.length;
      });
      return { id: req.id, bytes: bytes.buffer, sizes };
    }
    const record = req.channels * req.side * req.side;
    const out = new Uint8Array(n * record);
    for (const [i, item] of req.items.entries()) {
      path = item.path;
      await decodeOne(req, item, out.subarray(i * record, (i + 1) * record), sizes.subarray(2 * i, 2 * i + 2));
    }
    return { id: req.id, bytes: out.buffer, sizes };
  } catch (e) {
    return { id: req.id, path, error: `cannot decode the image (${(e as Error).message})` };
  }
}

let queue: Promise<void> = Promise.resolve();
worker.onmessage = (e: MessageEvent<DecodeRequest>) => {
  // One request at a time, in arrival order: the pool's other workers provide the parallelism.
  queue = queue.then(async () => {
    const reply = await serve(e.data);
    if ("bytes" in reply) worker.postMessage(reply, [reply.bytes, reply.sizes.buffer as ArrayBuffer]);
    else worker.postMessage(reply);
  });
};
