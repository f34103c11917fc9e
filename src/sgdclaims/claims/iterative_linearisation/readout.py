"""Reading the claim's stored runs (the 'curves', 'loss' and scalars tables of its
experiment, one row per checkpoint, step or run, tagged with seed, K, features and which
step): per-seed curves and final accuracies per K, divergence steps, the staircase of the
train loss within K-windows and the large-step instability pattern over K (Goldwaser & Ge,
Fig. 1-2). NaN is never dropped: a diverged run fails what it enters."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from sgdclaims.curves import final_of
from sgdclaims.linearise import k_label
from sgdclaims.values import Value

#: the share of a K-window whose loss decrease is compared (first and last 10%)
WINDOW_EDGE = 0.1


def window_ratios(loss: np.ndarray, period: int) -> np.ndarray:
    """For each complete K-window after the first of a per-step train-loss trace: the loss
    decrease over its last 10% of steps divided by that over its first 10% (NaN where the
    window holds NaN; inf where its first 10% does not decrease)."""
    if period < 1:
        raise ValueError(f"period must be >= 1, got {period}")
    m = max(1, round(WINDOW_EDGE * period))
    loss = np.asarray(loss, dtype=np.float64)
    out = []
    for start in range(period, len(loss) - period + 1, period):
        w = loss[start : start + period]
        first, last = w[0] - w[m], w[-1 - m] - w[-1]
        if np.isnan(w).any():
            out.append(math.nan)
        else:
            out.append(last / first if first > 0 else math.inf)
    return np.asarray(out, dtype=np.float64)


def median_window(ratios: np.ndarray) -> float:
    """The median window's ratio; NaN when any window is NaN or there is none."""
    ratios = np.asarray(ratios, dtype=np.float64)
    if not len(ratios) or np.isnan(ratios).any():
        return math.nan
    return float(np.median(ratios))


def upward_closed(diverged: Mapping[float, np.ndarray]) -> np.ndarray:
    """Per seed: 1.0 when the diverging K form an upward-closed set that holds some K > 1
    while the smallest K (K = 1) converges, else 0.0. diverged: {K: per-seed bools}."""
    ks = sorted(diverged)
    if not ks:
        raise ValueError("upward_closed needs at least one K")
    flags = np.stack([np.asarray(diverged[k], dtype=bool) for k in ks])  # (K, seeds)
    closed = np.all(flags[:-1] <= flags[1:], axis=0)
    return (closed & ~flags[0] & flags[1:].any(axis=0)).astype(np.float64)


def accuracy_gap(
    acc: Mapping[float, np.ndarray], ks: Sequence[float], ref: np.ndarray, note: str
) -> Value:
    """max over K in ks of |mean acc_K - mean ref| (the seed means of final accuracies), per
    seed the paired max |acc_K - ref|, the gap per K beside it; a NaN (diverged) run makes
    the value NaN whichever K it is (never dropped by a max)."""
    gaps = np.array([abs(np.mean(acc[float(k)]) - np.mean(ref)) for k in ks])
    paired = np.max(np.abs(np.stack([np.asarray(acc[float(k)]) - ref for k in ks])), axis=0)
    return Value(np.max(gaps), paired, note, {f"K={k_label(k)}": g for k, g in zip(ks, gaps)})


def _select(frame: pd.DataFrame, where: Mapping[str, Any]) -> pd.DataFrame:
    mask = np.ones(len(frame), dtype=bool)
    for column, value in where.items():
        mask &= (frame[column] == value).to_numpy()
    return frame[mask]


def per_seed_curves(
    frame: pd.DataFrame, seeds: Sequence[int], column: str, **where: Any
) -> dict[float, list[np.ndarray]]:
    """{K: [column by step, one array per seed in `seeds`]} of the rows matching `where`."""
    rows = _select(frame, where)
    return {
        float(k): [part[part["seed"] == s].sort_values("step")[column].to_numpy() for s in seeds]
        for k, part in rows.groupby("K")
    }


def final_accuracy(frame: pd.DataFrame, seeds: Sequence[int], **where: Any) -> dict:
    """{K: per-seed final test accuracy in % (mean over the last 5% of the run; NaN for a
    diverged run)} of the 'curves' rows matching `where`."""
    rows = _select(frame, where)
    out = {}
    for k, part in rows.groupby("K"):
        runs = [part[part["seed"] == s].sort_values("step") for s in seeds]
        out[float(k)] = np.array([100 * final_of(r, "test_acc") for r in runs])
    return out


def divergence_steps(scalars: pd.DataFrame, seeds: Sequence[int], **where: Any) -> dict:
    """{K: per-seed step at which the run diverged (-1: never)} of the runs matching `where`."""
    rows = _select(scalars.dropna(subset=["diverged_at"]), where)
    return {
        float(k): np.array([float(part[part["seed"] == s]["diverged_at"].iloc[0]) for s in seeds])
        for k, part in rows.groupby("K")
    }


def divergence_note(scalars: pd.DataFrame, seeds: Sequence[int], **where: Any) -> str:
    """'; diverged (NaN: fails): K=100 seed 1 at step 805' for the runs matching `where`, or
    '' when none diverged."""
    found = []
    for k, vs in divergence_steps(scalars, seeds, **where).items():
        for i, v in enumerate(vs):
            if v >= 0:
                found.append(f"K={k_label(k)} seed {seeds[i]} at step {int(v)}")
    return f"; diverged (NaN: fails): {', '.join(found)}" if found else ""
