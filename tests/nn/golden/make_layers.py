"""Golden values for tests/nn/{linear,batchnorm,heads}_test.ts from PyTorch (torch.nn).

Run with Debian's PyTorch 1.13 (the same libtorch as the shim, so seeded initialisation is bit-identical):
    /usr/bin/python3 tests/nn/golden/make_layers.py
Writes tests/nn/golden/layers.json; then run `deno fmt tests/nn/golden/` (the repository formats JSON too).
"""
import json
import os

import torch
from torch import nn


def flat(t):
    return t.detach().reshape(-1).tolist()


def main():
    out = {}

    # Linear(4, 3): default init from seed 0, then a forward pass.
    torch.manual_seed(0)
    lin = nn.Linear(4, 3)
    x = torch.randn(2, 4)
    out["linear"] = {"weight": flat(lin.weight), "bias": flat(lin.bias), "x": flat(x), "y": flat(lin(x))}

    # BatchNorm1d(3): two training steps then eval.
    torch.manual_seed(1)
    bn = nn.BatchNorm1d(3)
    x1, x2 = torch.randn(5, 3) * 2 + 1, torch.randn(5, 3) - 1
    y1 = bn(x1)
    bn(x2)
    bn.eval()
    y_eval = bn(x1)
    out["batchnorm1d"] = {
        "x1": flat(x1), "x2": flat(x2), "y1": flat(y1), "y_eval": flat(y_eval),
        "running_mean": flat(bn.running_mean), "running_var": flat(bn.running_var),
        "keys": list(bn.state_dict().keys()),
    }

    # BatchNorm2d(2) training step on [2, 2, 3, 3].
    torch.manual_seed(2)
    bn2 = nn.BatchNorm2d(2)
    x = torch.randn(2, 2, 3, 3)
    y = bn2(x)
    out["batchnorm2d"] = {"x": flat(x), "y": flat(y), "running_mean": flat(bn2.running_mean),
                          "running_var": flat(bn2.running_var)}

    # UniGrad projector, flat layout, small widths: in 6, hidden 8, out 5, depth 3.
    torch.manual_seed(3)
    proj = nn.Sequential(
        nn.Linear(6, 8, bias=False), nn.BatchNorm1d(8), nn.ReLU(inplace=True),
        nn.Linear(8, 8, bias=False), nn.BatchNorm1d(8), nn.ReLU(inplace=True),
        nn.Linear(8, 5),
    )
    x = torch.randn(4, 6)
    y = proj(x)
    y.sum().backward()
    out["projector"] = {"x": flat(x), "y": flat(y), "keys": list(proj.state_dict().keys()),
                        "grad0": flat(proj[0].weight.grad)}

    # SimSiam-style predictor, small widths: 5 → 3 → 5.
    torch.manual_seed(4)
    pred = nn.Sequential(nn.Linear(5, 3, bias=False), nn.BatchNorm1d(3), nn.ReLU(inplace=True), nn.Linear(3, 5))
    x = torch.randn(4, 5)
    out["predictor"] = {"x": flat(x), "y": flat(pred(x)), "keys": list(pred.state_dict().keys())}

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "layers.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
