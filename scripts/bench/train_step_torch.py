"""PyTorch side of scripts/bench/train_step.ts: the same UniGrad training step (two views through the
online encoder with backward, two through the momentum encoder, SGD, EMA), timed the same way.

Usage: python3 train_step_torch.py '{"arch": "resnet20", "batch": 256, ...}'  → one JSON line; with
"serve": true it times one step per "step" line read from stdin instead.
"""
import json
import sys
import time

import torch

from torch_unigrad import Encoder, UniGradStep

cfg = json.loads(sys.argv[1])
torch.set_num_threads(cfg["threads"])
torch.manual_seed(0)
dev = torch.device(cfg["device"] if cfg["device"] != "cuda" else "cuda:0")


def encoder():
    return Encoder(cfg["arch"], cfg["channels"], cfg["projHidden"], cfg["projDim"], cfg["projDepth"])


online = encoder().to(dev)
target = encoder().to(dev)
target.load_state_dict(online.state_dict())
for p in target.parameters():
    p.requires_grad_(False)
channels_last = cfg.get("channelsLast", dev.type == "cuda")
if channels_last:
    online = online.to(memory_format=torch.channels_last)
    target = target.to(memory_format=torch.channels_last)
if dev.type == "cuda":
    torch.backends.cudnn.benchmark = True
decay = [p for p in online.parameters() if p.ndim > 1]
no_decay = [p for p in online.parameters() if p.ndim <= 1]
opt = torch.optim.SGD([{"params": decay, "weight_decay": 5e-4}, {"params": no_decay, "weight_decay": 0}], lr=0.1, momentum=0.9)
N, C, S = cfg["batch"], cfg["channels"], cfg["size"]
x1 = torch.rand(N, C, S, S, device=dev)
x2 = torch.rand(N, C, S, S, device=dev)
if channels_last:
    x1 = x1.contiguous(memory_format=torch.channels_last)
    x2 = x2.contiguous(memory_format=torch.channels_last)
bf16 = cfg["precision"] == "bf16"


step_of = UniGradStep(online, target, opt, cfg["lambda"], bf16=bf16, device_type=dev.type)


def step(k, total):
    step_of(x1, x2, k, total)


sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
steps, warm = cfg["steps"], cfg["warmup"]
total = steps + warm
if cfg.get("serve"):
    # Paired mode (train_step.ts --paired): one timed step per "step" line on stdin, its ms on stdout,
    # so the two sides alternate step by step.
    k = 0
    for line in sys.stdin:
        if line.strip() != "step":
            break
        t0 = time.perf_counter()
        step(k, total)
        sync()
        print(json.dumps({"ms": (time.perf_counter() - t0) * 1e3}), flush=True)
        k += 1
    sys.exit(0)
for k in range(warm):
    step(k, total)
sync()
times = []
for k in range(steps):
    t0 = time.perf_counter()
    step(warm + k, total)
    sync()
    times.append(time.perf_counter() - t0)
times.sort()
out = {"median_ms": times[len(times) // 2] * 1e3, "min_ms": times[0] * 1e3}
if dev.type == "cuda":
    out["peak_gib"] = torch.cuda.max_memory_allocated() / 2**30
print(json.dumps(out))
