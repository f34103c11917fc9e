"""Joint count tables (T, kF, kY, kL) of encoded labels: one bincount over combined cell
indices, or block by block for a lone (T, n) numpy variable."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from sgdclaims.info.encoding import _encode_numpy, _Inputs, _is_torch, _to_float, _xp

#: largest joint table (cells over all checkpoints, or resamples) this module will build
MAX_CELLS = 2**26
#: labels per block of checkpoints counted together (a few 100 kB of int64: stays in cache)
_BLOCK_ELEMENTS = 2**15


def _arange(like: np.ndarray | torch.Tensor, n: int) -> np.ndarray | torch.Tensor:
    """0..n-1 as int64 beside `like` (same module and device)."""
    return torch.arange(n, device=like.device) if _is_torch(like) else np.arange(n)


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
