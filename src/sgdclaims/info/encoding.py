"""Checking and encoding of label arrays: F, Y, L (numpy, torch or sequences) become
compact int64 codes in [0, k) on one device, with the label of each code."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

LabelArray = np.ndarray | torch.Tensor | Sequence[int] | Sequence[Sequence[int]]

#: labels whose largest value is below this are compacted by a bincount rather than a sort
_BINCOUNT_LIMIT = 2**20


@dataclass(frozen=True)
class _Encoded:
    """One variable as compact int64 codes in [0, k) (numpy array, or tensor on the common
    device; None for an absent variable, a constant), with the label of each code."""

    codes: np.ndarray | torch.Tensor | None
    k: int
    values: np.ndarray | torch.Tensor
    #: False when the labels are still to be checked (raw integers, see `_encode_all`)
    checked: bool = True


def _is_torch(a: object) -> bool:
    """Whether an array is a torch tensor (else numpy)."""
    return isinstance(a, torch.Tensor)


def _xp(a: np.ndarray | torch.Tensor):
    """The array module of `a`: numpy or torch (their shared subset is used below)."""
    return torch if _is_torch(a) else np


def _to_float(a: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
    """float64 copy of a count array."""
    return a.to(torch.float64) if _is_torch(a) else a.astype(np.float64)


def _check_num_classes(num_classes: int | None) -> None:
    """num_classes is None or a positive int."""
    if num_classes is None:
        return
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)):
        raise ValueError(f"num_classes must be a positive int or None, got {num_classes!r}")
    if num_classes < 1:
        raise ValueError(f"num_classes must be >= 1, got {num_classes}")


def _check_shape(name: str, shape: Sequence[int]) -> None:
    """Labels are (n,) or (T, n) and not empty."""
    if len(shape) not in (1, 2):
        raise ValueError(
            f"{name} must be a 1-D (n,) or 2-D (T, n) array of labels, got shape {tuple(shape)}"
        )
    if 0 in shape:
        raise ValueError(f"{name} is empty (shape {tuple(shape)})")


def _check_range(name: str, lo: float, hi: float, num_classes: int | None) -> None:
    """Raise ValueError for negative labels, or labels beyond num_classes - 1."""
    if lo < 0:
        raise ValueError(f"{name} has negative labels (smallest {lo}); labels must be >= 0")
    if num_classes is not None and hi >= num_classes:
        raise ValueError(
            f"num_classes={num_classes} is smaller than a label present in {name} (largest {hi})"
        )


def _encode_numpy(
    name: str, x: np.ndarray, num_classes: int | None
) -> tuple[np.ndarray, int, np.ndarray]:
    """Codes, k and values of a numpy label array, after checking its values."""
    kind = x.dtype.kind
    if kind == "b":
        x = x.astype(np.int64)
    elif kind == "f":
        if np.isnan(x).any():
            raise ValueError(f"{name} contains NaN")
        if not np.isfinite(x).all():
            raise ValueError(f"{name} contains infinite values")
        if (x != np.floor(x)).any():
            raise ValueError(f"{name} has non-integer values (labels must be integers)")
    elif kind not in "iu":
        raise ValueError(f"{name} must hold integer labels, got dtype {x.dtype}")
    if kind in "iub":
        # one pass: viewed as unsigned, a negative label is larger than any valid one
        hi = x.view(x.dtype.str.replace("i", "u")).max()
        lo = x.min() if x.dtype.kind == "i" and hi > np.iinfo(x.dtype).max else 0
    else:
        lo, hi = x.min(), x.max()
    _check_range(name, lo, hi, num_classes)
    if num_classes is not None:
        return x.astype(np.int64, copy=False), int(num_classes), np.arange(num_classes)
    if hi < max(_BINCOUNT_LIMIT, x.size):
        x = x.astype(np.int64, copy=False)
        present = np.bincount(x.ravel(), minlength=int(hi) + 1) > 0
        if present.all():
            return x, present.size, np.arange(present.size)
        values = np.flatnonzero(present)
        return (np.cumsum(present) - 1)[x], values.size, values
    values, inverse = np.unique(x, return_inverse=True)
    return inverse.reshape(x.shape).astype(np.int64, copy=False), values.size, values


def _encode_torch(
    name: str, x: torch.Tensor, num_classes: int | None
) -> tuple[torch.Tensor, int, torch.Tensor]:
    """Codes, k and values of a label tensor (on its own device), after checking its values."""
    if x.dtype == torch.bool:
        x = x.long()
    elif x.is_floating_point():
        if torch.isnan(x).any():
            raise ValueError(f"{name} contains NaN")
        if not torch.isfinite(x).all():
            raise ValueError(f"{name} contains infinite values")
        if (x != torch.floor(x)).any():
            raise ValueError(f"{name} has non-integer values (labels must be integers)")
    elif x.is_complex():
        raise ValueError(f"{name} must hold integer labels, got dtype {x.dtype}")
    lo, hi = (v.item() for v in torch.aminmax(x))
    _check_range(name, lo, hi, num_classes)
    if num_classes is not None:
        return x.long(), int(num_classes), torch.arange(num_classes, device=x.device)
    if hi < max(_BINCOUNT_LIMIT, x.numel()):
        x = x.long()
        present = torch.bincount(x.reshape(-1), minlength=int(hi) + 1) > 0
        if present.all():
            return x, present.numel(), torch.arange(present.numel(), device=x.device)
        values = torch.nonzero(present).reshape(-1)
        return (torch.cumsum(present, 0) - 1)[x], values.numel(), values
    values, inverse = torch.unique(x, return_inverse=True)
    return inverse.long(), values.numel(), values


@dataclass(frozen=True)
class _Inputs:
    """F, Y, L checked and encoded together, with what the results look like."""

    F: _Encoded
    Y: _Encoded
    L: _Encoded
    as_numpy: bool
    batched: bool
    num_steps: int
    n: int

    @property
    def shape(self) -> tuple[int, int, int]:
        """(kF, kY, kL)."""
        return (self.F.k, self.Y.k, self.L.k)


def _encode_all(
    named: dict[str, LabelArray | None],
    num_classes: int | None,
    optional: tuple[str, ...] = ("L",),
    defer: bool = False,
) -> _Inputs:
    """Check and encode F, Y, L together (in that order, keyed by the names errors use);
    a missing variable (None) is a constant.

    All tensors must share a device; numpy arguments mixed with tensors go to that device.
    With `defer`, a lone (T, n) numpy array of signed (or narrow unsigned) integers under
    num_classes is passed on unchecked as its own codes: `_count_blocked` checks it block
    by block while the block is in cache, saving a pass over the largest array.
    """
    _check_num_classes(num_classes)
    for name, value in named.items():
        if value is None and name not in optional:
            raise ValueError(f"{name} is required, got None")
    tensors = [v for v in named.values() if _is_torch(v)]
    devices = {t.device for t in tensors}
    if len(devices) > 1:
        names = [f"{k} on {v.device}" for k, v in named.items() if _is_torch(v)]
        raise ValueError(f"tensors must be on one device, got {', '.join(names)}")
    device = devices.pop() if devices else None
    raw: dict[str, np.ndarray | torch.Tensor] = {}
    for name, value in named.items():
        if value is None:
            continue
        if not _is_torch(value):
            value = np.asarray(value)
        _check_shape(name, tuple(value.shape))
        raw[name] = value
    lengths = {name: v.shape[-1] for name, v in raw.items()}
    if len(set(lengths.values())) > 1:
        detail = ", ".join(f"{name} has n={n}" for name, n in lengths.items())
        raise ValueError(f"mismatched lengths: {detail}")
    steps = {name: v.shape[0] for name, v in raw.items() if v.ndim == 2}
    if len(set(steps.values())) > 1:
        detail = ", ".join(f"{name} has T={t}" for name, t in steps.items())
        raise ValueError(f"mismatched numbers of checkpoints: {detail}")
    encoded: dict[str, _Encoded] = {}
    for name in named:
        value = raw.get(name)
        if value is None:
            encoded[name] = _Encoded(None, 1, np.zeros(1, dtype=np.int64))
        elif _is_torch(value):
            encoded[name] = _Encoded(*_encode_torch(name, value, num_classes))
        elif defer and _deferrable(value, steps, device, num_classes):
            encoded[name] = _Encoded(value, int(num_classes), np.arange(num_classes), False)
        else:
            codes, k, values = _encode_numpy(name, value, num_classes)
            if device is not None:
                codes = torch.from_numpy(np.ascontiguousarray(codes)).to(device)
            encoded[name] = _Encoded(codes, k, values)
    return _Inputs(
        *encoded.values(),
        as_numpy=device is None,
        batched=bool(steps),
        num_steps=next(iter(steps.values())) if steps else 1,
        n=next(iter(lengths.values())),
    )


def _deferrable(value: np.ndarray, steps: dict[str, int], device, num_classes) -> bool:
    """Whether `_count_blocked` may check this array itself (see `_encode_all`)."""
    return (
        device is None
        and num_classes is not None
        and len(steps) == 1
        and value.ndim == 2
        and (value.dtype.kind == "i" or (value.dtype.kind == "u" and value.dtype.itemsize < 8))
    )
