"""Maps where oneDNN's CPU convolutions corrupt memory or compute wrong numbers, in plain PyTorch.

Debian's libtorch 1.13 calls oneDNN 2.6.3 (libdnnl2) for CPU convolutions. On a CPU whose best
instruction set is AVX2 (or on any x86-64 CPU with ONEDNN_MAX_CPU_ISA=AVX2), some channels_last
convolutions with few channels write outside their buffers: glibc then aborts ("free(): invalid
pointer", "double free or corruption") or the process spins on a corrupted heap. This script runs one
convolution pass per forked child — forward, backward to the input, backward to the weights — for a
grid of channel counts, kernels, strides, sizes, layouts, thread counts and instruction-set caps,
under glibc's checking allocator (libc_malloc_debug, MALLOC_CHECK_=3: a corrupted chunk aborts at its
free, inside the same call), compares each result with ATen's own convolution (oneDNN off), and prints
the cases that crash or differ.

Usage (Debian's python3-torch):
  python3 scripts/onednn_conv_probe.py                 # the default grid (about 20 min on 2 cores)
  python3 scripts/onednn_conv_probe.py --isa AVX2 --threads 1 --layouts nhwc --kernels 1s2 --json out.json

unigrad routes around every case this finds: see src/nn/onednn_guard.ts.
"""
import argparse
import itertools
import json
import os
import subprocess
import sys

MALLOC_DEBUG = "/usr/lib/x86_64-linux-gnu/libc_malloc_debug.so.0"
PASSES = ("forward", "backward_data", "backward_weights")


def run_case(case):
    """In a forked child: one convolution pass; exit 0 (right), 1 (wrong numbers)."""
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(case["threads"])
    torch.manual_seed(0)
    cin, cout, k, s, h, n = case["cin"], case["cout"], case["k"], case["stride"], case["size"], case["batch"]
    fmt = torch.channels_last if case["layout"] == "nhwc" else torch.contiguous_format
    x = torch.randn(n, cin, h, h).to(memory_format=fmt)
    w = torch.randn(cout, cin, k, k).to(memory_format=fmt)
    p = case["pass"]
    x.requires_grad_(p == "backward_data")
    w.requires_grad_(p == "backward_weights")
    with torch.backends.mkldnn.flags(enabled=False):
        xr, wr = x.detach().contiguous().requires_grad_(x.requires_grad), w.detach().contiguous().requires_grad_(
            w.requires_grad)
        yr = F.conv2d(xr, wr, None, s, k // 2)
        gy = torch.randn_like(yr)
        if p != "forward":
            yr.backward(gy)
    for _ in range(3):  # a corruption does not always hit a checked chunk the first time
        y = F.conv2d(x, w, None, s, k // 2)
        if p != "forward":
            x.grad = w.grad = None
            y.backward(gy.to(memory_format=fmt))
    got, want = {"forward": (y, yr), "backward_data": (x.grad, xr.grad), "backward_weights": (w.grad, wr.grad)}[p]
    err = (got - want).abs().max().item() / max(1.0, want.abs().max().item())
    os._exit(0 if err < 1e-4 else 1)


def worker(cases):
    """Runs each case in a forked child of this (torch-imported, compute-free) process."""
    import torch  # noqa: F401  (imported once, before the forks)

    out = []
    for case in cases:
        pid = os.fork()
        if pid == 0:
            try:
                run_case(case)
            except BaseException:
                os._exit(2)
        _, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status):
            verdict = f"crash (signal {os.WTERMSIG(status)})"
        else:
            verdict = {0: "ok", 1: "wrong", 2: "error"}.get(os.WEXITSTATUS(status), "error")
        out.append({**case, "verdict": verdict})
    json.dump(out, sys.stdout)


def grid(args):
    ints = lambda text: [int(v) for v in text.split(",")]
    kernels = [tuple(ints(ks.replace("s", ","))) for ks in args.kernels.split(",")]
    for cin, cout, (k, s), h, layout, p in itertools.product(ints(args.cin), ints(args.cout), kernels, ints(args.sizes),
                                                             args.layouts.split(","), PASSES):
        yield {"cin": cin, "cout": cout, "k": k, "stride": s, "size": h, "layout": layout, "pass": p, "batch": 16}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--isa", default="AVX2,AVX512_CORE", help="ONEDNN_MAX_CPU_ISA values, comma-separated")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--cin", default="1,2,3,4,5,6,7,8,9,12,15,16,17,24", help="input channels")
    ap.add_argument("--cout", default="1,4,16", help="output channels")
    ap.add_argument("--kernels", default="1s2,1s1,3s2,3s1", help="kernel and stride pairs, KsS")
    ap.add_argument("--sizes", default="32,28,14,7,4", help="input heights (= widths)")
    ap.add_argument("--layouts", default="nhwc,nchw")
    ap.add_argument("--json", help="write every case's verdict here")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(json.load(sys.stdin))
        return
    results = []
    for isa, threads in itertools.product(args.isa.split(","), [int(t) for t in args.threads.split(",")]):
        cases = [{**c, "threads": threads, "isa": isa} for c in grid(args)]
        env = {**os.environ, "ONEDNN_MAX_CPU_ISA": isa, "LD_PRELOAD": MALLOC_DEBUG, "MALLOC_CHECK_": "3"}
        r = subprocess.run([sys.executable, __file__, "--worker"], input=json.dumps(cases), capture_output=True,
                           text=True, env=env, timeout=3600)
        if r.returncode != 0:
            sys.exit(f"worker for {isa} × {threads} threads failed ({r.returncode}): {r.stderr[-2000:]}")
        part = json.loads(r.stdout)
        bad = [c for c in part if c["verdict"] != "ok"]
        print(f"ONEDNN_MAX_CPU_ISA={isa}, {threads} thread(s): {len(part)} cases, {len(bad)} bad", flush=True)
        for c in bad:
            print(f"  {c['verdict']:<18} {c['layout']} {c['pass']:<16} cin {c['cin']:>2} cout {c['cout']:>2} "
                  f"k {c['k']} stride {c['stride']} size {c['size']}", flush=True)
        results += part
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f)


if __name__ == "__main__":
    main()
