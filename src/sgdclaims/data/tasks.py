"""Task views of a data set: binary by class groups, multiclass, subsets, normalisation."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import torch

from sgdclaims.data.dataset import Dataset

FIRST_VS_LAST_HALF = ((0, 1, 2, 3, 4), (5, 6, 7, 8, 9))


def check_groups(groups: Sequence[Sequence[int]], num_classes: int) -> None:
    """Raise ValueError unless `groups` are two non-empty, disjoint groups of integer
    classes within 0..num_classes-1."""
    if not isinstance(groups, (tuple, list)) or len(groups) != 2:
        raise ValueError(f"groups must be two class groups, got {groups!r}")
    a, b = groups
    if not a or not b:
        raise ValueError(f"groups must both be non-empty (a side would be empty), got {groups!r}")
    bad = sorted(repr(c) for c in (*a, *b) if isinstance(c, bool) or not isinstance(c, int))
    if bad:
        raise ValueError(f"groups must hold integer classes, got {bad}")
    if set(a) & set(b):
        raise ValueError(f"groups overlap in classes {sorted(set(a) & set(b))}")
    unknown = sorted(c for c in (*a, *b) if not 0 <= c < num_classes)
    if unknown:
        raise ValueError(f"groups name classes {unknown} outside 0..{num_classes - 1}")


def binary_task(ds: Dataset, groups: Sequence[Sequence[int]] = FIRST_VS_LAST_HALF) -> Dataset:
    """Relabel to 0/1 by class groups (default 0-4 vs 5-9); classes in no group are dropped."""
    check_groups(groups, ds.num_classes)
    a, b = (tuple(int(c) for c in g) for g in groups)

    def relabel(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        in_b = torch.isin(y, torch.tensor(b, device=y.device))
        keep = in_b | torch.isin(y, torch.tensor(a, device=y.device))
        return x[keep], in_b[keep].long()

    x_train, y_train = relabel(ds.x_train, ds.y_train)
    x_test, y_test = relabel(ds.x_test, ds.y_test)
    name = f"{_span(a)} vs {_span(b)}"
    info = dataclasses.replace(
        ds.info,
        display=f"{ds.info.display}, {name}",
        n_train=len(x_train),
        n_test=len(x_test),
        classes=(_span(a), _span(b)),
    )
    return Dataset(x_train, y_train, x_test, y_test, info)


def _span(classes: tuple[int, ...]) -> str:
    """'0-4' for a run of consecutive classes, else '0,2,7'."""
    s = sorted(classes)
    if len(s) > 2 and s == list(range(s[0], s[-1] + 1)):
        return f"{s[0]}-{s[-1]}"
    return ",".join(map(str, s))


def multiclass_task(ds: Dataset, classes: Sequence[int] | None = None) -> Dataset:
    """All classes (default) or a subset, relabelled 0..k-1 in the given order."""
    if classes is None:
        return ds
    chosen = tuple(int(c) for c in classes)
    if len(set(chosen)) != len(chosen) or len(chosen) < 2:
        raise ValueError(f"classes must be at least two distinct classes, got {classes!r}")
    if any(not 0 <= c < ds.num_classes for c in chosen):
        raise ValueError(
            f"classes {chosen} out of range for {ds.info.name} (0..{ds.num_classes - 1})"
        )
    lut = torch.full((ds.num_classes,), -1, dtype=torch.long)
    lut[list(chosen)] = torch.arange(len(chosen))

    def pick(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        new = lut.to(y.device)[y]
        keep = new >= 0
        return x[keep], new[keep]

    x_train, y_train = pick(ds.x_train, ds.y_train)
    x_test, y_test = pick(ds.x_test, ds.y_test)
    info = dataclasses.replace(
        ds.info,
        display=f"{ds.info.display}, classes {_span(chosen)}",
        n_train=len(x_train),
        n_test=len(x_test),
        classes=tuple(ds.info.classes[c] for c in chosen),
    )
    return Dataset(x_train, y_train, x_test, y_test, info)


def subsample(ds: Dataset, n_train: int | None, n_test: int | None, seed: int = 0) -> Dataset:
    """A seeded random subset of each split (None keeps a split whole); marked as subset."""
    gen = torch.Generator().manual_seed(seed)

    def take(x: torch.Tensor, y: torch.Tensor, n: int | None, split: str):
        if n is None or n >= len(x):
            return x, y
        if n <= 0:
            raise ValueError(f"n_{split} must be positive, got {n}")
        idx = torch.randperm(len(x), generator=gen)[:n].sort().values
        return x[idx], y[idx]

    x_train, y_train = take(ds.x_train, ds.y_train, n_train, "train")
    x_test, y_test = take(ds.x_test, ds.y_test, n_test, "test")
    changed = len(x_train) < len(ds.x_train) or len(x_test) < len(ds.x_test)
    info = dataclasses.replace(
        ds.info,
        subset=ds.info.subset or changed,
        display=ds.info.display + (f" [{len(x_train)}/{len(x_test)}]" if changed else ""),
        n_train=len(x_train),
        n_test=len(x_test),
    )
    return Dataset(x_train, y_train, x_test, y_test, info)


def stratified_indices(y: torch.Tensor, n: int, seed: int = 0) -> torch.Tensor:
    """Sorted indices of a seeded, class-stratified subset of n of the labels `y` (CLAIMS.md,
    common ground): each class keeps its share, the largest remainders rounded up."""
    if n < 1:
        raise ValueError(f"n must be positive, got {n}")
    labels = y.cpu()
    counts = torch.bincount(labels).double()
    share = counts * min(n, len(labels)) / len(labels)
    take = share.floor().long()
    short = min(n, len(labels)) - int(take.sum())
    take[torch.argsort(share - take, descending=True, stable=True)[:short]] += 1
    gen = torch.Generator().manual_seed(seed)
    idx = torch.cat(
        [
            torch.nonzero(labels == c).flatten()[torch.randperm(int(counts[c]), generator=gen)[:k]]
            for c, k in enumerate(take.tolist())
        ]
    )
    return idx.sort().values.to(y.device)


def stratified_test(ds: Dataset, n_test: int | None, seed: int = 0) -> Dataset:
    """The test split cut to a seeded, class-stratified subset of n_test images; None, or
    n_test at least the split's size, keeps the whole split. The training split is unchanged."""
    if n_test is None or n_test >= len(ds.y_test):
        return ds
    idx = stratified_indices(ds.y_test, n_test, seed)
    info = dataclasses.replace(
        ds.info,
        subset=True,
        n_test=n_test,
        display=f"{ds.info.display} [test: {n_test} stratified]",
    )
    return dataclasses.replace(ds, x_test=ds.x_test[idx], y_test=ds.y_test[idx], info=info)


def standardize(ds: Dataset) -> Dataset:
    """Per-channel zero mean, unit variance with the training split's statistics."""
    dims = [0, *list(range(2, ds.x_train.ndim))]
    mean = ds.x_train.mean(dim=dims, keepdim=True)
    std = ds.x_train.std(dim=dims, keepdim=True).clamp_min(1e-6)
    return dataclasses.replace(
        ds, x_train=(ds.x_train - mean) / std, x_test=(ds.x_test - mean) / std
    )


def require_usable_splits(ds: Dataset, *, min_test: int, num_classes: int) -> None:
    """Raise ValueError before any training unless the test split has at least `min_test`
    examples (a plug-in MI estimate needs them) and no class is empty in either split."""
    if len(ds.x_test) < min_test:
        raise ValueError(
            f"{ds.info.display}: {len(ds.x_test)} test examples, fewer than the {min_test} "
            "a plug-in MI estimate needs"
        )
    for split, y in (("train", ds.y_train), ("test", ds.y_test)):
        if (torch.bincount(y, minlength=num_classes) == 0).any():
            raise ValueError(f"{ds.info.display}: a class is empty in the {split} split")
