"""A plain PyTorch UniGrad run at the CPU default's settings, for the side-by-side quality comparison
(scripts/bench/quality.ts): ResNet-20 width 16 (small stem), 512→128 projector with BN, λ 6.25, ρ 0.99,
batch 256, lr 0.1 cosine, wd 5e-4, SGD momentum 0.9, momentum encoder 0.996 → 1 (cosine) with the BN
statistics copied, crops of scale 0.2–1 and ratio 3/4–4/3 by affine grid sampling, flips, brightness
and contrast 0.4 with p 0.8; kNN (k 200, τ 0.1, cosine) on the backbone's features in eval mode.

Usage: /usr/bin/python3 quality_torch.py '{"seed": 0, "epochs": 1, ...}'  → one JSON line with the
kNN accuracy at initialisation and after training, and the wall time. Keys (all optional):
  seed, epochs, limit_train, limit_test, threads, lam, lr, wd, batch,
  wd_all (true: decay BN and bias too, as a plain script does), warmup_epochs (0),
  init ("torch": nn defaults | "torchvision": kaiming_normal fan_out on convs, as unigrad's ResNet),
  padding ("reflection" | "border"), bf16 (autocast on the CPU), channels_last.
"""
import gzip
import json
import math
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

import torch_unigrad

cfg = {
    "seed": 0, "epochs": 1, "limit_train": 0, "limit_test": 0, "threads": 2, "lam": 6.25, "lr": 0.1,
    "wd": 5e-4, "batch": 256, "wd_all": True, "warmup_epochs": 0.0, "init": "torch", "padding": "reflection",
    "bf16": False, "channels_last": False, "data": "/usr/share/datasets/fashion-mnist",
}
cfg.update(json.loads(sys.argv[1]) if len(sys.argv) > 1 else {})
torch.set_num_threads(cfg["threads"])
torch.manual_seed(cfg["seed"])
MEAN, STD = 0.286, 0.353


def idx(path):
    with gzip.open(path) as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return torch.from_numpy(np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims).copy())


def load(split, limit):
    x = idx(f"{cfg['data']}/{split}-images-idx3-ubyte.gz")
    y = idx(f"{cfg['data']}/{split}-labels-idx1-ubyte.gz").long()
    if limit:
        x, y = x[:limit], y[:limit]
    return x.unsqueeze(1), y  # [N, 1, 28, 28] uint8


train_x, train_y = load("train", cfg["limit_train"])
test_x, test_y = load("t10k", cfg["limit_test"])


def Encoder():
    return torch_unigrad.Encoder("resnet20", 1, 512, 128, 2, init=cfg["init"])


def augment(x):
    """x uint8 [N, 1, 28, 28] → one view [N, 1, 28, 28], normalised."""
    n = x.shape[0]
    x = x.float() / 255
    # RandomResizedCrop(28, scale 0.2–1, ratio 3/4–4/3), 10 attempts then the whole image, as torchvision.
    area = torch.empty(n, 10).uniform_(0.2, 1.0) * 28 * 28
    logr = torch.empty(n, 10).uniform_(math.log(3 / 4), math.log(4 / 3))
    w = (area * logr.exp()).sqrt().round()
    h = (area / logr.exp()).sqrt().round()
    ok = (w <= 28) & (h <= 28)
    first = (ok.float() * torch.arange(10, 0, -1)).argmax(1, keepdim=True)
    anyok = ok.any(1)
    w = torch.where(anyok, w.gather(1, first).squeeze(1), torch.full((n,), 28.0))
    h = torch.where(anyok, h.gather(1, first).squeeze(1), torch.full((n,), 28.0))
    x0 = (torch.rand(n) * (28 - w + 1)).floor()
    y0 = (torch.rand(n) * (28 - h + 1)).floor()
    flip = torch.where(torch.rand(n) < 0.5, -1.0, 1.0)
    zero = torch.zeros(n)
    theta = torch.stack([w / 28 * flip, zero, (2 * x0 + w) / 28 - 1, zero, h / 28, (2 * y0 + h) / 28 - 1], 1)
    grid = F.affine_grid(theta.view(n, 2, 3), [n, 1, 28, 28], align_corners=False)
    x = F.grid_sample(x, grid, padding_mode=cfg["padding"], align_corners=False)
    # ColorJitter(brightness 0.4, contrast 0.4) with p 0.8, in a random order per sample.
    on = (torch.rand(n) < 0.8).float().view(n, 1, 1, 1)
    b = 1 + (torch.rand(n).view(n, 1, 1, 1) * 0.8 - 0.4) * on
    c = 1 + (torch.rand(n).view(n, 1, 1, 1) * 0.8 - 0.4) * on
    bright_first = (torch.rand(n) < 0.5).view(n, 1, 1, 1)

    def brightness(t):
        return (t * b).clamp(0, 1)

    def contrast(t):
        m = t.mean((1, 2, 3), keepdim=True)
        return ((t - m) * c + m).clamp(0, 1)

    x = torch.where(bright_first, contrast(brightness(x)), brightness(contrast(x)))
    return (x - MEAN) / STD


def features(net, x):
    net.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(x), 512):
            out.append(net.backbone((x[i:i + 512].float() / 255 - MEAN) / STD))
    net.train()
    return F.normalize(torch.cat(out), dim=1)


def knn(net, k=200, tau=0.1):
    bank, test = features(net, train_x), features(net, test_x)
    correct = 0
    for i in range(0, len(test), 256):
        sim, ind = (test[i:i + 256] @ bank.T).topk(min(k, len(bank)), dim=1)
        votes = torch.zeros(len(sim), 10).scatter_add_(1, train_y[ind], (sim / tau).exp())
        correct += (votes.argmax(1) == test_y[i:i + 256]).sum().item()
    return correct / len(test)


online, target = Encoder(), Encoder()
target.load_state_dict(online.state_dict())
for p in target.parameters():
    p.requires_grad_(False)
if cfg["channels_last"]:
    online, target = online.to(memory_format=torch.channels_last), target.to(memory_format=torch.channels_last)
if cfg["wd_all"]:
    groups = [{"params": list(online.parameters()), "weight_decay": cfg["wd"]}]
else:
    groups = [{"params": [p for p in online.parameters() if p.ndim > 1], "weight_decay": cfg["wd"]},
              {"params": [p for p in online.parameters() if p.ndim <= 1], "weight_decay": 0.0}]
opt = torch.optim.SGD(groups, lr=cfg["lr"], momentum=0.9)
N = cfg["batch"]
steps_per_epoch = len(train_x) // N
total = steps_per_epoch * cfg["epochs"]
warm = round(cfg["warmup_epochs"] * steps_per_epoch)
knn_init = knn(online)
start = time.time()
k = 0
step = torch_unigrad.UniGradStep(online, target, opt, cfg["lam"], bf16=cfg["bf16"])
gen = torch.Generator().manual_seed(cfg["seed"])
for epoch in range(cfg["epochs"]):
    order = torch.randperm(len(train_x), generator=gen)
    for s in range(steps_per_epoch):
        lr = cfg["lr"] * (k + 1) / warm if k < warm else \
            cfg["lr"] * 0.5 * (1 + math.cos(math.pi * (k - warm) / max(1, total - warm)))
        for g in opt.param_groups:
            g["lr"] = lr
        batch = train_x[order[s * N:(s + 1) * N]]
        x1, x2 = augment(batch), augment(batch)
        if cfg["channels_last"]:
            x1, x2 = x1.contiguous(memory_format=torch.channels_last), x2.contiguous(memory_format=torch.channels_last)
        step(x1, x2, k, total)
        k += 1
wall = time.time() - start
print(json.dumps({"knn_init": knn_init, "knn_final": knn(online), "train_s": wall, "steps": total}))
