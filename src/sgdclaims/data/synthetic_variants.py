"""Named synthetic variants of real data sets: a real data set with a seeded transformation
that is independent of the labels, always named as synthetic.

fashion_mnist_polarity: Fashion-MNIST with the contrast of a seeded random half of the
images inverted (x -> 1 - x), in both splits. Each class's mean image becomes the same
flat grey, so a linear readout of the pixels is left near chance, while a network with a
nonlinearity can still tell the classes apart (|x - background| keeps the shape).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import torch

from sgdclaims.data.dataset import Dataset


def polarity_flips(ds: Dataset, *, fraction: float = 0.5, seed: int = 0) -> Dataset:
    """`ds` (images in [0, 1]) with a seeded random `fraction` of the images of each split
    inverted, x -> 1 - x; which images is independent of their labels."""
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must be in (0, 1), got {fraction}")
    if ds.x_train.ndim != 4:
        raise ValueError(f"polarity flips need images (N, C, H, W), got {tuple(ds.x_train.shape)}")
    gen = torch.Generator().manual_seed(seed)

    def flip(x: torch.Tensor) -> torch.Tensor:
        chosen = (torch.rand(len(x), generator=gen) < fraction).to(x.device)
        return torch.where(chosen[:, None, None, None], 1 - x, x)

    info = dataclasses.replace(
        ds.info,
        name=f"{ds.info.name}_polarity",
        display=f"{ds.info.display}, random contrast-polarity flips (synthetic)",
        source=(
            f"synthetic: {ds.info.source}, each image inverted (x -> 1 - x) with probability "
            f"{fraction:g}, independent of the label, seed {seed}"
        ),
        synthetic=True,
    )
    return dataclasses.replace(ds, x_train=flip(ds.x_train), x_test=flip(ds.x_test), info=info)


#: name -> (the real data set it is made from, the transformation); sgdclaims.data.registry
#: serves them by name beside the real ones
VARIANTS: dict[str, tuple[str, Callable[[Dataset], Dataset]]] = {
    "fashion_mnist_polarity": ("fashion_mnist", polarity_flips),
}
