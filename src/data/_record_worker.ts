/**
 * Worker thread of `RecordDataset`: reads fixed-size records with synchronous file calls, off the
 * main thread, so reading overlaps the training step that runs there. Internal.
 *
 * @module
 */

/** A read request: records (file index, record index) pairs, optionally transposed [C, A, B] → [C, B, A]. */
export interface ReadRequest {
  id: number;
  files: readonly string[];
  offsets: readonly number[];
  recordBytes: number;
  items: Int32Array;
  transpose: readonly [number, number, number] | null;
}

/** The answer: the records' bytes, or an error naming the file. */
export type ReadReply = { id: number; bytes: ArrayBuffer } | { id: number; path: string; error: string };

const open = new Map<string, Deno.FsFile>();

/** This worker's global scope (typed here rather than with a lib directive, which JSR refuses). */
const worker = self as unknown as {
  onmessage: ((e: MessageEvent<ReadRequest | "close">) => void) | null;
  postMessage(message: unknown, transfer?: Transferable[]): void;
  close(): void;
};

function readRecord(file: Deno.FsFile, position: number, out: Uint8Array): void {
  file.seekSync(position, Deno.SeekMode.Start);
  let at = 0;
  while (at < out.length) {
    const n = file.readSync(out.subarray(at));
    if (n === null) throw new Error(`truncated: record at offset ${position} ends after ${at} of ${out.length} bytes`);
    at += n;
  }
}

function transposeInto(src: Uint8Array, dst: Uint8Array, [c, a, b]: readonly [number, number, number]): void {
  for (let k = 0; k < c; k++) {
    const base = k * a * b;
    for (let i = 0; i < a; i++) {
      for (let j = 0; j < b; j++) dst[base + j * a + i] = src[base + i * b + j];
    }
  }
}

function serve(req: ReadRequest): ReadReply {
  const n = req.items.length / 2;
  const out = new Uint8Array(n * req.recordBytes);
  const scratch = req.transpose ? new Uint8Array(req.recordBytes) : null;
  let path = req.files[0] ?? "";
  try {
    for (let i = 0; i < n; i++) {
      const f = req.items[2 * i];
      path = req.files[f];
      let file = open.get(path);
      if (!file) open.set(path, file = Deno.openSync(path, { read: true }));
      const dst = out.subarray(i * req.recordBytes, (i + 1) * req.recordBytes);
      const position = req.offsets[f] + req.items[2 * i + 1] * req.recordBytes;
      if (scratch === null) readRecord(file, position, dst);
      else {
        readRecord(file, position, scratch);
        transposeInto(scratch, dst, req.transpose!);
      }
    }
    return { id: req.id, bytes: out.buffer };
  } catch (e) {
    return { id: req.id, path, error: (e as Error).message };
  }
}

worker.onmessage = (e: MessageEvent<ReadRequest | "close">) => {
  if (e.data === "close") {
    for (const f of open.values()) f.close();
    open.clear();
    worker.close();
    return;
  }
  const reply = serve(e.data);
  if ("bytes" in reply) worker.postMessage(reply, [reply.bytes]);
  else worker.postMessage(reply);
};
