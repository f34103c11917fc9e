"""Reading training curves the way CLAIMS.md ("Common ground") prescribes: the final value is
the mean over the checkpoints in the last 5% of the run, never one noisy checkpoint; and the
checkpoint schedules that make sure there are at least 3 checkpoints there."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

#: the final value of a curve is its mean over the last 5% of the run ...
FINAL_FRACTION = 0.05
#: ... over at least this many checkpoints
MIN_FINAL_POINTS = 3


def final_mask(steps: np.ndarray) -> np.ndarray:
    """Which checkpoints lie in the last 5% of the run (steps from 0 to steps[-1]). A run so
    short that its last 5% holds fewer than 3 integer steps (a smoke run) uses its last 3
    checkpoints instead."""
    steps = np.asarray(steps, dtype=np.float64)
    if steps.ndim != 1 or len(steps) == 0:
        raise ValueError(f"steps must be a non-empty vector, got shape {steps.shape}")
    if _short(steps):
        return np.arange(len(steps)) >= len(steps) - MIN_FINAL_POINTS
    return steps >= np.ceil((1 - FINAL_FRACTION) * steps[-1])


def _short(steps: np.ndarray) -> bool:
    """True for a run whose last 5% holds fewer than 3 integer steps."""
    start = np.ceil((1 - FINAL_FRACTION) * steps[-1])
    return bool(steps[-1] - start + 1 < MIN_FINAL_POINTS)


def final_value(steps: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Mean of `values` (..., T) over the checkpoints in the last 5% of the run; NaN anywhere
    in that window gives NaN (a diverged run is never dropped). ValueError when fewer than
    3 checkpoints lie there: the schedule must put them there (see tail_steps)."""
    mask = final_mask(steps)
    values = np.asarray(values, dtype=np.float64)
    if values.shape[-1] != len(mask):
        raise ValueError(f"values (..., {values.shape[-1]}) do not match {len(mask)} steps")
    if mask.sum() < MIN_FINAL_POINTS and not _short(np.asarray(steps, dtype=np.float64)):
        raise ValueError(
            f"only {int(mask.sum())} checkpoints in the last 5% of the run (steps "
            f"{np.asarray(steps)[mask].tolist()}); the final value needs {MIN_FINAL_POINTS}"
        )
    return values[..., mask].mean(axis=-1)


def final_of(curve: Any, column: str, step: str = "step") -> float:
    """The final value of one column of a curve table (a DataFrame with a step column)."""
    return float(final_value(curve[step].to_numpy(), curve[column].to_numpy()))


def tail_steps(total: int, count: int = MIN_FINAL_POINTS) -> np.ndarray:
    """`count` distinct checkpoint steps in the last 5% of a run of `total` steps, ending
    at `total`; for a run too short for that, its last `count` steps (from 0)."""
    if total < 1 or count < 1:
        raise ValueError(f"total and count must be >= 1, got {total}, {count}")
    start = int(np.ceil((1 - FINAL_FRACTION) * total))
    if total - start + 1 < count:
        return np.arange(max(0, total - count + 1), total + 1, dtype=np.int64)
    return np.unique(np.round(np.linspace(start, total, count)).astype(np.int64))


def preceding_change(steps: np.ndarray, values: np.ndarray, fraction: float = 0.20) -> np.ndarray:
    """|final value - mean over the `fraction` of the run before the last 5%| of curves
    (..., T): how much a curve still moved at the end (CLAIMS.md class_order, `converged`).
    NaN where no checkpoint lies in that stretch."""
    steps = np.asarray(steps, dtype=np.float64)
    before = (steps >= (1 - FINAL_FRACTION - fraction) * steps[-1]) & ~final_mask(steps)
    values = np.asarray(values, dtype=np.float64)
    if not before.any():
        return np.full(values.shape[:-1], np.nan)
    return np.abs(final_value(steps, values) - values[..., before].mean(axis=-1))


def first_reaching(steps: np.ndarray, values: np.ndarray, level: float) -> np.ndarray:
    """The first step at which each curve (..., T) reaches `level`; inf where it never does."""
    reached = np.asarray(values) >= level
    first = np.asarray(steps, dtype=np.float64)[np.argmax(reached, axis=-1)]
    return np.where(reached.any(axis=-1), first, np.inf)


def unit_cube(
    frame: Any, units: Sequence[Any], value: str, by: str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(steps (T,), values (units, T) or (units, T, K)) from a tidy frame with `unit` and
    `step` columns (and `by`, e.g. the class, as the last axis); every unit must have every
    step (NaN where one lacks it)."""
    steps = np.sort(frame["step"].unique())
    index = pd.MultiIndex.from_product([list(units), steps], names=["unit", "step"])
    if by is None:
        flat = frame.set_index(["unit", "step"])[value].reindex(index).to_numpy()
        return steps, flat.reshape(len(units), len(steps))
    table = frame.pivot_table(index=["unit", "step"], columns=by, values=value, dropna=False)
    return steps, table.reindex(index).to_numpy().reshape(len(units), len(steps), -1)
