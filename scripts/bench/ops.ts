/**
 * Benchmark: host cost per op of unigrad (Deno FFI → shim → libtorch) against PyTorch on the same
 * libtorch (Debian's python3-torch 1.13), in one run, with the same thread count on both sides.
 * Prints microseconds per iteration and the ratio ours / PyTorch (goal: ≤ 0.7 for small ops).
 *
 * Usage: `deno task bench:ops [-- --iters 100000 --threads 1]`
 *
 * @module
 */
import { parseArgs } from "node:util";
import { batchNorm, conv2d } from "../../src/torch/mod.ts";
import { ones, randn, scope, setNumThreads, type Tensor, zeros } from "../../mod.ts";
import { cuda, type Device, manualSeed } from "../../mod.ts";
import { TensorList } from "../../src/torch/mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    iters: { type: "string", default: "100000" },
    threads: { type: "string", default: "1" },
    device: { type: "string", default: "cpu" },
    python: { type: "string", default: "/usr/bin/python3" },
  },
});
const iters = Number(values.iters);
const threads = Number(values.threads);
const device = values.device as Device;
const sync = device === "cpu" ? () => {} : () => cuda.synchronize();
setNumThreads(threads);
manualSeed(0);

function perIterUs(fn: () => void, n: number): number {
  for (let i = 0; i < Math.min(n / 10, 1000); i++) fn();
  sync();
  let best = Infinity;
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) fn();
    sync();
    best = Math.min(best, performance.now() - t0);
  }
  return (best / n) * 1000;
}

const a = randn([64], { device });
const b = randn([64], { device });
const m = randn([8, 8], { device });

const x = randn([8, 16, 8, 8], { device });
const params = [
  randn([16, 16, 3, 3], { device }),
  randn([16, 16, 3, 3], { device }),
  ones([16], { device }),
  zeros([16], { device }),
  ones([16], { device }),
  zeros([16], { device }),
];
for (const p of params) p.requiresGrad_(true);
const [w1, w2, g1, b1, g2, b2] = params;
const [rm1, rv1, rm2, rv2] = [
  zeros([16], { device }),
  ones([16], { device }),
  zeros([16], { device }),
  ones([16], { device }),
];
const plist = TensorList.of(params);

function block(): void {
  scope(() => {
    let y: Tensor = conv2d(x, w1, null, { padding: 1 });
    y = batchNorm(y, { weight: g1, bias: b1, runningMean: rm1, runningVar: rv1 }).relu();
    y = conv2d(y, w2, null, { padding: 1 });
    y = batchNorm(y, { weight: g2, bias: b2, runningMean: rm2, runningVar: rv2 });
    y.add(x).relu().sum().backward();
  });
  plist.zeroGrad();
}

const ours: Record<string, number> = {
  add: perIterUs(() => a.add(b).dispose(), iters),
  mul_scalar: perIterUs(() => a.mul(2).dispose(), iters),
  chain5: perIterUs(() => scope(() => void a.mul(b).add(a).relu().sub(b).sum()), iters / 2),
  matmul8: perIterUs(() => m.matmul(m).dispose(), iters),
  resnet_block_fwd_bwd: perIterUs(block, Math.max(iters / 200, 20)),
};

const script = new URL("./ops_torch.py", import.meta.url).pathname;
const py = new Deno.Command(values.python!, { args: [script, String(threads), String(iters), device] })
  .outputSync();
if (!py.success) {
  console.error(new TextDecoder().decode(py.stderr));
  Deno.exit(1);
}
const torch: Record<string, number> = JSON.parse(new TextDecoder().decode(py.stdout));

console.log(`per-iteration host cost on ${device}, ${threads} thread(s), ${iters} iterations (best of 3)`);
console.log("op                      unigrad µs   PyTorch µs   ratio");
for (const k of Object.keys(ours)) {
  const r = ours[k] / torch[k];
  console.log(
    `${k.padEnd(22)} ${ours[k].toFixed(2).padStart(11)} ${torch[k].toFixed(2).padStart(12)} ${
      r.toFixed(2).padStart(7)
    }`,
  );
}
