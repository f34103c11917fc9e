"""eg_scaling's small statistics on its tables: least-squares lines, the signed R^2 of a trend,
the log-scale deviation of two eps_g curves (Fig. 1b), permutation means of a statistic, and
the per-K and per-L tables of certified eps_g* and SGD asymptotes (Fig. 2a, 3c)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from sgdclaims.ranking import permuted_classes, spearman


def line_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Least-squares slope, intercept and R^2 of y against x (NaN anywhere gives NaN)."""
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


def log_deviation(a: np.ndarray, b: np.ndarray) -> float:
    """Median over checkpoints of |log10 a - log10 b| (NaN if either holds a non-positive
    or non-finite value: a diverged run fails)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if not (np.isfinite(a).all() and np.isfinite(b).all() and (a > 0).all() and (b > 0).all()):
        return float("nan")
    return float(np.median(np.abs(np.log10(a) - np.log10(b))))


def permutation_mean(
    statistic: Callable[[np.ndarray, np.ndarray], float],
    x: np.ndarray,
    table: np.ndarray,
    *,
    draws: int = 200,
    seed: int = 0,
) -> float:
    """Mean of statistic(x, column means of `table` (seeds, len(x))) over `draws` relabellings
    in which every seed's values are assigned to x by an independent random permutation."""
    table = np.asarray(table, dtype=np.float64)
    values = [statistic(x, permuted_classes(table, seed + i).mean(axis=0)) for i in range(draws)]
    return float(np.mean(values))


def spearman_or_nan(a: np.ndarray, b: np.ndarray) -> float:
    """ranking.spearman, or NaN where either vector holds NaN (a failed run fails)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if np.isnan(a).any() or np.isnan(b).any():
        return float("nan")
    return spearman(a, b)


def nanmax(values: np.ndarray) -> float:
    """The largest non-NaN value; NaN when there is none (no warning)."""
    values = np.asarray(values, dtype=np.float64)
    return float(np.nanmax(values)) if np.isfinite(values).any() else float("nan")


def per_k(frame: pd.DataFrame, column: str, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """K values and the (start, K) table of `column` / scale, NaN where not certified."""
    value = frame[column].where(frame["certified"].astype(bool), np.nan) / scale
    table = frame.assign(value=value).pivot(index="start", columns="k", values="value")
    return table.columns.to_numpy(), table.to_numpy()


def k_means(table: np.ndarray) -> np.ndarray:
    """Column means over the finite entries (NaN for a column without one)."""
    table = np.asarray(table, dtype=np.float64)
    return np.array([c[np.isfinite(c)].mean() if np.isfinite(c).any() else np.nan for c in table.T])


def trend(
    frame: pd.DataFrame,
    column: str,
    statistic: Callable[[np.ndarray, np.ndarray], float],
    scale: float,
) -> tuple[np.ndarray, float, list[float], float, np.ndarray]:
    """L values, statistic(L, per-L mean over seeds), the same per seed, its permutation mean
    (each seed's values assigned to L at random: the control) and the per-L means."""
    table = frame.pivot(index="seed", columns="L", values=column)
    ls, values = table.columns.to_numpy(dtype=float), table.to_numpy() / scale
    per_seed = [statistic(ls, row) for row in values]
    means = values.mean(0)
    return ls, statistic(ls, means), per_seed, permutation_mean(statistic, ls, values), means


def deviations(frame: pd.DataFrame, n: int, ode: str = "eps_ode", k_ode: int = 0) -> pd.Series:
    """Median |log10 eps_SGD - log10 eps_ODE| per (K, seed) at size n (Fig. 1b); the ODE of
    the same run, or of K = k_ode from the same seed."""
    at_n = frame[frame.n == n]
    out = {}
    for (k, seed), run_ in at_n.groupby(["k", "seed"]):
        twin = at_n[(at_n.k == (k_ode or k)) & (at_n.seed == seed)]
        out[(k, seed)] = log_deviation(run_.eps_sgd.to_numpy(), twin[ode].to_numpy())
    return pd.Series(out).rename_axis(["k", "seed"])


def line(ks: np.ndarray, table: np.ndarray, m: int) -> tuple[float, float, list, list]:
    """Slope and R^2 of the per-K means against L = K - M, and of each start's values."""
    slope, _, r2 = line_fit(ks - m, k_means(table))
    per = [line_fit(ks - m, row) for row in table]
    return slope, r2, [p[0] for p in per], [p[2] for p in per]
