/**
 * Internal: a pool of decoding worker threads (`_decode_worker.ts`). Each request is split into
 * contiguous chunks, one per worker, so a batch is decoded by all of them at once; requests queue
 * in each worker in order, so several batches can be in flight (the loader's prefetch).
 *
 * @module
 */
import { DataFileError } from "./dataset.ts";
import type { DecodeItem, DecodeReply, DecodeRequest } from "./_decode_worker.ts";

/** What a decode returns: the chunks' bytes in item order and sizes [B, 2]. */
export interface Decoded {
  /** The workers' byte buffers, in item order. */
  parts: Uint8Array[];
  /** Number of items in each part. */
  counts: number[];
  /** [height, width] per item. */
  sizes: Int32Array;
}

type Pending = { resolve: (r: { bytes: ArrayBuffer; sizes: Int32Array }) => void; reject: (e: Error) => void };

/** Worker threads that decode images with libvips. */
export class DecodePool {
  readonly size: number;
  #workers: Worker[] = [];
  #pending = new Map<number, Pending>();
  #next = 0;

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError(`Decode workers must be a positive integer, got ${size}`);
    }
    this.size = size;
  }

  #start(): Worker[] {
    if (this.#workers.length > 0) return this.#workers;
    for (let i = 0; i < this.size; i++) {
      const w = new Worker(new URL("./_decode_worker.ts", import.meta.url).href, { type: "module" });
      w.onmessage = (e: MessageEvent<DecodeReply>) => {
        const p = this.#pending.get(e.data.id);
        this.#pending.delete(e.data.id);
        if (!p) return;
        if ("bytes" in e.data) p.resolve(e.data);
        else p.reject(new DataFileError(e.data.path, e.data.error));
      };
      w.onerror = (e) => {
        e.preventDefault();
        this.#fail(new Error(`Image decoding thread failed: ${e.message}`));
      };
      this.#workers.push(w);
    }
    return this.#workers;
  }

  #fail(error: Error): void {
    for (const p of this.#pending.values()) p.reject(error);
    this.#pending.clear();
  }

  /** Decodes (or encodes) `items`, split across the workers. */
  async run(
    kind: DecodeRequest["kind"],
    items: DecodeItem[],
    side: number,
    channels: 1 | 3,
    param: number,
  ): Promise<Decoded> {
    const workers = this.#start();
    const chunks = Math.min(workers.length, items.length);
    const per = Math.ceil(items.length / Math.max(chunks, 1));
    const replies = [];
    const counts = [];
    for (let k = 0; k * per < items.length; k++) {
      const part = items.slice(k * per, (k + 1) * per);
      const id = this.#next++;
      counts.push(part.length);
      replies.push(
        new Promise<{ bytes: ArrayBuffer; sizes: Int32Array }>((resolve, reject) => {
          this.#pending.set(id, { resolve, reject });
          const req: DecodeRequest = { id, kind, items: part, side, channels, param };
          workers[id % workers.length].postMessage(req);
        }),
      );
    }
    const done = await Promise.all(replies);
    const sizes = new Int32Array(2 * items.length);
    let at = 0;
    for (const r of done) {
      sizes.set(r.sizes, at);
      at += r.sizes.length;
    }
    return { parts: done.map((r) => new Uint8Array(r.bytes)), counts, sizes };
  }

  /** Stops the workers; pending requests are rejected. */
  close(): void {
    for (const w of this.#workers) w.terminate();
    this.#workers = [];
    this.#fail(new Error("The image decoder was closed"));
  }
}
