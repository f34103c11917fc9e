"""Image inputs of the partly-linear experiments (Pinson et al., App. A): a seeded validation
split, a class-stratified test subset, the image side and standardisation, and the random
crops and flips of the paper's augmentation."""

from __future__ import annotations

import dataclasses

import torch
from torch.nn import functional as F

from sgdclaims.data import Dataset, standardize
from sgdclaims.data.tasks import stratified_indices


def augment_batch(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random crops (zero padding of 1/8 of the side, then a crop of the original size) and
    random horizontal flips of a batch of images, drawn on the batch's device."""
    b, c, h, w = x.shape
    pad = max(1, h // 8)
    padded = F.pad(x, (pad, pad, pad, pad))
    dev = x.device
    dy = torch.randint(0, 2 * pad + 1, (b,), device=dev, generator=generator)
    dx = torch.randint(0, 2 * pad + 1, (b,), device=dev, generator=generator)
    rows = (torch.arange(h, device=dev)[None, :] + dy[:, None])[:, None, :, None]
    cols = (torch.arange(w, device=dev)[None, :] + dx[:, None])[:, None, None, :]
    batch = torch.arange(b, device=dev)[:, None, None, None]
    chans = torch.arange(c, device=dev)[None, :, None, None]
    out = padded[batch, chans, rows, cols]
    flip = torch.rand(b, device=dev, generator=generator) < 0.5
    return torch.where(flip[:, None, None, None], out.flip(-1), out)


def image_splits(
    ds: Dataset, n_val: int, n_test: int | None, side: int | None, seed: int
) -> tuple[Dataset, torch.Tensor, torch.Tensor]:
    """A seeded validation split of n_val training images (held out of training), a seeded
    class-stratified test subset, images resized to side x side (area when shrinking) and
    standardised with the remaining training images' statistics: (data, x_val, y_val)."""
    if n_val >= len(ds.x_train):
        raise ValueError(f"n_val {n_val} leaves no training images of {len(ds.x_train)}")
    order = torch.randperm(len(ds.x_train), generator=torch.Generator().manual_seed(seed))
    val, rest = order[:n_val].sort().values, order[n_val:].sort().values
    keep = stratified_indices(ds.y_test, n_test, seed) if n_test else torch.arange(len(ds.y_test))
    x_test, y_test = ds.x_test[keep], ds.y_test[keep]
    x_eval, y_eval = torch.cat([ds.x_train[val], x_test]), torch.cat([ds.y_train[val], y_test])
    ds = dataclasses.replace(
        ds, x_train=ds.x_train[rest], y_train=ds.y_train[rest], x_test=x_eval, y_test=y_eval
    )
    if side is not None and side != ds.x_train.shape[-1]:
        mode = "area" if side < ds.x_train.shape[-1] else "bilinear"
        ds = dataclasses.replace(
            ds,
            x_train=F.interpolate(ds.x_train, size=(side, side), mode=mode),
            x_test=F.interpolate(ds.x_test, size=(side, side), mode=mode),
            info=dataclasses.replace(
                ds.info,
                shape=(ds.info.shape[0], side, side),
                display=f"{ds.info.display} @ {side}px",
            ),
        )
    ds = standardize(ds)
    x_val, y_val = ds.x_test[:n_val], ds.y_test[:n_val]
    ds = dataclasses.replace(ds, x_test=ds.x_test[n_val:], y_test=ds.y_test[n_val:])
    return ds, x_val, y_val
