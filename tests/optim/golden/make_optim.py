"""Golden trajectories for tests/optim/{sgd,lars}_test.ts.

SGD: torch.optim.SGD itself. LARS: a per-parameter reference of BYOL's LARS written out below
(torch has no LARS). Problem: a tiny 2-layer net h = tanh(x·W1ᵀ + b1), y = h·W2ᵀ, loss = mean((y − t)²),
5 steps with a changing learning rate, in float32 and float64.

Run with Debian's PyTorch 1.13:
    /usr/bin/python3 tests/optim/golden/make_optim.py && deno fmt tests/optim/golden/
Writes tests/optim/golden/optim.json.
"""
import json
import os

import torch

LRS = [0.1, 0.05, 0.2, 0.1, 0.02]


def problem(dtype, zero_w2=False):
    torch.manual_seed(0)
    data = {
        "x": torch.randn(6, 4, dtype=torch.float64),
        "t": torch.randn(6, 3, dtype=torch.float64),
        "W1": torch.randn(5, 4, dtype=torch.float64) * 0.5,
        "b1": torch.randn(5, dtype=torch.float64) * 0.1,
        "W2": torch.zeros(3, 5, dtype=torch.float64) if zero_w2 else torch.randn(3, 5, dtype=torch.float64) * 0.5,
    }
    init = {k: v.reshape(-1).tolist() for k, v in data.items()}
    t = {k: v.to(dtype) for k, v in data.items()}
    params = [t[k].clone().requires_grad_(True) for k in ("W1", "b1", "W2")]
    return init, t["x"], t["t"], params


def loss_of(x, target, params):
    W1, b1, W2 = params
    return (torch.tanh(x @ W1.T + b1) @ W2.T - target).square().mean()


def run_sgd(dtype, groups_fn, **kw):
    init, x, target, params = problem(dtype)
    opt = torch.optim.SGD(groups_fn(params), lr=LRS[0], **kw)
    traj = []
    for lr in LRS:
        for g in opt.param_groups:
            g["lr"] = lr
        opt.zero_grad(set_to_none=True)
        loss_of(x, target, params).backward()
        opt.step()
        traj.append([p.detach().reshape(-1).tolist() for p in params])
    return init, traj


def run_lars(dtype, momentum=0.9, wd=1e-2, eta=0.02):
    """BYOL LARS: u = g + wd·p; u *= η‖p‖/‖u‖ (1 if a norm is 0); buf = m·buf + u; p −= lr·buf.
    1-D parameters (b1) skip decay and adaptation: buf = m·buf + g."""
    init, x, target, params = problem(dtype, zero_w2=True)
    bufs = [torch.zeros_like(p) for p in params]
    traj = []
    for lr in LRS:
        for p in params:
            p.grad = None
        loss_of(x, target, params).backward()
        with torch.no_grad():
            for p, buf in zip(params, bufs):
                u = p.grad.clone()
                if p.ndim > 1:
                    u += wd * p
                    pn, un = torch.linalg.vector_norm(p), torch.linalg.vector_norm(u)
                    trust = torch.where((pn > 0) & (un > 0), eta * pn / un, torch.ones_like(pn))
                    u *= trust
                buf.mul_(momentum).add_(u)
                p.sub_(lr * buf)
        traj.append([p.detach().reshape(-1).tolist() for p in params])
    return init, traj


def main():
    out = {"lrs": LRS, "sgd": {}, "lars": {}}
    all_params = lambda ps: ps  # noqa: E731
    exclude = lambda ps: [{"params": [ps[0], ps[2]]}, {"params": [ps[1]], "weight_decay": 0.0}]  # noqa: E731
    cases = {
        "momentum": (all_params, dict(momentum=0.9, weight_decay=1e-2)),
        "nesterov": (all_params, dict(momentum=0.9, nesterov=True, weight_decay=1e-2)),
        "dampening_exclude": (exclude, dict(momentum=0.8, dampening=0.1, weight_decay=5e-2)),
        "plain": (all_params, dict(momentum=0.0, weight_decay=1e-2)),
    }
    for dtype, name in ((torch.float32, "float32"), (torch.float64, "float64")):
        for case, (groups_fn, kw) in cases.items():
            init, traj = run_sgd(dtype, groups_fn, **kw)
            out["sgd"][f"{case}_{name}"] = {"options": kw, "trajectory": traj}
            out["init"] = init
        init, traj = run_lars(dtype)
        out["lars"][name] = {"trajectory": traj}
        out["init_lars"] = init
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "optim.json"), "w") as f:
        json.dump(out, f)
        f.write("\n")


if __name__ == "__main__":
    main()
