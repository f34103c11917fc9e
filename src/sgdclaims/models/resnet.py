"""ResNet50 with a switchable activation per layer (Pinson et al., Sec. 3): torchvision's
resnet50 whose shared `relu` module in each bottleneck is split into three switches (after
bn1, bn2 and after the residual sum), plus the stem's, so every one of the 49 activations
can be made identity by index. One member; the interface matches BaseNet's."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torchvision.models import resnet50
from torchvision.models.resnet import Bottleneck

from sgdclaims.models.basenet import Switch, subset_linear_mask

RESNET50_MIN_SIDE = 32
RESNET50_LAYERS = 49


class SwitchBottleneck(nn.Module):
    """A torchvision Bottleneck's modules with three separate activation switches."""

    def __init__(self, block: Bottleneck):
        super().__init__()
        self.conv1, self.bn1 = block.conv1, block.bn1
        self.conv2, self.bn2 = block.conv2, block.bn2
        self.conv3, self.bn3 = block.conv3, block.bn3
        self.downsample = block.downsample
        self.act1 = Switch(1, block.bn1.num_features)
        self.act2 = Switch(1, block.bn2.num_features)
        self.act3 = Switch(1, block.bn3.num_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.act1(self.bn1(self.conv1(x)))
        out = self.act2(self.bn2(self.conv2(out)))
        return self.act3(self.bn3(self.conv3(out)) + identity)


class SwitchResNet50(nn.Module):
    """ResNet50 (torchvision layout) with 49 switchable activations; input (B, C, H, W),
    output (B, 1, num_classes) as a one-member BaseNet."""

    members = 1

    def __init__(self, in_shape: tuple[int, int, int], num_classes: int):
        super().__init__()
        if len(in_shape) != 3:
            raise ValueError(f"ResNet50 needs image inputs (C, H, W), got shape {in_shape}")
        channels, height, width = in_shape
        if min(height, width) < RESNET50_MIN_SIDE:
            raise ValueError(
                f"images of {height}x{width} are too small for the ResNet50 stem and its "
                f"5 stride-2 steps (need sides >= {RESNET50_MIN_SIDE})"
            )
        net = resnet50(weights=None, num_classes=num_classes)
        if channels != 3:
            net.conv1 = nn.Conv2d(channels, 64, 7, 2, 3, bias=False)
        self.in_shape, self.num_classes = tuple(in_shape), num_classes
        self.stem = nn.Sequential(net.conv1, net.bn1, Switch(1, 64), net.maxpool)
        self.stages = nn.Sequential(
            *[
                nn.Sequential(*[SwitchBottleneck(b) for b in stage])
                for stage in (net.layer1, net.layer2, net.layer3, net.layer4)
            ]
        )
        self.fc = net.fc
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_uniform_(m.weight, nonlinearity="relu")

    @property
    def num_layers(self) -> int:
        return RESNET50_LAYERS

    def switches(self) -> list[Switch]:
        """The 49 activation switches, input side first."""
        return [m for m in self.modules() if isinstance(m, Switch)]

    @torch.no_grad()
    def set_linear(self, linear_layers: Sequence[int]) -> None:
        """Make the given activation layers identity (all others ReLU)."""
        mask = subset_linear_mask(self.num_layers, linear_layers)
        for switch, on in zip(self.switches(), mask):
            switch.relu_on.fill_(float(on))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.stages(self.stem(x)).mean(dim=(2, 3))
        return self.fc(h).unsqueeze(1)


def resnet50_subset(name: str, final_preact: Sequence[float] | None = None) -> list[int]:
    """Linear layer indices of the paper's ResNet50 variants: first 20, first 40, last 20,
    or the layers whose mean preactivation in the trained main model is positive."""
    n = RESNET50_LAYERS
    if name == "first20":
        return list(range(20))
    if name == "first40":
        return list(range(40))
    if name == "last20":
        return list(range(n - 20, n))
    if name == "positive":
        if final_preact is None or len(final_preact) != n:
            raise ValueError(f"the 'positive' subset needs the main model's {n} final means")
        return [i for i, v in enumerate(final_preact) if v > 0]
    raise ValueError(f"unknown ResNet50 subset {name!r}")
