/**
 * The device rule, enforced: a tensor made inside library code takes its device from its inputs or an
 * explicit option, never from the CPU default — a CPU tensor meeting CUDA ones is an error on the first
 * GPU run ("Expected all tensors to be on the same device"), and NCCL refuses CPU tensors. This scans
 * src/ (src/torch, which defines the factories, aside) for factory calls that name no device, and fails
 * on any that is not listed below with the reason it may stay on the host.
 */
import assert from "node:assert/strict";
import { join, relative } from "node:path";

const FACTORIES = [
  "ones",
  "zeros",
  "full",
  "tensor",
  "arange",
  "empty",
  "randn",
  "rand",
  "eye",
  "linspace",
  "randperm",
];

/** Host-side tensors on purpose: file path (from the repository root) and the start of the call → why. */
const ALLOWED: Record<string, string> = {
  "src/nn/conv.ts: empty([outChannels, inChannels": "modules are built on the CPU, then moved by Module.to(device)",
  "src/nn/conv.ts: empty([outChannels])": "modules are built on the CPU, then moved by Module.to(device)",
  "src/nn/linear.ts: empty([outFeatures, inFeatures])": "modules are built on the CPU, then moved by Module.to(device)",
  "src/nn/linear.ts: empty([outFeatures])": "modules are built on the CPU, then moved by Module.to(device)",
  "src/nn/batchnorm.ts: full([numFeatures], zeroInit": "modules are built on the CPU, then moved by Module.to(device)",
  "src/nn/batchnorm.ts: zeros([numFeatures])": "modules are built on the CPU, then moved by Module.to(device)",
  "src/nn/batchnorm.ts: full([numFeatures], 1)": "modules are built on the CPU, then moved by Module.to(device)",
  'src/nn/batchnorm.ts: zeros([], { dtype: "int64" })': "modules are built on the CPU, then moved by Module.to(device)",
  'src/optim/optimizer.ts: full([], 0, { dtype: "float64" })': "the step count of the state dict, written to files",
  "src/data/idx.ts: tensor(images.data": "a dataset read from disk is a host copy; the loader moves batches",
  "src/data/idx.ts: tensor(labels.data": "a dataset read from disk is a host copy; the loader moves batches",
  "src/data/cifar.ts: tensor(pixels": "a dataset read from disk is a host copy; the loader moves batches",
  "src/data/cifar.ts: tensor(labels": "a dataset read from disk is a host copy; the loader moves batches",
  "src/data/stl10.ts: tensor(pixels": "a dataset read from disk is a host copy; the loader moves batches",
  "src/data/stl10.ts: tensor(labels.subarray": "a dataset read from disk is a host copy; the loader moves batches",
  "src/data/image_folder.ts: tensor(images": "decoded images are a host copy; the loader moves batches",
  "src/data/image_folder.ts: tensor(labels": "decoded images are a host copy; the loader moves batches",
  "src/data/records.ts: tensor(images": "a dataset read from disk is a host copy; the loader moves batches",
  "src/data/records.ts: tensor(labels": "a dataset read from disk is a host copy; the loader moves batches",
  "src/data/shard.ts: tensor(pixels": "a cached shard read from disk is a host copy; the loader moves batches",
  "src/data/shard.ts: tensor(Int32Array.from(h.labels)": "a cached shard is a host copy; the loader moves batches",
  "src/data/loader.ts: tensor(host.images, { shape: [e - s, h, w, c] })": "moved by .to(dev) after its permute",
  "src/data/color.ts: randperm(ops.length)": "the order of the colour ops is a host decision, read with data()",
  "src/io/checkpoint.ts: tensor(Uint8Array.from(atob(base64)": "the CPU generator's state is a CPU byte tensor",
  "src/io/safetensors.ts: tensor(": "tensors read from a file are host copies; restores copy_ them to the device",
};

/** A factory call in a source text: where, and the call's text from its name. */
export interface FactoryCall {
  line: number;
  call: string;
}

/** Factory calls of `code` (comments removed) that name no device: no `device`/`dev` in their arguments, no `.to(…)` right after. */
export function hostFactoryCalls(code: string): FactoryCall[] {
  const blank = (m: string) => m.replace(/[^\n]/g, " ");
  const text = code.replace(/\/\*[\s\S]*?\*\//g, blank).replace(/\/\/[^\n]*/g, blank);
  const found: FactoryCall[] = [];
  for (const m of text.matchAll(new RegExp(`(?<![.\\w])(${FACTORIES.join("|")})\\(`, "g"))) {
    let [i, depth] = [m.index! + m[0].length, 1];
    while (depth > 0 && i < text.length) depth += text[i] === "(" ? 1 : text[i] === ")" ? -1 : 0, i++;
    const args = text.slice(m.index! + m[0].length, i - 1);
    const after = text.slice(i, i + 16);
    if (/\b(device|dev)\b/.test(args) || /^\.to\(\{?\s*(device|dev)\b/.test(after)) continue;
    found.push({ line: text.slice(0, m.index).split("\n").length, call: `${m[1]}(${args}`.replace(/\s+/g, " ") });
  }
  return found;
}

async function* sources(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    const path = join(dir, e.name);
    if (e.isDirectory) yield* sources(path);
    else if (e.name.endsWith(".ts")) yield path;
  }
}

const root = new URL("..", import.meta.url).pathname;

Deno.test("every tensor made in src/ names its device, or is listed with the reason it stays on the host", async () => {
  const unlisted: string[] = [];
  const used = new Set<string>();
  for await (const path of sources(join(root, "src"))) {
    const file = relative(root, path);
    if (file.startsWith("src/torch/")) continue;
    for (const { line, call } of hostFactoryCalls(await Deno.readTextFile(path))) {
      const key = Object.keys(ALLOWED).find((k) =>
        k.startsWith(`${file}: `) && call.startsWith(k.slice(file.length + 2).replace(/\)$/, ""))
      );
      if (key) used.add(key);
      else unlisted.push(`${file}:${line}: ${call.slice(0, 80)}`);
    }
  }
  assert.deepEqual(
    unlisted,
    [],
    "pass { device } (from an input's .device, or an option), or list the call with its reason",
  );
  assert.deepEqual(Object.keys(ALLOWED).filter((k) => !used.has(k)), [], "allowed calls that no longer exist");
});

Deno.test("the device scan finds a CPU factory call, and passes the ones that name a device", () => {
  const src = `// src/distributed/sync_batch_norm.ts, as it was
    const count = ones([1], { dtype: xf.dtype }).mul(x.numel / C); // [1]
    const flag = tensor([stop ? 1 : 0], { dtype: "int32", device: group.device });
    const cols = arange(0, W, 1, dev).view([1, 1, 1, W]);
    const perm = tensor(shuffle()).to({ device: x.device });
    /* zeros([2]) in a comment */ x.full([1], 0);`;
  assert.deepEqual(hostFactoryCalls(src), [{ line: 2, call: "ones([1], { dtype: xf.dtype }" }]);
});
