"""A ReLU MLP, used as F on the synthetic sinusoid disc task (Nakkiran et al. Fig. 1)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import torch
from torch import nn


class MLP(nn.Module):
    """Flatten, hidden ReLU layers of the given widths, linear output."""

    def __init__(
        self, in_shape: tuple[int, ...], num_classes: int, hidden: Sequence[int] = (256, 256)
    ):
        super().__init__()
        if not hidden or any(h <= 0 for h in hidden):
            raise ValueError(f"hidden must be positive widths, got {hidden!r}")
        widths = [math.prod(in_shape), *hidden]
        layers: list[nn.Module] = [nn.Flatten()]
        for a, b in itertools.pairwise(widths):
            layers += [nn.Linear(a, b), nn.ReLU()]
        layers.append(nn.Linear(widths[-1], num_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
