"""PyTorch reference for scripts/bench/decode.ts: a torchvision ImageFolder read by a DataLoader with
PIL (Debian's python3-pil, libjpeg-turbo), WORKERS worker processes, batches of BATCH, for EPOCHS
passes after one warm-up batch. Prints one JSON line: images per second, and images per CPU second
(this process and its workers), which does not depend on what else the machine runs.

  /usr/bin/python3 decode_torch.py DIR WORKERS BATCH EPOCHS TRANSFORM SIDE

TRANSFORM:
  letterbox  decode (DCT-scaled draft) + bilinear resize so the longer side is SIDE, in a SIDE² canvas:
             the same work as unigrad's "letterbox" decode
  rrc        decode + RandomResizedCrop(224, scale 0.2-1) + flip + PILToTensor (one view: the
             usual fast loader; colour augmentation left to the training device)
  mocov2     decode + the paper's two MoCo v2 views on the CPU (RandomResizedCrop, ColorJitter,
             RandomGrayscale, PIL GaussianBlur, flip, ToTensor, Normalize), as the official MoCo
             v2 / UniGrad code runs them
"""
import json
import random
import resource
import sys
import time

import torch
import torchvision.transforms as T
from PIL import Image, ImageFilter
from torch.utils.data import DataLoader
from torchvision.datasets import ImageFolder


def draft_loader(side):
    """Opens an image with JPEG DCT scaling towards SIDE (as libvips' shrink-on-load does) before decoding."""

    def load(path):
        with open(path, "rb") as f:
            im = Image.open(f)
            w, h = im.size
            s = side / max(w, h)
            im.draft("RGB", (max(1, round(w * s)), max(1, round(h * s))))
            return im.convert("RGB")

    return load


class Letterbox:
    def __init__(self, side):
        self.side = side

    def __call__(self, im):
        w, h = im.size
        s = self.side / max(w, h)
        im = im.resize((max(1, round(w * s)), max(1, round(h * s))), Image.BILINEAR)
        x = T.functional.pil_to_tensor(im)  # [3, h, w]
        canvas = torch.zeros(3, self.side, self.side, dtype=torch.uint8)
        canvas[:, :x.shape[1], :x.shape[2]] = x
        return canvas


class PilBlur:
    """MoCo v2's GaussianBlur (PIL's filter, sigma uniform in [0.1, 2]), as the official code runs it."""

    def __call__(self, im):
        return im.filter(ImageFilter.GaussianBlur(radius=random.uniform(0.1, 2.0)))


class TwoViews:
    def __init__(self, t):
        self.t = t

    def __call__(self, im):
        return torch.stack([self.t(im), self.t(im)])


def transform(name, side):
    if name == "letterbox":
        return Letterbox(side)
    if name == "rrc":
        return T.Compose([T.RandomResizedCrop(224, scale=(0.2, 1.0)), T.RandomHorizontalFlip(), T.PILToTensor()])
    if name == "mocov2":
        view = T.Compose([
            T.RandomResizedCrop(224, scale=(0.2, 1.0)),
            T.RandomApply([T.ColorJitter(0.4, 0.4, 0.4, 0.1)], p=0.8),
            T.RandomGrayscale(p=0.2),
            T.RandomApply([PilBlur()], p=0.5),
            T.RandomHorizontalFlip(),
            T.ToTensor(),
            T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
        ])
        return TwoViews(view)
    raise SystemExit(f"unknown transform {name}")


def main():
    root, workers, batch, epochs, name, side = sys.argv[1:7]
    workers, batch, epochs, side = int(workers), int(batch), int(epochs), int(side)
    torch.set_num_threads(1)
    loader = {"loader": draft_loader(side)} if name == "letterbox" else {}
    ds = ImageFolder(root, transform=transform(name, side), **loader)
    batches = DataLoader(ds, batch_size=batch, shuffle=True, num_workers=workers, drop_last=True,
                         prefetch_factor=2 if workers > 0 else None)
    warm = iter(batches)
    next(warm)  # warm-up: imports and caches
    del warm  # its workers exit: their CPU time is not counted below
    n = 0
    cpu0 = cpu_seconds()
    t0 = time.perf_counter()
    for _ in range(epochs):
        for images, _labels in batches:  # each epoch's workers exit at its end, so their CPU time is counted
            n += images.shape[0]
    dt = time.perf_counter() - t0
    cpu = cpu_seconds() - cpu0
    print(json.dumps({"images": n, "seconds": dt, "imagesPerSecond": n / dt, "imagesPerCpuSecond": n / cpu}))


def cpu_seconds():
    """User + system CPU seconds of this process and of its finished children (the workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


if __name__ == "__main__":
    main()
