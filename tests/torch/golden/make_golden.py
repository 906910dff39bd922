"""Golden values for tests/torch from PyTorch (Debian's 1.13: run with /usr/bin/python3).

Every input is a deterministic formula (no RNG), stored with its output in float64, so the tests
rebuild the exact inputs from the JSON. Regenerate with:

    /usr/bin/python3 tests/torch/golden/make_golden.py && deno fmt tests/torch/golden/
"""
import json
import os

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


def det(*shape, offset=0.0):
    """Deterministic, non-symmetric values in [-1, 1] of the given shape."""
    n = 1
    for s in shape:
        n *= s
    return torch.sin(torch.arange(n, dtype=torch.float64) * 1.7 + 0.3 + offset).reshape(shape)


def enc(t):
    """A tensor as {shape, data} (data flat, row-major)."""
    if isinstance(t, torch.Tensor):
        return {"shape": list(t.shape), "data": t.detach().reshape(-1).tolist()}
    return t


def case(**kv):
    return {k: enc(v) for k, v in kv.items()}


def functional():
    g = {}
    x, w, b = det(2, 2, 5, 5), det(3, 2, 3, 3, offset=1), det(3, offset=2)
    g["conv2d"] = case(x=x, w=w, b=b, stride=2, padding=1, out=F.conv2d(x, w, b, stride=2, padding=1))
    x, w = det(1, 4, 6, 6), det(4, 2, 3, 3, offset=1)
    out = F.conv2d(x, w, None, padding=2, dilation=2, groups=2)
    g["conv2d_groups"] = case(x=x, w=w, padding=2, dilation=2, groups=2, out=out)

    x, w, b = det(4, 3, 2, 2) * 2 + 0.5, det(3, offset=1) + 1.5, det(3, offset=2)
    rm, rv = torch.full((3,), 0.5), torch.full((3,), 2.0)
    out = F.batch_norm(x, rm, rv, w, b, training=True, momentum=0.1, eps=1e-5)
    g["batch_norm_train"] = case(x=x, w=w, b=b, out=out, running_mean_after=rm, running_var_after=rv)
    rm, rv = det(3, offset=3), det(3, offset=4) + 1.5
    out = F.batch_norm(x, rm, rv, w, b, training=False, eps=1e-5)
    g["batch_norm_eval"] = case(x=x, w=w, b=b, running_mean=rm, running_var=rv, out=out)

    x, w, b = det(2, 3, 4), det(4, offset=1) + 1, det(4, offset=2)
    g["layer_norm"] = case(x=x, w=w, b=b, out=F.layer_norm(x, [4], w, b, eps=1e-5))

    x = det(1, 2, 5, 5)
    g["max_pool2d"] = case(x=x, out=F.max_pool2d(x, 3, 2, 1))
    g["max_pool2d_ceil"] = case(x=x, out=F.max_pool2d(x, 2, 2, 0, ceil_mode=True))
    g["avg_pool2d"] = case(x=x, out=F.avg_pool2d(x, 3, 2, 1))
    x = det(1, 2, 5, 7)
    g["adaptive_avg_pool2d"] = case(x=x, out=F.adaptive_avg_pool2d(x, (2, 3)))

    theta = torch.tensor([[[0.8, -0.3, 0.1], [0.2, 0.9, -0.2]], [[1.1, 0.1, 0.0], [-0.1, 0.7, 0.3]]])
    x = det(2, 2, 4, 5)
    for align in (False, True):
        grid = F.affine_grid(theta, [2, 2, 3, 4], align_corners=align)
        key = "align" if align else "noalign"
        g["affine_grid_" + key] = case(theta=theta, grid=grid)
        g["grid_sample_bilinear_zeros_" + key] = case(
            x=x, grid=grid, out=F.grid_sample(x, grid, "bilinear", "zeros", align_corners=align))
        g["grid_sample_nearest_border_" + key] = case(
            x=x, grid=grid, out=F.grid_sample(x, grid, "nearest", "border", align_corners=align))
        g["grid_sample_bilinear_reflection_" + key] = case(
            x=x, grid=grid, out=F.grid_sample(x, grid, "bilinear", "reflection", align_corners=align))

    x = det(1, 2, 3, 4)
    g["interpolate_bilinear"] = case(x=x, out=F.interpolate(x, (5, 7), mode="bilinear", align_corners=False))
    g["interpolate_bilinear_align"] = case(x=x, out=F.interpolate(x, (5, 7), mode="bilinear", align_corners=True))
    g["interpolate_nearest"] = case(x=x, out=F.interpolate(x, (5, 7), mode="nearest"))

    logits, target = det(4, 5) * 3, torch.tensor([0, 3, 4, 1])
    g["cross_entropy"] = case(
        logits=logits, target=target.tolist(),
        mean=F.cross_entropy(logits, target),
        smooth_none=F.cross_entropy(logits, target, reduction="none", label_smoothing=0.1),
        smooth_mean=F.cross_entropy(logits, target, label_smoothing=0.1),
        smooth_sum=F.cross_entropy(logits, target, reduction="sum", label_smoothing=0.1))

    m = det(4, 4)
    a = m @ m.T + torch.eye(4)
    values, vectors = torch.linalg.eigh(a)
    g["eigh"] = case(a=a, values=values, vectors=vectors)
    m = det(3, 4)
    g["svdvals"] = case(a=m, out=torch.linalg.svdvals(m))
    a = det(3, 3) + 2 * torch.eye(3)
    g["inv"] = case(a=a, out=torch.linalg.inv(a))

    x, w, b = det(2, 3), det(4, 3, offset=1), det(4, offset=2)
    g["linear"] = case(x=x, w=w, b=b, out=F.linear(x, w, b))
    x = det(2, 5) * 2
    g["softmax"] = case(x=x, dim1=F.softmax(x, 1), dim0=F.softmax(x, 0), log_dim1=F.log_softmax(x, 1))
    g["normalize"] = case(x=x, p2=F.normalize(x, dim=1), p1_dim0=F.normalize(x, p=1.0, dim=0))
    y = det(2, 5, offset=1)
    g["mse_loss"] = case(x=x, y=y, mean=F.mse_loss(x, y), sum=F.mse_loss(x, y, reduction="sum"))
    return g


def tensor_ops():
    g = {}
    x = det(3, 5)
    v, i = torch.topk(x, 2, dim=-1)
    vs, is_ = torch.topk(x, 2, dim=0, largest=False)
    g["topk"] = case(x=x, values=v, indices=i, smallest_dim0_values=vs, smallest_dim0_indices=is_)
    v, i = torch.sort(x, dim=1, descending=True)
    g["sort"] = case(x=x, values=v, indices=i)
    g["logsumexp"] = case(x=x * 10, dim1=torch.logsumexp(x * 10, 1), dim01=torch.logsumexp(x * 10, (0, 1)))
    g["var_std"] = case(
        x=x, var_all=x.var(), var_dim1=x.var(1), var_dim0_biased=x.var(0, unbiased=False),
        std_all=x.std(), std_dim1_keep=x.std(1, keepdim=True))
    g["norm"] = case(x=x, p2=x.norm(), p1_dim1=torch.linalg.vector_norm(x, 1, dim=1),
                     inf_dim0=torch.linalg.vector_norm(x, float("inf"), dim=0))
    return g


here = os.path.dirname(os.path.abspath(__file__))
for name, make in (("functional", functional), ("tensor", tensor_ops)):
    with open(os.path.join(here, name + ".json"), "w") as f:
        json.dump({"torch": torch.__version__, **make()}, f, indent=None, separators=(",", ":"))
        f.write("\n")
