"""The CNN of Nakkiran et al. 2019 as publicly reimplemented (CLAIMS.md, linear_early):
four 3x3 conv layers of 32 filters with ReLU, no padding, one 2x2 max-pool after the
first two, a dense layer of 2000 ReLU units, then the output layer."""

from __future__ import annotations

import torch
from torch import nn


class PaperCNN(nn.Module):
    """conv32-conv32-pool-conv32-conv32-dense2000-out for (C, H, W) inputs."""

    def __init__(
        self, in_shape: tuple[int, int, int], num_classes: int, width: int = 32, dense: int = 2000
    ):
        super().__init__()
        if len(in_shape) != 3:
            raise ValueError(f"PaperCNN needs image inputs (C, H, W), got shape {in_shape}")
        channels, height, w = in_shape
        side_h, side_w = (height - 4) // 2 - 4, (w - 4) // 2 - 4
        if side_h < 1 or side_w < 1:
            raise ValueError(f"images of {height}x{w} are too small for PaperCNN (>= 14x14)")
        self.features = nn.Sequential(
            nn.Conv2d(channels, width, 3), nn.ReLU(),
            nn.Conv2d(width, width, 3), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(width, width, 3), nn.ReLU(),
            nn.Conv2d(width, width, 3), nn.ReLU(),
        )  # fmt: skip
        self.head = nn.Sequential(
            nn.Flatten(), nn.Linear(width * side_h * side_w, dense), nn.ReLU(),
            nn.Linear(dense, num_classes),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
