"""Golden data for tests/nn/resnet_test.ts: torchvision's ResNet key lists and reference outputs.

torchvision is not installed on these machines (Debian ships python3-torch 1.13 without it), so this
script rebuilds torchvision's `models/resnet.py` (v0.14, the release paired with torch 1.13) in plain
torch.nn: same classes, same attribute names and registration order (hence the same state-dict keys),
same construction order (downsample is built before its block) and the same initialisation loop (so a
seeded model draws the same numbers). With torchvision present, `torchvision.models.resnet18()` gives the
same key list as `ResNet(BasicBlock, [2, 2, 2, 2])` here.

Run with Debian's PyTorch (same libtorch as the shim):
    /usr/bin/python3 tests/nn/golden/make_resnet.py
Writes resnet18_keys.json, resnet50_keys.json and resnet_blocks.json beside itself; then run
`deno fmt tests/nn/golden/` (the repository formats JSON too).
"""
import json
import os

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))


def conv3x3(cin, cout, stride=1, groups=1, dilation=1):
    return nn.Conv2d(cin, cout, kernel_size=3, stride=stride, padding=dilation, groups=groups, bias=False,
                     dilation=dilation)


def conv1x1(cin, cout, stride=1):
    return nn.Conv2d(cin, cout, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64):
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64):
        super().__init__()
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = conv3x3(width, width, stride, groups)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class ResNet(nn.Module):
    """torchvision's ResNet, plus `widths`, `in_channels` and `small_stem` (3×3 stride-1 conv, no max-pool)."""

    def __init__(self, block, layers, num_classes=1000, zero_init_residual=False, widths=(64, 128, 256, 512),
                 in_channels=3, small_stem=False):
        super().__init__()
        self.inplanes = widths[0]
        if small_stem:
            self.conv1 = nn.Conv2d(in_channels, self.inplanes, kernel_size=3, stride=1, padding=1, bias=False)
        else:
            self.conv1 = nn.Conv2d(in_channels, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.Identity() if small_stem else nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        for i, (w, n) in enumerate(zip(widths, layers)):
            setattr(self, f"layer{i + 1}", self._make_layer(block, w, n, stride=1 if i == 0 else 2))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(widths[-1] * block.expansion, num_classes) if num_classes else nn.Identity()
        self.n_layers = len(layers)

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, Bottleneck):
                    nn.init.constant_(m.bn3.weight, 0)
                elif isinstance(m, BasicBlock):
                    nn.init.constant_(m.bn2.weight, 0)

    def _make_layer(self, block, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                       nn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for i in range(self.n_layers):
            x = getattr(self, f"layer{i + 1}")(x)
        return self.fc(torch.flatten(self.avgpool(x), 1))


def flat(t):
    return t.detach().reshape(-1).tolist()


def write(name, obj):
    with open(os.path.join(HERE, name), "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")


def keys(model):
    return {"keys": list(model.state_dict().keys()), "num_parameters": sum(p.numel() for p in model.parameters()),
            "shapes": [list(v.shape) for v in model.state_dict().values()]}


def block_case(block, cin, planes, stride, x_shape, seed):
    """A block with downsample: its state dict (BN statistics perturbed), input, train and eval output."""
    torch.manual_seed(seed)
    cout = planes * block.expansion
    down = nn.Sequential(conv1x1(cin, cout, stride), nn.BatchNorm2d(cout))
    b = block(cin, planes, stride, down)
    with torch.no_grad():
        for name, t in b.state_dict().items():
            if name.endswith("weight") and "bn" in name or name.endswith("downsample.1.weight"):
                t.uniform_(0.5, 1.5)
            elif name.endswith("bias") or name.endswith("running_mean"):
                t.normal_(0, 0.1)
            elif name.endswith("running_var"):
                t.uniform_(0.5, 1.5)
    state = {k: flat(v) for k, v in b.state_dict().items() if k.split(".")[-1] != "num_batches_tracked"}
    x = torch.randn(*x_shape)
    b.eval()
    y_eval = b(x)
    b.train()
    xg = x.clone().requires_grad_(True)
    y_train = b(xg)
    y_train.square().sum().backward()
    return {"state": state, "x": flat(x), "x_shape": list(x.shape), "y_eval": flat(y_eval),
            "y_train": flat(y_train), "y_shape": list(y_train.shape), "x_grad": flat(xg.grad),
            "running_mean_bn1": flat(b.bn1.running_mean)}


def main():
    write("resnet18_keys.json", keys(ResNet(BasicBlock, [2, 2, 2, 2])))
    write("resnet50_keys.json", keys(ResNet(Bottleneck, [3, 4, 6, 3])))

    out = {
        "basic": block_case(BasicBlock, 3, 4, 2, (2, 3, 6, 6), 10),
        "bottleneck": block_case(Bottleneck, 4, 2, 2, (2, 4, 5, 5), 11),
    }
    # A tiny whole network from a seed: initialisation, train-mode forward and one gradient.
    torch.manual_seed(12)
    net = ResNet(BasicBlock, [1, 2], num_classes=3, widths=(4, 8), in_channels=1, small_stem=True,
                 zero_init_residual=True)
    sums = {k: float(v.double().sum()) for k, v in net.state_dict().items()}
    x = torch.randn(2, 1, 8, 8)
    y = net(x)
    y.square().sum().backward()
    out["tiny_net"] = {"param_sums": sums, "x": flat(x), "y": flat(y), "conv1_grad": flat(net.conv1.weight.grad)}
    torch.manual_seed(13)
    net = ResNet(Bottleneck, [1, 1], num_classes=0, widths=(2, 4), in_channels=3)
    x = torch.randn(2, 3, 16, 16)
    out["tiny_bottleneck_net"] = {"param_sums": {k: float(v.double().sum()) for k, v in net.state_dict().items()},
                                  "x": flat(x), "y": flat(net(x))}
    write("resnet_blocks.json", out)


if __name__ == "__main__":
    main()
