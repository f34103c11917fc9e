"""Named synthetic variants of real data sets: a real data set with a seeded transformation
that is independent of the labels and generic (not built so that one particular layer must be
nonlinear), always named as synthetic.

<name>_translated: each image of both splits pasted at a seeded, uniformly random integer
offset into a zero canvas 1.5x its side (28 px images in a 42 px canvas: shifts of up to half
the image side), the random translation in a larger canvas that CLAIMS.md (depth_wave) names.
A linear readout of the pixels cannot follow the object around the canvas; a convolutional
network with global average pooling can.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import torch

from sgdclaims.data.dataset import Dataset

#: the canvas side as a multiple of the image side
CANVAS = 1.5


def translated(ds: Dataset, *, canvas: float = CANVAS, seed: int = 0) -> Dataset:
    """`ds` (images on a zero background) with every image pasted at a seeded random offset
    in a zero canvas of side round(canvas x side); the offsets do not depend on the labels."""
    if ds.x_train.ndim != 4:
        raise ValueError(f"translation needs images (N, C, H, W), got {tuple(ds.x_train.shape)}")
    _, channels, height, width = ds.x_train.shape
    side = round(canvas * max(height, width))
    if side <= max(height, width):
        raise ValueError(f"canvas {canvas} leaves no room to move a {height}x{width} image")
    gen = torch.Generator().manual_seed(seed)

    def paste(x: torch.Tensor) -> torch.Tensor:
        n = len(x)
        dy = torch.randint(0, side - height + 1, (n,), generator=gen)
        dx = torch.randint(0, side - width + 1, (n,), generator=gen)
        out = x.new_zeros(n, channels, side, side)
        rows = (torch.arange(height)[None, :] + dy[:, None])[:, None, :, None]
        cols = (torch.arange(width)[None, :] + dx[:, None])[:, None, None, :]
        batch = torch.arange(n)[:, None, None, None]
        chans = torch.arange(channels)[None, :, None, None]
        out[batch, chans, rows.to(x.device), cols.to(x.device)] = x
        return out

    info = dataclasses.replace(
        ds.info,
        name=f"{ds.info.name}_translated",
        display=f"{ds.info.display}, randomly translated in a {side}x{side} canvas (synthetic)",
        source=(
            f"synthetic: {ds.info.source}, each image pasted at a uniformly random offset in a "
            f"{side}x{side} zero canvas, independent of the label, seed {seed}"
        ),
        shape=(channels, side, side),
        synthetic=True,
    )
    return dataclasses.replace(ds, x_train=paste(ds.x_train), x_test=paste(ds.x_test), info=info)


#: name -> (the real data set it is made from, the transformation); sgdclaims.data.registry
#: serves them by name beside the real ones
VARIANTS: dict[str, tuple[str, Callable[[Dataset], Dataset]]] = {
    "fashion_mnist_translated": ("fashion_mnist", translated),
    "mnist_translated": ("mnist", translated),
}
