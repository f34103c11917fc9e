"""Plug-in mutual information of discrete labels, batched over checkpoints.

Every MI-based claim reads its numbers from here: I(F;Y), I(F;Y|L), the performance
correlation mu_Y(F;L) = I(F;Y) - I(F;Y|L) (Nakkiran et al. 2019, Sec. 2, eq. 1) and the
per-class terms I(F;Y=y), I(F;Y=y|L) (Schouten & Toonen 2023, eq. 3-4), in bits unless
`base` says otherwise, with 0 log 0 = 0 exactly (zero cells are skipped, never smoothed).

One joint count table of shape (T, kF, kY, kL) is built with a single bincount over
combined indices, for all T checkpoints at once (numpy input with one (T, n) variable:
one bincount per block of a few checkpoints, while the block sits in cache); every
quantity is read from it (`Contingency`). Each of F, Y, L is a 1-D array (n,) or a 2-D
array (T, n) of non-negative integer labels; numpy input gives numpy float64 results,
torch input gives float64 tensors on the input's device (numpy arguments mixed with
tensors are moved to the tensors' device once). Values are exact up to float rounding (~1e-15), so a
quantity that is zero in exact arithmetic may come out as -1e-17; nothing is clipped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

LabelArray = np.ndarray | torch.Tensor | Sequence[int] | Sequence[Sequence[int]]
Values = np.ndarray | np.float64 | torch.Tensor

#: largest joint table (cells over all checkpoints, or resamples) this module will build
MAX_CELLS = 2**26
#: labels whose largest value is below this are compacted by a bincount rather than a sort
_BINCOUNT_LIMIT = 2**20
#: integers gathered per bootstrap chunk (bounds the memory of the resampled indices)
_CHUNK_ELEMENTS = 2**23
#: labels per block of checkpoints counted together (a few 100 kB of int64: stays in cache)
_BLOCK_ELEMENTS = 2**15

_STATISTICS = (
    "mutual_information",
    "conditional_mutual_information",
    "performance_correlation",
    "per_class_mutual_information",
    "per_class_conditional_mutual_information",
)


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


def _arange(like: np.ndarray | torch.Tensor, n: int) -> np.ndarray | torch.Tensor:
    """0..n-1 as int64 beside `like` (same module and device)."""
    return torch.arange(n, device=like.device) if _is_torch(like) else np.arange(n)


def _check_base(base: float) -> float:
    """log(base), after checking that base is a usable logarithm base."""
    if isinstance(base, bool) or not isinstance(base, (int, float)):
        raise ValueError(f"base must be a number > 0 and != 1, got {base!r}")
    if not (math.isfinite(base) and base > 0 and base != 1):
        raise ValueError(f"base must be finite, > 0 and != 1, got {base!r}")
    return math.log(base)


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
    if lo < 0:
        raise ValueError(f"{name} has negative labels (smallest {lo}); labels must be >= 0")
    if num_classes is not None:
        if hi >= num_classes:
            raise ValueError(
                f"num_classes={num_classes} is smaller than a label present in {name} "
                f"(largest {hi})"
            )
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
    if lo < 0:
        raise ValueError(f"{name} has negative labels (smallest {lo}); labels must be >= 0")
    if num_classes is not None:
        if hi >= num_classes:
            raise ValueError(
                f"num_classes={num_classes} is smaller than a label present in {name} "
                f"(largest {hi})"
            )
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


def _affine(a: np.ndarray | torch.Tensor | None, k: int, b: np.ndarray | torch.Tensor | None):
    """a * k + b for code arrays, None meaning 0; the result is a fresh array (or None)."""
    if a is None:
        return None if b is None else b * 1
    out = a * k
    if b is None:
        return out
    if out.ndim >= b.ndim:
        out += b
        return out
    return out + b


def _cells(inputs: _Inputs) -> np.ndarray | torch.Tensor:
    """Per-example joint cell index (f * kY + y) * kL + l, a fresh (T', n) array.

    The 1-D variables are combined first, so (T, n) arrays see as few passes as possible.
    """
    kY, kL = inputs.Y.k, inputs.L.k
    yl = _affine(inputs.Y.codes, kL, inputs.L.codes)
    return _affine(inputs.F.codes, kY * kL, yl).reshape(-1, inputs.n)


def _check_cells(num_tables: int, shape: tuple[int, int, int]) -> None:
    """Refuse joint tables too large to hold (labels with very many distinct values)."""
    total = num_tables * shape[0] * shape[1] * shape[2]
    if total > MAX_CELLS:
        raise ValueError(
            f"the joint table would have {total} cells ({num_tables} tables of kF={shape[0]}, "
            f"kY={shape[1]}, kL={shape[2]}), more than MAX_CELLS={MAX_CELLS}; this module is "
            "for labels with few distinct values (classes, predictions)"
        )


def _count(cells: np.ndarray | torch.Tensor, shape: tuple[int, int, int]):
    """Joint counts (T', kF, kY, kL) as float64 from fresh cell indices (T', n), which it
    overwrites: one bincount over cell + table * cells-per-table."""
    num_tables, size = cells.shape[0], shape[0] * shape[1] * shape[2]
    if num_tables > 1:
        cells += _arange(cells, num_tables).reshape(-1, 1) * size
    counts = _xp(cells).bincount(cells.reshape(-1), minlength=num_tables * size)
    return _to_float(counts.reshape(num_tables, *shape))


def _count_blocked(inputs: _Inputs, names: Sequence[str]) -> np.ndarray:
    """Joint counts (T, kF, kY, kL) as float64 for numpy input where exactly one variable
    is (T, n): the 1-D variables are combined once into an n-length base, then each block
    of a few checkpoints costs one add and one bincount while it sits in cache.

    The batched variable is counted as the innermost axis (cell = base + v), and the
    small table is moved back to (T, kF, kY, kL) at the end; counts are exact, so the
    table equals the one `_count(_cells(...))` builds. `names` are the roles' names for
    errors, when `_encode_all` deferred checking the batched labels to here.
    """
    roles = (inputs.F, inputs.Y, inputs.L)
    batched = next(i for i, r in enumerate(roles) if r.codes is not None and r.codes.ndim == 2)
    codes = roles[batched].codes
    others = [r for i, r in enumerate(roles) if i != batched]
    k = roles[batched].k
    fixed = _affine(others[0].codes, others[1].k, others[1].codes)
    size = k * others[0].k * others[1].k
    num_steps, n = codes.shape
    rows = max(1, min(num_steps, _BLOCK_ELEMENTS // n))
    base = np.arange(rows).reshape(-1, 1) * size
    base = base + (fixed * k if fixed is not None else 0)
    buffer = np.empty((rows, n), dtype=np.int64)
    counts = np.empty((num_steps, size), dtype=np.int64)
    unsigned = codes.dtype.str.replace("i", "u")
    for start in range(0, num_steps, rows):
        block = codes[start : start + rows]
        if not roles[batched].checked and block.view(unsigned).max() >= k:
            _encode_numpy(names[batched], codes, k)  # raises the error naming the bad label
        cells = buffer[: block.shape[0]]
        np.add(block, base[: block.shape[0]], out=cells)
        counts[start : start + block.shape[0]] = np.bincount(
            cells.reshape(-1), minlength=cells.size // n * size
        ).reshape(-1, size)
    table = counts.reshape(num_steps, others[0].k, others[1].k, k)
    table = np.moveaxis(table, 3, 1 + batched)
    return np.ascontiguousarray(table, dtype=np.float64)


def _entropy_nats(marginal, n):
    """Plug-in entropy (nats) per table of counts (T, ...): sum (c/n) log(n/c), 0 log 0 = 0."""
    xp = _xp(marginal)
    c = marginal.reshape(marginal.shape[0], -1)
    ratio = xp.where(c > 0, n.reshape(-1, 1) / xp.where(c > 0, c, 1.0), 1.0)
    return (c * xp.log(ratio)).sum(axis=1) / n


def _sum_to(table, key: str):
    """The table (T, kF, kY, kL) summed over the variables not in `key` (letters of 'fyl',
    in that order), axes kept. Counts are integers, so any summation order is exact;
    numpy's einsum is several times faster than sum over the short middle axes."""
    drop = tuple(1 + i for i, v in enumerate("fyl") if v not in key)
    if not drop:
        return table
    if _is_torch(table):
        return table.sum(axis=drop, keepdims=True)
    summed = np.einsum(f"tfyl->t{key}", table)
    return summed.reshape([size if i not in drop else 1 for i, size in enumerate(table.shape)])


def _mi_terms(joint, a, b, given):
    """Cell terms c_abg log(c_abg c_g / (c_ag c_bg)) in count units, 0 log 0 = 0 exactly:
    empty cells get ratio 1, and their marginals are never divided by."""
    xp = _xp(joint)
    occupied = joint > 0
    if xp is np:
        # the same operations on occupied cells as below (adding 0.0 changes nothing
        # there), in place and unmasked; empty cells get denominator a*b + 1 >= 1 and
        # ratio 0 + 1 = 1, so their term is 0 * log(1) = +0.0 as below
        empty = (~occupied).astype(np.float64)
        denominator = a * b
        denominator += empty
        ratio = joint * given
        ratio /= denominator
        ratio += empty
        np.log(ratio, out=ratio)
        ratio *= joint
        return ratio
    ratio = xp.where(occupied, joint * given / xp.where(occupied, a * b, 1.0), 1.0)
    return joint * xp.log(ratio)


def _occupied(marginal):
    """Number of non-empty cells per table (Miller-Madow's m), float64."""
    return _to_float((marginal > 0).reshape(marginal.shape[0], -1).sum(axis=1))


@dataclass(frozen=True, eq=False)
class Contingency:
    """The joint counts of (F, Y, L) at T checkpoints; every MI quantity is read from it.

    Build it with `Contingency.from_labels(F, Y, L)`. Without L, L is a constant and the
    conditional quantities equal the unconditional ones. `f_values`, `y_values`,
    `l_values` give the label of each table index (0..num_classes-1 when num_classes is
    given, else the sorted labels present); per-class results follow `y_values`.
    `table` is (T, kF, kY, kL) float64, numpy or a tensor like the input.
    """

    table: np.ndarray | torch.Tensor
    f_values: np.ndarray | torch.Tensor | None = None
    y_values: np.ndarray | torch.Tensor | None = None
    l_values: np.ndarray | torch.Tensor | None = None
    batched: bool = True

    @classmethod
    def from_labels(
        cls,
        F: LabelArray,
        Y: LabelArray,
        L: LabelArray | None = None,
        *,
        num_classes: int | None = None,
    ) -> Contingency:
        """Count (F, Y, L) jointly in one pass; any of them may be (T, n) for T checkpoints."""
        return cls._build({"F": F, "Y": Y, "L": L}, num_classes)

    @classmethod
    def _build(
        cls,
        named: dict[str, LabelArray | None],
        num_classes: int | None,
        optional: tuple[str, ...] = ("L",),
    ) -> Contingency:
        """Encode the variables (F, Y, L roles in order) and count them."""
        inputs = _encode_all(named, num_classes, optional, defer=True)
        _check_cells(inputs.num_steps, inputs.shape)
        roles = (inputs.F, inputs.Y, inputs.L)
        batched = [r.codes is not None and r.codes.ndim == 2 for r in roles]
        if inputs.as_numpy and batched.count(True) == 1:
            table = _count_blocked(inputs, list(named))
        else:
            table = _count(_cells(inputs), inputs.shape)
        values = (inputs.F.values, inputs.Y.values, inputs.L.values)
        return cls(table, *values, batched=inputs.batched)

    @property
    def counts(self) -> Values:
        """Joint counts, (T, kF, kY, kL) when batched else (kF, kY, kL), float64."""
        return self._out(self.table)

    @property
    def n(self) -> int:
        """Number of examples."""
        return int(self.table[0].sum())

    def _out(self, x):
        """Drop the checkpoint axis when unbatched; 0-d numpy results become np.float64."""
        if not self.batched:
            x = x[0]
        return x[()] if isinstance(x, np.ndarray) and x.ndim == 0 else x

    def _marginal(self, keep: str):
        """Counts summed over the variables not in `keep` (letters of 'fyl'), axes kept;
        computed once per table."""
        if not keep or set(keep) - set("fyl"):
            raise ValueError(f"variables must be a non-empty subset of 'fyl', got {keep!r}")
        key = "".join(v for v in "fyl" if v in keep)
        cache = self.__dict__.setdefault("_marginals", {})
        if key not in cache:
            # a single variable is summed from a cached pair (10x smaller) when there is one
            parents = [p for p in cache if len(p) == 2 and key in p] if len(key) == 1 else []
            cache[key] = _sum_to(cache[parents[0]] if parents else self.table, key)
        return cache[key]

    def _total(self):
        """Number of examples per table, shape (T,)."""
        return self._marginal("l").sum(axis=(1, 2, 3))

    def entropy(
        self, of: str = "y", given: str = "", *, base: float = 2, miller_madow: bool = False
    ) -> Values:
        """H(of | given), variables named by letters of 'fyl': entropy('y', 'l') = H(Y|L)."""
        log_base = _check_base(base)
        n = self._total()
        joint = self._marginal("".join(sorted(set(of) | set(given))))
        h = _entropy_nats(joint, n)
        m = _occupied(joint)
        if given:
            cond = self._marginal(given)
            h = h - _entropy_nats(cond, n)
            m = m - _occupied(cond) + 1
        if miller_madow:
            h = h + (m - 1) / (2 * n)
        return self._out(h / log_base)

    def _pair_terms(self):
        """Cell terms of I(F;Y), shape (T, kF, kY, 1), in count-nats."""
        n = self._total().reshape(-1, 1, 1, 1)
        return _mi_terms(self._marginal("fy"), self._marginal("f"), self._marginal("y"), n)

    def _conditional_terms(self):
        """Cell terms of I(F;Y|L), shape (T, kF, kY, kL), in count-nats."""
        return _mi_terms(
            self.table, self._marginal("fl"), self._marginal("yl"), self._marginal("l")
        )

    def _mm_mi(self):
        """Miller-Madow correction of I(F;Y) in nats: (m_F + m_Y - m_FY - 1) / (2N)."""
        m = (
            _occupied(self._marginal("f"))
            + _occupied(self._marginal("y"))
            - _occupied(self._marginal("fy"))
            - 1
        )
        return m / (2 * self._total())

    def _mm_cmi(self):
        """Miller-Madow correction of I(F;Y|L) in nats: (m_FL + m_YL - m_FYL - m_L) / (2N)."""
        m = (
            _occupied(self._marginal("fl"))
            + _occupied(self._marginal("yl"))
            - _occupied(self.table)
            - _occupied(self._marginal("l"))
        )
        return m / (2 * self._total())

    def _mi_nats(self, miller_madow: bool):
        """I(F;Y) in nats per table."""
        mi = self._pair_terms().sum(axis=(1, 2, 3)) / self._total()
        return mi + self._mm_mi() if miller_madow else mi

    def _cmi_nats(self, miller_madow: bool):
        """I(F;Y|L) in nats per table."""
        cmi = self._conditional_terms().sum(axis=(1, 2, 3)) / self._total()
        return cmi + self._mm_cmi() if miller_madow else cmi

    def mutual_information(self, *, base: float = 2, miller_madow: bool = False) -> Values:
        """I(F;Y) = sum p(f,y) log[p(f,y) / (p(f) p(y))] (Nakkiran et al. 2019, Sec. 2)."""
        log_base = _check_base(base)
        return self._out(self._mi_nats(miller_madow) / log_base)

    def conditional_mutual_information(
        self, *, base: float = 2, miller_madow: bool = False
    ) -> Values:
        """I(F;Y|L) = sum p(f,y,l) log[p(f,y|l) / (p(f|l) p(y|l))] (Nakkiran et al., Sec. 2)."""
        log_base = _check_base(base)
        return self._out(self._cmi_nats(miller_madow) / log_base)

    def performance_correlation(self, *, base: float = 2, miller_madow: bool = False) -> Values:
        """mu_Y(F;L) = I(F;Y) - I(F;Y|L): the part of F's information on Y that L explains
        (Nakkiran et al. 2019, eq. 1)."""
        log_base = _check_base(base)
        mu = self._mi_nats(miller_madow) - self._cmi_nats(miller_madow)
        return self._out(mu / log_base)

    def _per_class(self, terms, log_base: float):
        """Cell terms summed to one value per class of Y, (T, kY), in units of the base."""
        return terms.sum(axis=(1, 3)) / self._total().reshape(-1, 1) / log_base

    def per_class_mutual_information(self, *, base: float = 2) -> Values:
        """I(F;Y=y) = sum_f p(f,y) log[p(f,y) / (p(f)p(y))] per class, (T, kY); sums to
        I(F;Y) (Schouten & Toonen 2023, eq. 3). Miller-Madow has no per-class form."""
        return self._out(self._per_class(self._pair_terms(), _check_base(base)))

    def per_class_conditional_mutual_information(self, *, base: float = 2) -> Values:
        """I(F;Y=y|L) = sum_{f,l} p(f,y,l) log[p(f,y|l) / (p(f|l)p(y|l))] per class, (T, kY);
        sums to I(F;Y|L) (Schouten & Toonen 2023, eq. 4)."""
        return self._out(self._per_class(self._conditional_terms(), _check_base(base)))

    def per_class_performance_correlation(self, *, base: float = 2) -> Values:
        """mu per class, I(F;Y=y) - I(F;Y=y|L), (T, kY); sums to mu_Y(F;L)."""
        log_base = _check_base(base)
        diff = self._per_class(self._pair_terms(), log_base) - self._per_class(
            self._conditional_terms(), log_base
        )
        return self._out(diff)


def entropy(
    X: LabelArray,
    given: LabelArray | None = None,
    *,
    base: float = 2,
    miller_madow: bool = False,
    num_classes: int | None = None,
) -> Values:
    """Plug-in H(X), or H(X|given), per checkpoint when X or given is (T, n)."""
    named = {"X": X, "Y": None, "given": given}
    table = Contingency._build(named, num_classes, optional=("Y", "given"))
    return table.entropy(
        "f", "l" if given is not None else "", base=base, miller_madow=miller_madow
    )


def mutual_information(
    F: LabelArray,
    Y: LabelArray,
    *,
    base: float = 2,
    miller_madow: bool = False,
    num_classes: int | None = None,
) -> Values:
    """Plug-in I(F;Y) (Nakkiran et al. 2019, Sec. 2); F or Y may be (T, n) for T checkpoints."""
    table = Contingency.from_labels(F, Y, num_classes=num_classes)
    return table.mutual_information(base=base, miller_madow=miller_madow)


def conditional_mutual_information(
    F: LabelArray,
    Y: LabelArray,
    L: LabelArray,
    *,
    base: float = 2,
    miller_madow: bool = False,
    num_classes: int | None = None,
) -> Values:
    """Plug-in I(F;Y|L) (Nakkiran et al. 2019, Sec. 2); any argument may be (T, n)."""
    table = Contingency.from_labels(F, Y, L, num_classes=num_classes)
    return table.conditional_mutual_information(base=base, miller_madow=miller_madow)


def performance_correlation(
    F: LabelArray,
    Y: LabelArray,
    L: LabelArray,
    *,
    base: float = 2,
    miller_madow: bool = False,
    num_classes: int | None = None,
) -> Values:
    """mu_Y(F;L) = I(F;Y) - I(F;Y|L) (Nakkiran et al. 2019, eq. 1); any argument may be (T, n)."""
    table = Contingency.from_labels(F, Y, L, num_classes=num_classes)
    return table.performance_correlation(base=base, miller_madow=miller_madow)


def per_class_mutual_information(
    F: LabelArray,
    Y: LabelArray,
    L: LabelArray | None = None,
    *,
    base: float = 2,
    num_classes: int | None = None,
) -> Values:
    """Per-class I(F;Y=y), or I(F;Y=y|L) when L is given (Schouten & Toonen 2023, eq. 3-4),
    shape (T, kY) or (kY,); columns follow the sorted labels of Y (0..num_classes-1 if given)."""
    table = Contingency.from_labels(F, Y, L, num_classes=num_classes)
    if L is None:
        return table.per_class_mutual_information(base=base)
    return table.per_class_conditional_mutual_information(base=base)


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
