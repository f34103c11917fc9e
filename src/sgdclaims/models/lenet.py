"""The LeNet-5 variant of Goldwaser & Ge (iterative linearisation, Sec. 4): LeNet-5 with 50
channels in each conv layer and no BatchNorm or dropout:
conv5x5(50)-ReLU-maxpool2-conv5x5(50)-ReLU-maxpool2-dense120-ReLU-dense84-ReLU-out.

Max-pooling is applied before the ReLU. The two orders compute the same function (ReLU is
monotone, so it commutes with max) and have the same derivative almost everywhere, but
pooling first applies the ReLU to a quarter of the values. The conv activations are kept
channels-last: on one CPU core max-pooling a channels-last tensor is ~10x faster (measured
on 128 x 50 x 12 x 12), and a one-channel input's conv output is not channels-last unless
asked for.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

CHANNELS_LAST = torch.channels_last


class LeNet50(nn.Module):
    """LeNet-5 with 50-channel conv layers for (C, H, W) images (28x28 MNIST, 32x32 CIFAR;
    at least 16x16)."""

    def __init__(
        self,
        in_shape: tuple[int, int, int],
        num_classes: int,
        channels: int = 50,
        dense: tuple[int, int] = (120, 84),
    ):
        super().__init__()
        if len(in_shape) != 3:
            raise ValueError(f"LeNet50 needs image inputs (C, H, W), got shape {in_shape}")
        if num_classes < 2:
            raise ValueError(f"num_classes must be >= 2, got {num_classes}")
        if channels < 1:
            raise ValueError(f"channels must be >= 1, got {channels}")
        c, h, w = in_shape
        side_h, side_w = ((h - 4) // 2 - 4) // 2, ((w - 4) // 2 - 4) // 2
        if side_h < 1 or side_w < 1:
            raise ValueError(f"images of {h}x{w} are too small for LeNet50 (>= 16x16)")
        self.conv1 = nn.Conv2d(c, channels, 5)
        self.conv2 = nn.Conv2d(channels, channels, 5)
        self.fc1 = nn.Linear(channels * side_h * side_w, dense[0])
        self.fc2 = nn.Linear(dense[0], dense[1])
        self.out = nn.Linear(dense[1], num_classes)
        with torch.no_grad():
            for conv in (self.conv1, self.conv2):
                conv.weight.data = conv.weight.data.contiguous(memory_format=CHANNELS_LAST)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x.contiguous(memory_format=CHANNELS_LAST))
        x = F.relu(F.max_pool2d(x.contiguous(memory_format=CHANNELS_LAST), 2))
        x = F.relu(F.max_pool2d(self.conv2(x), 2))
        x = x.flatten(1)
        return self.out(F.relu(self.fc2(F.relu(self.fc1(x)))))
