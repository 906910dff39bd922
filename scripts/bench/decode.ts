/**
 * Image-folder decoding throughput: unigrad's `imageFolder` (libvips worker threads) against a
 * PyTorch `DataLoader` + PIL (scripts/bench/decode_torch.py, Debian's python3-torch and python3-pil)
 * with the same number of workers, on a folder of generated ImageNet-like JPEGs (500×375, quality
 * 90, textured so files are ~100 KB like ImageNet's), made in a temporary folder.
 *
 *   deno run -A scripts/bench/decode.ts                      # 2 workers, 256 images, 3 rounds
 *   deno run -A scripts/bench/decode.ts --workers 4 --images 512 --mocov2
 *
 * Cases (images per second delivered as uint8 batches on the host, ready for the training device):
 * - ours stream: decode the original JPEGs, whole image letterboxed into a side² canvas (crops and
 *   colour are then done on the training device);
 * - ours cache: the same from the FFCV-style JPEG cache (longer side bounded to `side`; built once,
 *   its build time is printed and not counted);
 * - torch letterbox: the same work as "ours stream" in PIL (DCT-scaled draft + bilinear resize + canvas);
 * - torch rrc: decode + RandomResizedCrop(224) + flip, one view (the usual fast PyTorch loader);
 * - torch mocov2 (--mocov2): decode + the paper's two MoCo v2 views on the CPU.
 * Rounds alternate ours/theirs and each case reports its best round, so load from other processes
 * on a shared machine hurts both alike. Each case also reports images per CPU second (all threads
 * of our process; PyTorch's process and its worker processes), which other load does not change:
 * the estimate for a 16-core node (14 cores decoding) is made from it.
 *
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import sharp from "sharp";
import { imageFolder, Loader } from "../../src/data/mod.ts";

const args = parseArgs({
  args: Deno.args,
  options: {
    workers: { type: "string", default: "2" },
    images: { type: "string", default: "256" },
    batch: { type: "string", default: "32" },
    epochs: { type: "string", default: "2" },
    rounds: { type: "string", default: "3" },
    side: { type: "string", default: "256" },
    mocov2: { type: "boolean", default: false },
    dir: { type: "string" },
    python: { type: "string", default: "/usr/bin/python3" },
  },
  strict: true,
});
const workers = Number(args.values.workers);
const count = Number(args.values.images);
const batch = Number(args.values.batch);
const epochs = Number(args.values.epochs);
const rounds = Number(args.values.rounds);
const side = Number(args.values.side);

/** A textured 500×375 JPEG (smooth shapes plus noise, so it compresses like a photograph). */
async function photo(path: string, seed: number): Promise<void> {
  const [w, h] = [500, 375];
  const px = new Uint8Array(w * h * 3);
  let s = seed * 2654435761 >>> 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      const noise = (s >>> 26) - 32;
      const o = 3 * (y * w + x);
      px[o] = 128 + 80 * Math.sin((x + seed * 7) / 23) + noise;
      px[o + 1] = 128 + 80 * Math.cos((y + seed * 3) / 17) + noise;
      px[o + 2] = 128 + 60 * Math.sin((x + y) / 31 + seed) + noise;
    }
  }
  await sharp(px, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 90 }).toFile(path);
}

async function makeFolder(dir: string): Promise<void> {
  for (let i = 0; i < count; i++) {
    const cls = `${dir}/class${i % 4}`;
    if (i < 4) await Deno.mkdir(cls, { recursive: true });
    await photo(`${cls}/img${String(i).padStart(5, "0")}.jpg`, i);
  }
}

/** Images per second (wall clock) and per CPU second (all threads of the process, or the workers too). */
interface Rate {
  wall: number;
  cpu: number;
}

/** Our rates: `epochs` passes of a shuffled Loader (prefetch 4) after one warm-up read. */
async function ours(dir: string, storage: "stream" | "cache"): Promise<Rate> {
  using ds = await imageFolder(dir, { side, workers, storage, cacheDir: `${dir}/../cache` });
  using loader = new Loader(ds, { batchSize: batch, prefetch: 4, seed: 1 });
  await ds.read(Array.from({ length: workers }, (_, i) => i)); // warm-up: threads started, sharp loaded
  let n = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let e = 0; e < epochs; e++) {
    for await (using b of loader) n += b.images.size(0);
  }
  const wall = (performance.now() - t0) / 1000;
  const { user, system } = process.cpuUsage(cpu0); // µs, every thread of this process
  return { wall: n / wall, cpu: n / ((user + system) / 1e6) };
}

async function theirs(dir: string, transform: string): Promise<Rate> {
  const script = new URL("./decode_torch.py", import.meta.url).pathname;
  const out = await new Deno.Command(args.values.python, {
    args: [script, dir, String(workers), String(batch), String(epochs), transform, String(side)],
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`decode_torch.py ${transform} failed`);
  const r = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
  return { wall: r.imagesPerSecond, cpu: r.imagesPerCpuSecond };
}

const tmp = args.values.dir ?? await Deno.makeTempDir({ prefix: "unigrad-decode-" });
const dir = `${tmp}/train`;
try {
  if (!args.values.dir) await makeFolder(dir);
  const sizes = [];
  for await (const c of Deno.readDir(`${dir}/class0`)) sizes.push((await Deno.stat(`${dir}/class0/${c.name}`)).size);
  console.log(
    `${count} JPEGs 500×375 q90 (mean ${(sizes.reduce((a, b) => a + b, 0) / sizes.length / 1024).toFixed(0)} KB), ` +
      `${workers} workers, batch ${batch}, ${epochs} epochs per round, canvas ${side}², ${navigator.hardwareConcurrency} cores here`,
  );
  let t = performance.now();
  (await imageFolder(dir, { side, workers, storage: "cache", cacheDir: `${tmp}/cache` })).close();
  console.log(`cache built in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  t = 0;
  const cases: Record<string, () => Promise<Rate>> = {
    "ours stream": () => ours(dir, "stream"),
    "torch letterbox": () => theirs(dir, "letterbox"),
    "ours cache": () => ours(dir, "cache"),
    "torch rrc": () => theirs(dir, "rrc"),
  };
  if (args.values.mocov2) cases["torch mocov2"] = () => theirs(dir, "mocov2");
  const best: Record<string, Rate> = {};
  for (let r = 0; r < rounds; r++) {
    const line = [];
    for (const [name, run] of Object.entries(cases)) {
      const v = await run();
      best[name] = { wall: Math.max(best[name]?.wall ?? 0, v.wall), cpu: Math.max(best[name]?.cpu ?? 0, v.cpu) };
      line.push(`${name} ${v.wall.toFixed(0)}`);
    }
    console.log(`round ${r + 1}: ${line.join(" | ")} images/s`);
  }
  for (const [name, v] of Object.entries(best)) {
    console.log(
      `${name.padEnd(16)} ${v.wall.toFixed(0).padStart(6)} images/s  ${
        (v.wall / workers).toFixed(0).padStart(5)
      } per worker` +
        `  ${v.cpu.toFixed(0).padStart(5)} per CPU second`,
    );
  }
  const ratio = (a: string, b: string) =>
    console.log(
      `${a} / ${b}: ${(best[a].wall / best[b].wall).toFixed(2)}× (images/s), ` +
        `${(best[a].cpu / best[b].cpu).toFixed(2)}× (images per CPU second)`,
    );
  ratio("ours stream", "torch letterbox");
  ratio("ours stream", "torch rrc");
  ratio("ours cache", "torch rrc");
  if (best["torch mocov2"]) ratio("ours stream", "torch mocov2");
  // Per CPU second does not depend on the other load of a shared machine: the 16-core estimate uses it.
  const node = (name: string) => (14 * best[name].cpu).toFixed(0);
  console.log(
    `16-core node, 14 cores decoding: ${node("ours stream")} images/s (stream), ${node("ours cache")} (cache), ` +
      `PyTorch rrc ${node("torch rrc")}, against ≈1,400 images/s for a ResNet-50 step on one H100 (PyTorch, bf16)`,
  );
} finally {
  if (!args.values.dir) await Deno.remove(tmp, { recursive: true });
}
