"""Learning times and rank statistics for the order in which classes are learned (Schouten &
Toonen 2023, Sec. 4): tau_c, Kendall's W and Spearman's rho with permutation p-values, class
relabellings. The project's one Spearman and one Kendall W.

A learning time is the first checkpoint at which a per-class curve reaches a fraction of
its final value (CLAIMS.md, class_order); a class whose final value is not positive was
never learned and gets tau = inf, which ranks last. Ranks are 1 = learned first, ties
share their average rank.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

#: CLAIMS.md: tau_c is where I(F_t;Y=c) first reaches half of its final value
HALF = 0.5


def learning_times(
    curves: np.ndarray,
    steps: np.ndarray,
    *,
    fraction: float = HALF,
    sustained: bool = False,
    final: np.ndarray | None = None,
) -> np.ndarray:
    """First step at which each curve reaches `fraction` of its final value, (..., C) from
    curves (..., T, C) over steps (T,); inf where the final value is not positive.

    sustained: the first step from which the curve stays at or above that level (used for
    recall, which is 1 at initialisation for the one class an untrained model predicts).
    final: the final values (..., C) (e.g. curves.final_value, the mean over the last 5% of
    the run); None takes the last checkpoint.
    """
    curves = np.asarray(curves, dtype=np.float64)
    steps = np.asarray(steps, dtype=np.float64)
    if curves.ndim < 2:
        raise ValueError(f"curves must be (..., T, C), got shape {curves.shape}")
    if steps.shape != (curves.shape[-2],):
        raise ValueError(f"steps must be ({curves.shape[-2]},) to match curves, got {steps.shape}")
    if np.any(np.diff(steps) <= 0):
        raise ValueError("steps must be strictly increasing")
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    if not np.all(np.isfinite(curves)):
        raise ValueError("curves must be finite")
    if final is None:
        final = curves[..., -1:, :]
    else:
        final = np.asarray(final, dtype=np.float64)[..., None, :]
        if final.shape[:-2] + final.shape[-1:] != curves.shape[:-2] + curves.shape[-1:]:
            raise ValueError(f"final {final.shape} does not match curves {curves.shape}")
    reached = curves >= fraction * final
    if sustained:
        below_after = np.flip(np.cumsum(np.flip(~reached, axis=-2), axis=-2), axis=-2) > 0
        reached = ~below_after
    first = np.argmax(reached, axis=-2)
    tau = steps[first]
    return np.where(final[..., 0, :] > 0, tau, np.inf)


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


def kendalls_w_test(
    values: np.ndarray, *, n_permutations: int = 9999, seed: int = 0
) -> tuple[float, float]:
    """Kendall's W of the rows of `values` (m raters, n items; smaller = earlier) and its
    permutation p-value: each rater's ranks shuffled independently, p = (1 + #{W* >= W}) /
    (1 + n_permutations)."""
    if n_permutations < 1:
        raise ValueError(f"n_permutations must be >= 1, got {n_permutations}")
    r = ranks(values)
    w = float(kendalls_w(r))
    return w, permutation_p(w, w_null(r, n_permutations=n_permutations, seed=seed))


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


def relabellings(values: np.ndarray, count: int, seed: int) -> np.ndarray:
    """`count` independent draws of permuted_classes: (count, m, n) from (m, n) values."""
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    rng = np.random.default_rng(seed)
    return np.stack([permuted_classes(values, int(s)) for s in rng.integers(0, 2**31, count)])


def permuted_classes(values: np.ndarray, seed: int) -> np.ndarray:
    """The control of CLAIMS.md: every row (seed) of (m, n) per-class values with its class
    labels relabelled by an independent random permutation."""
    values = np.asarray(values)
    if values.ndim != 2:
        raise ValueError(f"values must be (seeds, classes), got shape {values.shape}")
    rng = np.random.default_rng(seed)
    perms = np.stack([rng.permutation(values.shape[1]) for _ in range(values.shape[0])])
    return np.take_along_axis(values, perms, axis=1)
