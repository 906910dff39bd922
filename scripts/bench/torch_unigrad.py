"""The default encoder and the UniGrad step in plain PyTorch, shared by the PyTorch sides of the
benchmarks (train_step_torch.py, step_levers.py, quality_torch.py): a CIFAR-style ResNet (3×3 stem, no
max-pool) and the projector, built as unigrad's src/nn builds them, and one training step as an eager
PyTorch script writes it.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    def __init__(self, cin, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or cin != planes:
            self.downsample = nn.Sequential(nn.Conv2d(cin, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)), inplace=True)
        out = self.bn2(self.conv2(out))
        idt = x if self.downsample is None else self.downsample(x)
        return F.relu(out + idt, inplace=True)


class Bottleneck(nn.Module):
    """torchvision's ResNet-50 block: 1×1 → 3×3 (stride) → 1×1 ×4, projection shortcut when the shape changes."""

    def __init__(self, cin, planes, stride):
        super().__init__()
        out = planes * 4
        self.conv1 = nn.Conv2d(cin, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        self.downsample = None
        if stride != 1 or cin != out:
            self.downsample = nn.Sequential(nn.Conv2d(cin, out, 1, stride, bias=False), nn.BatchNorm2d(out))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)), inplace=True)
        y = F.relu(self.bn2(self.conv2(y)), inplace=True)
        y = self.bn3(self.conv3(y))
        return F.relu(y + (x if self.downsample is None else self.downsample(x)), inplace=True)


class ResNet50(nn.Module):
    """torchvision's ResNet-50 without fc: 7×7 stride-2 stem and max-pool (images above 64², as unigrad's)."""

    def __init__(self, cin):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        blocks, c = [], 64
        for i, (n, w) in enumerate(zip([3, 4, 6, 3], [64, 128, 256, 512])):
            for j in range(n):
                blocks.append(Bottleneck(c, w, 2 if (i > 0 and j == 0) else 1))
                c = w * 4
        self.layers = nn.Sequential(*blocks)
        self.dim = c

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x)), inplace=True), 3, 2, 1)
        return torch.flatten(F.adaptive_avg_pool2d(self.layers(x), 1), 1)


class ResNet(nn.Module):
    """layers: blocks per stage; widths: channels per stage; init "torch" (nn.Conv2d's default) or
    "torchvision" (kaiming_normal_, fan_out, as torchvision's ResNets)."""

    def __init__(self, layers, widths, cin, init="torch"):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, widths[0], 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        blocks, c = [], widths[0]
        for i, (n, w) in enumerate(zip(layers, widths)):
            stage = []
            for j in range(n):
                stage.append(BasicBlock(c, w, 2 if (i > 0 and j == 0) else 1))
                c = w
            blocks.append(nn.Sequential(*stage))
        self.layers = nn.Sequential(*blocks)
        self.dim = c
        if init == "torchvision":
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)), inplace=True)
        return torch.flatten(F.adaptive_avg_pool2d(self.layers(x), 1), 1)


def projector(cin, hidden, out, depth):
    """depth Linear layers; BN + ReLU after each but the last, which has a bias."""
    mods = []
    for i in range(depth - 1):
        mods += [nn.Linear(cin if i == 0 else hidden, hidden, bias=False), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True)]
    mods.append(nn.Linear(cin if depth == 1 else hidden, out))
    return nn.Sequential(*mods)


def backbone(arch, cin, width=16, init="torch"):
    """resnet20 (3 stages × 3 blocks, width·1/2/4), resnet18 (4 stages × 2 blocks, 64…512, small stem) or resnet50."""
    if arch == "resnet20":
        return ResNet([3, 3, 3], [width, 2 * width, 4 * width], cin, init)
    if arch == "resnet50":
        return ResNet50(cin)
    return ResNet([2, 2, 2, 2], [64, 128, 256, 512], cin, init)


class Encoder(nn.Module):
    """backbone → projector; .backbone gives the features kNN and the linear probe use."""

    def __init__(self, arch, cin, hidden, out, depth, init="torch"):
        super().__init__()
        self.backbone = backbone(arch, cin, init=init)
        self.projector = projector(self.backbone.dim, hidden, out, depth)

    def forward(self, x):
        return self.projector(self.backbone(x))


class UniGradStep:
    """One UniGrad step with a momentum target: both views through the online encoder (with backward)
    and the target (no grad), F as an EMA of the targets' second moments, g = (−v' + λ·u·F) / 2N,
    SGD, then the target's weights ← EMA (cosine 0.996 → 1) and its BN statistics copied."""

    def __init__(self, online, target, opt, lam, rho=0.99, bf16=False, device_type="cpu", base_momentum=0.996):
        self.online, self.target, self.opt = online, target, opt
        self.lam, self.rho, self.bf16, self.device_type, self.base = lam, rho, bf16, device_type, base_momentum
        self.F = None

    def __call__(self, x1, x2, k, total):
        n = x1.shape[0]
        with torch.autocast(self.device_type, dtype=torch.bfloat16, enabled=self.bf16):
            z1, z2 = self.online(x1).float(), self.online(x2).float()
            with torch.no_grad():
                t1, t2 = self.target(x1).float(), self.target(x2).float()
        u1, u2 = F.normalize(z1, dim=1), F.normalize(z2, dim=1)
        v1, v2 = F.normalize(t1, dim=1), F.normalize(t2, dim=1)
        with torch.no_grad():
            Fb = (v1.T @ v1 + v2.T @ v2) / (2 * n)
            self.F = Fb if self.F is None else self.rho * self.F + (1 - self.rho) * Fb
            g1 = (-v2 + self.lam * u1 @ self.F) / (2 * n)
            g2 = (-v1 + self.lam * u2 @ self.F) / (2 * n)
        self.opt.zero_grad(set_to_none=True)
        torch.autograd.backward([u1, u2], [g1, g2])
        self.opt.step()
        m = 1 - (1 - self.base) * (math.cos(math.pi * k / total) + 1) / 2
        with torch.no_grad():
            tp, op = list(self.target.parameters()), list(self.online.parameters())
            torch._foreach_mul_(tp, m)
            torch._foreach_add_(tp, op, alpha=1 - m)
            for bt, bo in zip(self.target.buffers(), self.online.buffers()):
                bt.copy_(bo)
