"""Golden values for tests/ssl: the published losses and the official UniGrad gradients, in PyTorch.

Run with Debian's PyTorch: /usr/bin/python3 tests/ssl/golden/make_golden.py > tests/ssl/golden/golden.json
Every case is written from the published code (Barlow Twins, VICReg, SimCLR, BYOL, SimSiam) or from the
official UniGrad `project/pretrainer.py` (loss_unigrad, loss_simclr_grad_mm, loss_byol_directpred_grad,
loss_barlow_twins_grad_mm, minus distributed calls, .cuda() and .half()), in float64. Gradients are
autograd's, with respect to the tensors named in each case.
"""
import json

import torch
import torch.nn.functional as F

torch.manual_seed(0)
N, D, H = 6, 4, 5
dt = torch.float64
z1, z2, zt1, zt2, zn1, zn2 = (torch.randn(N, D, dtype=dt) * s + o for s, o in
                              [(1.0, 0.3), (1.5, -0.2), (1.2, 0.1), (0.8, 0.4), (1.0, 0.0), (1.1, 0.2)])
pred = {"0.weight": torch.randn(H, D, dtype=dt) * 0.5, "1.weight": 1 + 0.1 * torch.randn(H, dtype=dt),
        "1.bias": 0.1 * torch.randn(H, dtype=dt), "3.weight": torch.randn(D, H, dtype=dt) * 0.5,
        "3.bias": 0.1 * torch.randn(D, dtype=dt)}
out = {"N": N, "D": D, "H": H, "inputs": {}, "cases": {}}
for k, t in dict(z1=z1, z2=z2, zt1=zt1, zt2=zt2, zn1=zn1, zn2=zn2).items():
    out["inputs"][k] = t.tolist()
out["predictor"] = {k: t.tolist() for k, t in pred.items()}


def leaf(t):
    return t.clone().requires_grad_(True)


def case(name, loss, wrt, **extra):
    grads = torch.autograd.grad(loss, wrt)
    out["cases"][name] = {"loss": loss.item(), "g1": grads[0].tolist(), "g2": grads[1].tolist(),
                          **{k: v.tolist() if torch.is_tensor(v) else v for k, v in extra.items()}}


def off_diagonal(x):  # Barlow Twins / VICReg code
    n, m = x.shape
    return x.flatten()[:-1].view(n - 1, n + 1)[:, 1:].flatten()


# ---- official UniGrad surrogates on normalised features (u = normalize(z), v = normalize(zt))
def norm(t):
    return F.normalize(t, dim=1)


def unigrad_surrogate(u1, u2, v1, v2, Fm, lambd):
    grad1 = -v2 + lambd * torch.mm(u1, Fm)
    grad2 = -v1 + lambd * torch.mm(u2, Fm)
    return 0.5 * ((grad1.detach() * u1).sum(-1).mean() + (grad2.detach() * u2).sum(-1).mean())


u1, u2 = leaf(norm(z1)), leaf(norm(z2))
v1, v2 = norm(zt1), norm(zt2)
tmp_F = (v1.t() @ v1 + v2.t() @ v2) / (2 * N)
case("unigrad_step0", unigrad_surrogate(u1, u2, v1, v2, tmp_F, 100.0), [u1, u2], F=tmp_F)
w1, w2 = norm(zn1), norm(zn2)  # second batch of targets: F = 0.99·F + 0.01·F_batch
F2 = 0.99 * tmp_F + 0.01 * (w1.t() @ w1 + w2.t() @ w2) / (2 * N)
case("unigrad_step1", unigrad_surrogate(u1, u2, w1, w2, F2, 100.0), [u1, u2], F=F2)


def simclr_grad_mm(u1, u2, v1, v2, t):
    neg = torch.cat([v1, v2], dim=0)
    grad1 = (-v2 + F.softmax(u1 @ neg.t() / t, dim=-1) @ neg) / t
    grad2 = (-v1 + F.softmax(u2 @ neg.t() / t, dim=-1) @ neg) / t
    return 0.5 * ((u1 * grad1.detach()).sum(-1).mean() + (u2 * grad2.detach()).sum(-1).mean())


g = torch.autograd.grad(simclr_grad_mm(u1, u2, v1, v2, 0.2), [u1, u2])
labels = torch.arange(N) + N  # the positive v2_i sits at N + i of [v1; v2]
infonce = 0.5 * (F.cross_entropy(u1 @ torch.cat([v1, v2]).t() / 0.2, labels)
                 + F.cross_entropy(u2 @ torch.cat([v2, v1]).t() / 0.2, labels))
out["cases"]["simclr_grad_mm"] = {"loss": infonce.item(), "g1": g[0].tolist(), "g2": g[1].tolist()}

# ---- SimCLR NT-Xent (published), over online u1, u2
zz = torch.cat([u1, u2])
sim = zz @ zz.t() / 0.2
sim = sim.masked_fill(torch.eye(2 * N, dtype=torch.bool), float("-inf"))
nt_labels = torch.cat([torch.arange(N) + N, torch.arange(N)])
case("simclr_ntxent", F.cross_entropy(sim, nt_labels), [u1, u2])


# ---- BYOL / SimSiam with a predictor Linear → BN → ReLU → Linear
def predictor():
    h = torch.nn.Sequential(torch.nn.Linear(D, H, bias=False), torch.nn.BatchNorm1d(H), torch.nn.ReLU(),
                            torch.nn.Linear(H, D)).to(dt)
    with torch.no_grad():
        h[0].weight.copy_(pred["0.weight"]); h[1].weight.copy_(pred["1.weight"]); h[1].bias.copy_(pred["1.bias"])
        h[3].weight.copy_(pred["3.weight"]); h[3].bias.copy_(pred["3.bias"])
    return h


def byol_loss_fn(x, y):  # BYOL: 2 − 2·cos
    return 2 - 2 * (F.normalize(x, dim=-1) * F.normalize(y, dim=-1)).sum(dim=-1)


h = predictor()
loss = (byol_loss_fn(h(u1), v2) + byol_loss_fn(h(u2), v1)).mean()  # BYOL sums the two views
case("byol_published", loss, [u1, u2], predictor_w0_grad=torch.autograd.grad(loss, h[0].weight, retain_graph=True)[0])
h = predictor()
p1, p2 = h(u1), h(u2)
loss = -(F.cosine_similarity(p1, v2.detach(), dim=-1).mean() * 0.5 + F.cosine_similarity(p2, v1.detach(), dim=-1).mean() * 0.5)
case("simsiam_published", loss, [u1, u2])


# ---- DirectPred gradient (official loss_byol_directpred_grad, float64, F = F_batch)
def directpred(u1, u2, v1, v2, Fm, eps):
    u, s, v = torch.svd(Fm, compute_uv=True)
    max_s = torch.max(s)
    s = torch.sqrt(s / max_s) + eps
    s = s.clamp(1e-4)
    wp = torch.mm(u, torch.mm(torch.diag(s), v.t()))
    eps_mat = eps ** 2 * torch.eye(D, dtype=dt)
    total = 0
    for a, b in [(u1, v2), (u2, v1)]:
        cd = torch.linalg.norm(torch.mm(a, wp), dim=-1).unsqueeze(-1)
        pos = -torch.mm(b, wp)
        den = torch.einsum('nc,nc->n', [torch.mm(a, Fm / max_s + eps_mat), a]).unsqueeze(-1)
        num = torch.einsum('nc,nc->n', [torch.mm(a, wp), b]).unsqueeze(-1)
        grad = 1 / cd * (pos + num / den * torch.mm(a, Fm / max_s + eps_mat))
        total = total + 0.5 * (a * grad.detach()).sum(-1).mean()
    return total, wp


loss, wp = directpred(u1, u2, v1, v2, tmp_F, 0.3)
case("directpred_step0", loss, [u1, u2], Wp=wp)


# ---- Barlow Twins (published, facebookresearch/barlowtwins), λ = 0.0051
def barlow(x, y, lambd=0.0051):
    bn = torch.nn.BatchNorm1d(D, affine=False).to(dt)
    c = bn(x).T @ bn(y) / N
    on_diag = torch.diagonal(c).add_(-1).pow_(2).sum()
    return on_diag + lambd * off_diagonal(c).pow_(2).sum()


a1, a2 = leaf(z1), leaf(z2)
case("barlow_published", barlow(a1, a2), [a1, a2])  # both branches online
case("barlow_momentum", 0.5 * (barlow(a1, zt2) + barlow(a2, zt1)), [a1, a2])  # per view, targets constant


def barlow_grad_mm(u1, u2, v1, v2, lambd):  # official, N = whole batch
    pos, neg = -v2, (v2 @ v2.T) @ u1.detach() / N
    grad1 = 2 * (pos + lambd * neg)
    pos, neg = -v1, (v1 @ v1.T) @ u2.detach() / N
    grad2 = 2 * (pos + lambd * neg)
    return 0.5 * ((u1 * grad1.detach()).sum(-1).mean() + (u2 * grad2.detach()).sum(-1).mean())


g = torch.autograd.grad(barlow_grad_mm(u1, u2, v1, v2, 50.0), [u1, u2])
out["cases"]["barlow_grad_mm"] = {"g1": g[0].tolist(), "g2": g[1].tolist()}


# ---- VICReg (published, facebookresearch/vicreg main_vicreg.py), 25 / 25 / 1
def vicreg(x, y, sim_coeff=25.0, std_coeff=25.0, cov_coeff=1.0):
    repr_loss = F.mse_loss(x, y)
    x = x - x.mean(dim=0)
    y = y - y.mean(dim=0)
    std_x = torch.sqrt(x.var(dim=0) + 0.0001)
    std_y = torch.sqrt(y.var(dim=0) + 0.0001)
    std_loss = torch.mean(F.relu(1 - std_x)) / 2 + torch.mean(F.relu(1 - std_y)) / 2
    cov_x = (x.T @ x) / (N - 1)
    cov_y = (y.T @ y) / (N - 1)
    cov_loss = off_diagonal(cov_x).pow_(2).sum().div(D) + off_diagonal(cov_y).pow_(2).sum().div(D)
    return sim_coeff * repr_loss + std_coeff * std_loss + cov_coeff * cov_loss


case("vicreg_published", vicreg(a1, a2), [a1, a2])
case("vicreg_momentum", 0.5 * (vicreg(a1, zt2) + vicreg(a2, zt1)), [a1, a2])

print(json.dumps(out, indent=2))
