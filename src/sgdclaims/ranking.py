"""Learning times and rank statistics for the order in which classes are learned (Schouten &
Toonen 2023, Sec. 4): tau_c, Kendall's W and Spearman's rho with permutation p-values, a
class relabelling. The project's one Spearman and one Kendall W.

A learning time is the first checkpoint from which a per-class curve stays at or above a
fixed level to the end of the run (CLAIMS.md, class_order); a curve that ends below its
level was never learned and gets tau = inf, which ranks last. Ranks are 1 = learned first,
ties share their average rank.
"""

from __future__ import annotations

import numpy as np
from scipy import stats


def learning_times(curves: np.ndarray, steps: np.ndarray, level: np.ndarray | float) -> np.ndarray:
    """First step from which each curve stays at or above `level` to the end, (..., C) from
    curves (..., T, C) over steps (T,) and levels broadcasting to (..., C); inf where the
    curve ends below its level (never learned)."""
    curves = np.asarray(curves, dtype=np.float64)
    steps = np.asarray(steps, dtype=np.float64)
    if curves.ndim < 2:
        raise ValueError(f"curves must be (..., T, C), got shape {curves.shape}")
    if steps.shape != (curves.shape[-2],):
        raise ValueError(f"steps must be ({curves.shape[-2]},) to match curves, got {steps.shape}")
    if np.any(np.diff(steps) <= 0):
        raise ValueError("steps must be strictly increasing")
    if not np.all(np.isfinite(curves)):
        raise ValueError("curves must be finite")
    level = np.asarray(level, dtype=np.float64)
    if not np.all(np.isfinite(level)):
        raise ValueError("level must be finite")
    below = curves < level[..., None, :] if level.ndim else curves < level
    # below_after[t]: the curve is below its level at t or at some later checkpoint
    below_after = np.flip(np.cumsum(np.flip(below, axis=-2), axis=-2), axis=-2) > 0
    first = np.argmax(~below_after, axis=-2)
    return np.where(below_after[..., -1, :], np.inf, steps[first])


def ranks(values: np.ndarray) -> np.ndarray:
    """Ranks along the last axis (1 = smallest, ties averaged, inf last)."""
    values = np.asarray(values, dtype=np.float64)
    if np.isnan(values).any():
        raise ValueError("values must not be NaN")
    return stats.rankdata(values, axis=-1)


def kendalls_w(rank_table: np.ndarray) -> np.ndarray:
    """Kendall's coefficient of concordance W of m raters ranking n items, from a (..., m, n)
    table of ranks (each row a ranking, ties averaged), with the tie correction."""
    r = np.asarray(rank_table, dtype=np.float64)
    if r.ndim < 2 or r.shape[-2] < 2 or r.shape[-1] < 2:
        raise ValueError(f"need (..., m >= 2 raters, n >= 2 items) ranks, got shape {r.shape}")
    m, n = r.shape[-2], r.shape[-1]
    totals = r.sum(axis=-2)
    s = ((totals - totals.mean(axis=-1, keepdims=True)) ** 2).sum(axis=-1)
    ties = np.zeros(r.shape[:-1])
    for value in np.unique(r):
        t = (r == value).sum(axis=-1)
        ties = ties + (t**3 - t)
    denom = m**2 * (n**3 - n) - m * ties.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        w = 12 * s / denom
    return np.where(denom > 0, w, np.nan)


def concordance(values: np.ndarray) -> np.ndarray:
    """Kendall's W of the rows of `values` (..., m raters, n items; smaller = earlier)."""
    return kendalls_w(ranks(values))


def w_null(rank_table: np.ndarray, *, n_permutations: int = 9999, seed: int = 0) -> np.ndarray:
    """Kendall's W of `n_permutations` tables whose rows are the rows of `rank_table`
    (m, n), each shuffled independently: the permutation null of W. It depends only on each
    rater's multiset of ranks, so it also serves any relabelling of the items."""
    if n_permutations < 1:
        raise ValueError(f"n_permutations must be >= 1, got {n_permutations}")
    r = np.asarray(rank_table, dtype=np.float64)
    rng = np.random.default_rng(seed)
    order = np.argsort(rng.random((n_permutations, *r.shape)), axis=-1)
    return kendalls_w(np.take_along_axis(np.broadcast_to(r, order.shape), order, axis=-1))


def permutation_p(observed: float | np.ndarray, null: np.ndarray) -> np.ndarray | float:
    """One-sided permutation p-value (1 + #{null >= observed}) / (1 + len(null)), for one
    observed value or an array of them; NaN for a NaN observation."""
    obs = np.asarray(observed, dtype=np.float64)
    null = np.asarray(null, dtype=np.float64).ravel()
    hits = (null[:, None] >= obs.ravel()[None, :] - 1e-12).sum(axis=0)
    p = np.where(np.isnan(obs.ravel()), np.nan, (1 + hits) / (1 + len(null)))
    return float(p[0]) if obs.ndim == 0 else p.reshape(obs.shape)


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rho of two equally long vectors (inf ranks last); NaN if one is constant."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1 or len(a) < 2:
        raise ValueError(f"need two vectors of equal length >= 2, got {a.shape} and {b.shape}")
    ra, rb = ranks(a), ranks(b)
    if np.ptp(ra) == 0 or np.ptp(rb) == 0:
        return float("nan")
    return float(stats.spearmanr(ra, rb).statistic)


def spearman_test(
    a: np.ndarray, b: np.ndarray, *, n_permutations: int = 9999, seed: int = 0
) -> tuple[float, float]:
    """Spearman's rho of a and b (inf ranks last) and its one-sided permutation p-value:
    the items of `a` shuffled, p = (1 + #{rho* >= rho}) / (1 + n_permutations)."""
    rho = spearman(a, b)
    if n_permutations < 1:
        raise ValueError(f"n_permutations must be >= 1, got {n_permutations}")
    ra, rb = ranks(np.asarray(a, dtype=np.float64)), ranks(np.asarray(b, dtype=np.float64))
    rng = np.random.default_rng(seed)
    shuffled = np.take_along_axis(
        np.broadcast_to(ra, (n_permutations, len(ra))),
        np.argsort(rng.random((n_permutations, len(ra))), axis=-1),
        axis=-1,
    )
    x = shuffled - shuffled.mean(axis=-1, keepdims=True)
    y = rb - rb.mean()
    with np.errstate(invalid="ignore", divide="ignore"):
        null = (x @ y) / np.sqrt((x**2).sum(axis=-1) * (y**2).sum())
    return rho, permutation_p(rho, null)
