"""PyTorch side of scripts/bench/ops.ts: the same per-op and ResNet-block loops, timed the same way.

Usage: python3 ops_torch.py THREADS ITERS [DEVICE]  → prints one JSON object of microseconds per iteration.
"""
import json
import sys
import time

import torch
import torch.nn.functional as F

threads, iters = int(sys.argv[1]), int(sys.argv[2])
dev = sys.argv[3] if len(sys.argv) > 3 else "cpu"
sync = torch.cuda.synchronize if dev != "cpu" else (lambda: None)
torch.set_num_threads(threads)
torch.manual_seed(0)


def per_iter_us(fn, n):
    for _ in range(min(n // 10, 1000)):
        fn()
    sync()
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        sync()
        best = min(best, time.perf_counter() - t0)
    return best / n * 1e6


a = torch.randn(64, device=dev)
b = torch.randn(64, device=dev)
m = torch.randn(8, 8, device=dev)


def add():
    c = a + b
    del c


def mul_scalar():
    c = a * 2.0
    del c


def chain():  # five small ops: the shape of an optimizer or loss expression
    c = ((a * b + a).relu() - b).sum()
    del c


def matmul():
    c = m @ m
    del c


x = torch.randn(8, 16, 8, 8, device=dev)
w1 = torch.randn(16, 16, 3, 3, requires_grad=True, device=dev)
w2 = torch.randn(16, 16, 3, 3, requires_grad=True, device=dev)
g1 = torch.ones(16, requires_grad=True, device=dev)
b1 = torch.zeros(16, requires_grad=True, device=dev)
g2 = torch.ones(16, requires_grad=True, device=dev)
b2 = torch.zeros(16, requires_grad=True, device=dev)
rm1, rv1, rm2, rv2 = torch.zeros(16, device=dev), torch.ones(16, device=dev), torch.zeros(16, device=dev), torch.ones(16, device=dev)


def block():  # ResNet BasicBlock forward + backward
    y = F.conv2d(x, w1, None, 1, 1)
    y = F.batch_norm(y, rm1, rv1, g1, b1, True, 0.1, 1e-5).relu()
    y = F.conv2d(y, w2, None, 1, 1)
    y = F.batch_norm(y, rm2, rv2, g2, b2, True, 0.1, 1e-5)
    loss = (y + x).relu().sum()
    loss.backward()
    for p in (w1, w2, g1, b1, g2, b2):
        p.grad = None


out = {
    "add": per_iter_us(add, iters),
    "mul_scalar": per_iter_us(mul_scalar, iters),
    "chain5": per_iter_us(chain, iters // 2),
    "matmul8": per_iter_us(matmul, iters),
    "resnet_block_fwd_bwd": per_iter_us(block, max(iters // 200, 20)),
}
print(json.dumps(out))
