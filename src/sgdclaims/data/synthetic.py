"""Synthetic tasks, generated from a seed and named as synthetic.

sinusoid_disc: Nakkiran et al. 2019, Fig. 1 -- points uniform in the unit disc, label =
side of a sinusoidal curve x2 = a sin(f pi x1), with a fraction of labels flipped.
"""

from __future__ import annotations

import math

import torch

from sgdclaims.data.dataset import Dataset, DatasetInfo


def _uniform_disc(n: int, generator: torch.Generator) -> torch.Tensor:
    """n points uniform in the unit disc (radius sqrt(U) for a uniform area density)."""
    radius = torch.rand(n, generator=generator, dtype=torch.float64).sqrt()
    angle = torch.rand(n, generator=generator, dtype=torch.float64) * (2 * math.pi)
    return torch.stack([radius * angle.cos(), radius * angle.sin()], dim=1)


def sinusoid_disc(
    n_train: int = 8000,
    n_test: int = 2000,
    *,
    amplitude: float = 0.3,
    frequency: float = 1.0,
    label_noise: float = 0.1,
    seed: int = 0,
) -> Dataset:
    """The Fig. 1 task of Nakkiran et al.: a linear rule gets most of it, not all.

    Labels of train and test are flipped with probability `label_noise`, as in the paper.
    """
    if not 0 <= label_noise < 0.5:
        raise ValueError(f"label_noise must be in [0, 0.5), got {label_noise}")
    if n_train <= 0 or n_test <= 0:
        raise ValueError(f"n_train and n_test must be positive, got {n_train}, {n_test}")
    gen = torch.Generator().manual_seed(seed)
    x = _uniform_disc(n_train + n_test, gen)
    clean = (x[:, 1] > amplitude * torch.sin(frequency * math.pi * x[:, 0])).long()
    flip = torch.rand(len(x), generator=gen, dtype=torch.float64) < label_noise
    y = torch.where(flip, 1 - clean, clean)
    x = x.float()
    info = DatasetInfo(
        name="sinusoid_disc",
        display="sinusoid disc (synthetic)",
        source=(
            f"synthetic: uniform unit disc, boundary x2 = {amplitude} sin({frequency} pi x1), "
            f"{label_noise:.0%} label noise, seed {seed}"
        ),
        subset=False,
        synthetic=True,
        n_train=n_train,
        n_test=n_test,
        shape=(2,),
        classes=("below", "above"),
    )
    return Dataset(x[:n_train], y[:n_train], x[n_train:], y[n_train:], info)
