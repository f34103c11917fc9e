"""The linear classifier on raw inputs (Nakkiran et al. 2019: L, the best linear model)."""

from __future__ import annotations

import math

import torch
from torch import nn


class LinearClassifier(nn.Module):
    """Flatten, then one affine map to class logits."""

    def __init__(self, in_shape: tuple[int, ...], num_classes: int):
        super().__init__()
        if num_classes < 2:
            raise ValueError(f"num_classes must be >= 2, got {num_classes}")
        self.fc = nn.Linear(math.prod(in_shape), num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x.flatten(1))
