"""PyTorch reference for scripts/bench/augment.ts: the same batched augmentation recipes written
with torch tensor ops (same algorithms: one affine_grid + grid_sample for crop/resize/flip, per-sample
jitter factors with 4 order groups, luma grayscale, separable grouped-conv blur with reflected
borders, solarise, normalise). Prints one JSON line per case: views per second.

Run by augment.ts with Debian's python3-torch: /usr/bin/python3 augment_torch.py THREADS CASES_JSON [--serve]
(--serve: time one apply per case index read from stdin, so the two sides alternate call by call).
"""
import json
import math
import sys
import time

import torch
import torch.nn.functional as F

LUMA = (0.2989, 0.587, 0.114)


def gray(x):
    if x.shape[1] == 1:
        return x
    return x[:, 0:1] * LUMA[0] + x[:, 1:2] * LUMA[1] + x[:, 2:3] * LUMA[2]


def uniform(n, lo, hi, dev):
    return torch.rand(n, device=dev) * (hi - lo) + lo


def coin(n, p, dev):
    return (torch.rand(n, device=dev) < p).float()


def crop(x, size, scale, ratio, flip):
    n, c, h, w = x.shape
    dev = x.device
    t = 10
    area = uniform(n * t, scale[0], scale[1], dev).mul(h * w).view(n, t)
    r = uniform(n * t, math.log(ratio[0]), math.log(ratio[1]), dev).view(n, t).exp()
    bw = (area * r).sqrt().round()
    bh = (area / r).sqrt().round()
    fits = ((bw <= w) & (bh <= h) & (bw > 0) & (bh > 0)).float()
    first = (fits * torch.arange(t, 0, -1, device=dev)).argmax(1, keepdim=True)
    anyfit = fits.amax(1)
    bw = (bw.gather(1, first).view(n) - w) * anyfit + w
    bh = (bh.gather(1, first).view(n) - h) * anyfit + h
    x0 = (uniform(n, 0, 1, dev) * (w + 1 - bw)).floor()
    y0 = (uniform(n, 0, 1, dev) * (h + 1 - bh)).floor()
    flips = coin(n, flip, dev) * -2 + 1
    zero = torch.zeros_like(bw)
    theta = torch.stack([bw / w * flips, zero, (2 * x0 + bw) / w - 1, zero, bh / h, (2 * y0 + bh) / h - 1], 1)
    grid = F.affine_grid(theta.view(n, 2, 3), [n, c, size, size], align_corners=False)
    return F.grid_sample(x, grid, padding_mode="border", align_corners=False)


def blend(x, d, f):
    return ((x - d) * f.view(-1, 1, 1, 1) + d).clamp_(0, 1)


def brightness(x, f):
    return (x * f.view(-1, 1, 1, 1)).clamp_(0, 1)


def contrast(x, f):
    return blend(x, gray(x).mean((1, 2, 3), keepdim=True), f)


def saturation(x, f):
    return x if x.shape[1] == 1 else blend(x, gray(x), f)


def hue(x, f):
    if x.shape[1] == 1:
        return x
    r, g, b = x.chunk(3, 1)
    v = x.amax(1, keepdim=True)
    delta = v - x.amin(1, keepdim=True)
    s = delta / v.clamp(min=1e-12)
    d = delta.clamp(min=1e-12)
    rc, gc, bc = (v - r) / d, (v - g) / d, (v - b) / d
    h6 = torch.where(v == r, bc - gc, torch.where(v == g, rc - bc + 2, gc - rc + 4))
    hh = (h6 / 6 + f.view(-1, 1, 1, 1)).remainder(1)
    k = (hh * 6 + torch.arange(5, 0, -2, device=x.device).view(1, 3, 1, 1)).remainder(6)
    t = torch.minimum(k, 4 - k).clamp_(0, 1)
    return v - v * s * t


def jitter(x, b, c, s, hu, p, groups=4):
    n = x.shape[0]
    dev = x.device
    on = coin(n, p, dev)
    ops = []

    def factor(m):
        return (uniform(n, max(0, 1 - m), 1 + m, dev) - 1) * on + 1

    if b > 0:
        ops.append((brightness, factor(b)))
    if c > 0:
        ops.append((contrast, factor(c)))
    if s > 0:
        ops.append((saturation, factor(s)))
    if hu > 0:
        ops.append((hue, uniform(n, -hu, hu, dev) * on))
    step = math.ceil(n / min(groups, n))
    out = []
    for start in range(0, n, step):
        y = x[start:start + step]
        for i in torch.randperm(len(ops)).tolist():
            y = ops[i][0](y, ops[i][1][start:start + step])
        out.append(y)
    return torch.cat(out, 0)


def random_gray(x, p):
    if x.shape[1] == 1 or p == 0:
        return x
    return torch.where(coin(x.shape[0], p, x.device).view(-1, 1, 1, 1) > 0, gray(x), x)


def reflect(n, r, dev):
    return ((n - 1) - ((n - 1) - torch.arange(-r, n + r, device=dev).abs()).abs()).long()


def blur(x, p, sigma):
    n, c, h, w = x.shape
    k = max(3, 2 * round(min(h, w) * 0.05) + 1)
    r = min(k // 2, h - 1, w - 1)
    kk = 2 * r + 1
    on = coin(n, p, x.device)
    s = (uniform(n, sigma[0], sigma[1], x.device) - 1e-3) * on + 1e-3
    taps = torch.arange(-r, r + 1, device=x.device, dtype=torch.float32).square().view(1, kk)
    ker = (taps / (s.square() * -2).view(n, 1)).exp()
    wt = (ker / ker.sum(1, keepdim=True)).view(n, 1, kk).expand(n, c, kk).reshape(n * c, 1, kk)
    xp = x.index_select(2, reflect(h, r, x.device)).index_select(3, reflect(w, r, x.device))
    flat = xp.reshape(1, n * c, h + 2 * r, w + 2 * r)
    y = F.conv2d(flat, wt.view(n * c, 1, kk, 1), groups=n * c)
    y = F.conv2d(y, wt.view(n * c, 1, 1, kk), groups=n * c)
    return y.view(n, c, h, w)


def solarize(x, p):
    if p == 0:
        return x
    m = coin(x.shape[0], p, x.device).view(-1, 1, 1, 1) > 0
    return torch.where(m & (x >= 0.5), 1 - x, x)


def view(x, v):
    y = crop(x, v["size"], v["scale"], (3 / 4, 4 / 3), 0.5)
    if v["jitter"]:
        y = jitter(y, *v["jitter"])
    y = random_gray(y, v["gray"])
    if v["blur"] > 0:
        y = blur(y, v["blur"], (0.1, 2.0))
    y = solarize(y, v["solarize"])
    mean = torch.tensor(v["mean"], device=x.device).view(1, -1, 1, 1)
    std = torch.tensor(v["std"], device=x.device).view(1, -1, 1, 1)
    return (y - mean) / std


def recipe(batch, views):
    x = batch.float().mul(1 / 255)
    return [view(x, v).contiguous() for v in views]


def main():
    threads = int(sys.argv[1])
    cases = json.loads(sys.argv[2])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    batches = [(torch.rand(c["batch"], c["channels"], c["side"], c["side"]) * 255).to(torch.uint8) for c in cases]
    if len(sys.argv) > 3 and sys.argv[3] == "--serve":
        # Paired mode (augment.ts): one timed apply of case i per line "i" on stdin, its ms on stdout.
        with torch.no_grad():
            for line in sys.stdin:
                i = int(line)
                t0 = time.perf_counter()
                recipe(batches[i], cases[i]["views"])
                print(json.dumps({"ms": (time.perf_counter() - t0) * 1e3}), flush=True)
        return
    for case, batch in zip(cases, batches):
        n = case["batch"]
        with torch.no_grad():
            recipe(batch, case["views"])  # warm-up
            reps = 0
            start = time.perf_counter()
            while reps < case["min_reps"] or time.perf_counter() - start < case["min_seconds"]:
                recipe(batch, case["views"])
                reps += 1
            seconds = time.perf_counter() - start
        print(json.dumps({"name": case["name"], "views_per_s": reps * n * len(case["views"]) / seconds}), flush=True)


if __name__ == "__main__":
    main()
