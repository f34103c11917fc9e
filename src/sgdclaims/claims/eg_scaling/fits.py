"""eg_scaling's small statistics on its tables: least-squares lines, the signed R^2 of a trend,
Spearman's rho and its exact permutation p-value, and the log-scale deviation of two eps_g
curves (Fig. 1b)."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import pandas as pd

from sgdclaims.ranking import spearman


def line_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Least-squares slope, intercept and R^2 of y against x (NaN anywhere gives NaN; R^2 is
    NaN for y constant: a flat line explains nothing)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1 or len(x) < 2:
        raise ValueError(f"need two vectors of equal length >= 2, got {x.shape}, {y.shape}")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        return (float("nan"),) * 3
    slope, intercept = np.polyfit(x, y, 1)
    ss = float(((y - y.mean()) ** 2).sum())
    resid = float(((y - (slope * x + intercept)) ** 2).sum())
    r2 = 1 - resid / ss if ss > 0 else float("nan")
    return float(slope), float(intercept), float(r2)


def signed_r2(x: np.ndarray, y: np.ndarray) -> float:
    """R^2 of the line through (x, y) with the sign of its slope: >= c for c > 0 exactly when
    the slope is positive and R^2 >= c."""
    slope, _, r2 = line_fit(x, y)
    return float(np.sign(slope) * r2)


def spearman_or_nan(a: np.ndarray, b: np.ndarray) -> float:
    """ranking.spearman, or NaN where either vector holds NaN or has fewer than 2 entries (a
    failed run fails)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if len(a) < 2 or np.isnan(a).any() or np.isnan(b).any():
        return float("nan")
    return spearman(a, b)


def permutation_p(
    statistic: Callable[[np.ndarray, np.ndarray], float],
    x: np.ndarray,
    y: np.ndarray,
    *,
    lower: bool = False,
) -> float:
    """Exact permutation p-value of statistic(x, y): the share of all orderings of y whose
    statistic is at least the observed one (at most it, `lower`), the observed ordering
    included; NaN for a NaN observation or fewer than 2 points."""
    observed = statistic(x, y)
    if len(y) < 2 or np.isnan(observed):
        return float("nan")
    null = np.array([statistic(x, np.asarray(p)) for p in itertools.permutations(y)])
    hits = null <= observed + 1e-12 if lower else null >= observed - 1e-12
    return float(np.mean(hits))


def log_deviation(a: np.ndarray, b: np.ndarray) -> float:
    """Median over checkpoints of |log10 a - log10 b| (NaN if either holds a non-positive
    or non-finite value: a diverged run fails)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if not (np.isfinite(a).all() and np.isfinite(b).all() and (a > 0).all() and (b > 0).all()):
        return float("nan")
    return float(np.median(np.abs(np.log10(a) - np.log10(b))))


def deviations(frame: pd.DataFrame, n: int, k_ode: int = 0) -> pd.Series:
    """Median over the checkpoints uniform in alpha (column `uniform`) of |log10 eps_SGD -
    log10 eps_ODE| per (K, seed) at size n (Fig. 1b); the ODE of the same run, or of K = k_ode
    from the same seed."""
    at_n = frame[(frame.n == n) & frame.uniform.astype(bool)]
    out = {}
    for (k, seed), run_ in at_n.groupby(["k", "seed"]):
        twin = at_n[(at_n.k == (k_ode or k)) & (at_n.seed == seed)]
        out[(k, seed)] = log_deviation(run_.eps_sgd.to_numpy(), twin.eps_ode.to_numpy())
    return pd.Series(out).rename_axis(["k", "seed"])


def nanmax(values: np.ndarray) -> float:
    """The largest non-NaN value; NaN when there is none (no warning)."""
    values = np.asarray(values, dtype=np.float64)
    return float(np.nanmax(values)) if np.isfinite(values).any() else float("nan")


def median_or_nan(values: np.ndarray) -> float:
    """The median; NaN for no values or any NaN among them."""
    values = np.asarray(values, dtype=np.float64)
    return float(np.median(values)) if len(values) else float("nan")


def settled_table(frame: pd.DataFrame, scale: float) -> pd.DataFrame:
    """eps_reached / scale of every (start, K), NaN where the start did not settle."""
    value = (frame.eps_reached / scale).where(frame.settled.astype(bool))
    return frame.assign(v=value).pivot(index="start", columns="k", values="v")


def settled_medians(table: pd.DataFrame, rows: np.ndarray | None = None) -> np.ndarray:
    """The median over the settled starts (or a resample of the starts) of every K."""
    t = table if rows is None else table.iloc[rows]
    return np.array([median_or_nan(t[k].dropna()) for k in t.columns])
