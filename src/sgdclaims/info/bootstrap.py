"""Bootstrap of the estimators over resampled test examples: every resample counted by
one bincount, in chunks of resamples, from explicit seeded generators."""

from __future__ import annotations

import numpy as np
import torch

from sgdclaims.info.contingency import Contingency, Values, _check_base
from sgdclaims.info.counting import MAX_CELLS, _cells, _check_cells, _count
from sgdclaims.info.encoding import LabelArray, _encode_all, _Inputs, _is_torch, _xp

#: integers gathered per bootstrap chunk (bounds the memory of the resampled indices)
_CHUNK_ELEMENTS = 2**23

_STATISTICS = (
    "mutual_information",
    "conditional_mutual_information",
    "performance_correlation",
    "per_class_mutual_information",
    "per_class_conditional_mutual_information",
)


def _statistic(table: Contingency, statistic: str, base: float, miller_madow: bool):
    """Evaluate one of the named statistics on a table."""
    if statistic not in _STATISTICS:
        raise ValueError(f"statistic must be one of {_STATISTICS}, got {statistic!r}")
    method = getattr(table, statistic)
    if statistic.startswith("per_class"):
        if miller_madow:
            raise ValueError("miller_madow has no per-class form; use it with a total statistic")
        return method(base=base)
    return method(base=base, miller_madow=miller_madow)


def _check_bootstrap(statistic: str, base: float, miller_madow: bool) -> None:
    """Fail before any resampling on a bad statistic, base or combination."""
    if statistic not in _STATISTICS:
        raise ValueError(f"statistic must be one of {_STATISTICS}, got {statistic!r}")
    if miller_madow and statistic.startswith("per_class"):
        raise ValueError("miller_madow has no per-class form; use it with a total statistic")
    _check_base(base)


def _resampled(inputs: _Inputs, cells, idx, statistic: str, base: float, miller_madow: bool):
    """Statistic per resample, (B, T', ...): tables (T' * B, kF, kY, kL) from one bincount
    of the cells gathered at the resampled indices `idx` (B, n)."""
    num_resamples = idx.shape[0]
    gathered = cells[:, idx]
    table = _count(gathered.reshape(cells.shape[0] * num_resamples, -1), inputs.shape)
    values = _statistic(Contingency(table), statistic, base, miller_madow)
    values = values.reshape(cells.shape[0], num_resamples, *values.shape[1:])
    values = values.swapaxes(0, 1)
    return values if inputs.batched else values[:, 0]


def bootstrap_statistic(
    F: LabelArray,
    Y: LabelArray,
    L: LabelArray | None,
    indices: np.ndarray | torch.Tensor,
    *,
    statistic: str = "performance_correlation",
    base: float = 2,
    miller_madow: bool = False,
    num_classes: int | None = None,
) -> Values:
    """The statistic on each resample of the examples given by `indices` (B, n): shape
    (B, T, ...) or (B, ...); one bincount for all resamples, no loop over examples."""
    _check_bootstrap(statistic, base, miller_madow)
    inputs = _encode_all({"F": F, "Y": Y, "L": L}, num_classes)
    cells = _cells(inputs)
    if _is_torch(cells):
        idx = torch.as_tensor(indices, device=cells.device)
    else:
        idx = indices.cpu().numpy() if _is_torch(indices) else np.asarray(indices)
    if idx.ndim != 2 or 0 in idx.shape:
        raise ValueError(
            f"indices must be a non-empty 2-D (B, n) array, got shape {tuple(idx.shape)}"
        )
    if (
        (idx.is_floating_point() or idx.is_complex() or idx.dtype == torch.bool)
        if _is_torch(idx)
        else idx.dtype.kind not in "iu"
    ):
        raise ValueError(f"indices must be integers, got dtype {idx.dtype}")
    lo, hi = int(idx.min()), int(idx.max())
    if lo < 0 or hi >= inputs.n:
        raise ValueError(f"indices must lie in [0, n={inputs.n}), got values in [{lo}, {hi}]")
    _check_cells(inputs.num_steps * idx.shape[0], inputs.shape)
    return _resampled(inputs, cells, idx, statistic, base, miller_madow)


def bootstrap_interval(
    F: LabelArray,
    Y: LabelArray,
    L: LabelArray | None = None,
    *,
    statistic: str = "performance_correlation",
    num_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int | np.random.Generator | torch.Generator = 0,
    base: float = 2,
    miller_madow: bool = False,
    num_classes: int | None = None,
) -> tuple[Values, Values]:
    """Percentile bootstrap interval (low, high) of a statistic over resampled test examples.

    Resamples are (B, n) index matrices drawn from an explicit seeded generator (numpy for
    numpy input, torch on the input's device for tensors), shared by all checkpoints, and
    counted in chunks of resamples with one bincount each (no loop over examples).
    """
    if isinstance(num_resamples, bool) or not isinstance(num_resamples, (int, np.integer)):
        raise ValueError(f"num_resamples must be a positive int, got {num_resamples!r}")
    if num_resamples < 1:
        raise ValueError(f"num_resamples must be >= 1, got {num_resamples}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence!r}")
    _check_bootstrap(statistic, base, miller_madow)
    inputs = _encode_all({"F": F, "Y": Y, "L": L}, num_classes)
    cells = _cells(inputs)
    size = inputs.shape[0] * inputs.shape[1] * inputs.shape[2]
    per_resample = cells.shape[0]
    chunk = max(
        1,
        min(_CHUNK_ELEMENTS // (per_resample * inputs.n), MAX_CELLS // (per_resample * size)),
    )
    _check_cells(per_resample * min(chunk, num_resamples), inputs.shape)
    generator = seed
    if not isinstance(seed, (np.random.Generator, torch.Generator)):
        if _is_torch(cells):
            generator = torch.Generator(device=cells.device).manual_seed(int(seed))
        else:
            generator = np.random.default_rng(seed)
    parts = []
    for start in range(0, num_resamples, chunk):
        shape = (min(chunk, num_resamples - start), inputs.n)
        if isinstance(generator, torch.Generator):
            idx = torch.randint(0, inputs.n, shape, generator=generator, device=generator.device)
        else:
            idx = generator.integers(0, inputs.n, size=shape)
        if _is_torch(cells):
            idx = torch.as_tensor(idx, device=cells.device)
        elif _is_torch(idx):
            idx = idx.numpy()
        parts.append(_resampled(inputs, cells, idx, statistic, base, miller_madow))
    xp = _xp(cells)
    values = xp.concatenate(parts) if xp is np else torch.cat(parts)
    alpha = (1 - confidence) / 2
    if xp is np:
        low, high = np.quantile(values, [alpha, 1 - alpha], axis=0)
        return (low[()] if low.ndim == 0 else low, high[()] if high.ndim == 0 else high)
    q = torch.tensor([alpha, 1 - alpha], dtype=torch.float64, device=values.device)
    low, high = torch.quantile(values, q, dim=0)
    return low, high
