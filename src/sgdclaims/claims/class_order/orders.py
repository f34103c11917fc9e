"""class_order's order statistics as pure functions of learning times (shared/CLAIMS.md,
class_order; Schouten & Toonen 2023, Sec. 4): Kendall's W and Spearman's rho of orders (no
order at all counts as no agreement; rounded to 12 decimals, so they compare exactly), the
paper's MNIST order, its conditions and its exact chance under ties, and the speed ratios of
vit_sooner with their seed-noise floor."""

from __future__ import annotations

import numpy as np

from sgdclaims import ranking

#: the paper's MNIST order (Sec. 4): 0 and 1 among the first three, 5 and 8 the last three
PAPER_FIRST, PAPER_LAST = (0, 1), (5, 8)
#: W and rho are rounded to 12 decimals: a value that is exactly 0.5 in rank arithmetic reads
#: 0.5, never 0.49999999999999994 in a "< 0.5" control's favour (CLAIMS.md, Falsifiability)
DECIMALS = 12


def concordance(tau: np.ndarray) -> float:
    """Kendall's W of the class ranks of tau (seeds, C); 0 where every seed ties every class
    (no seed orders anything, so there is no order to agree on)."""
    w = float(ranking.concordance(tau))
    return 0.0 if np.isnan(w) else round(w, DECIMALS)


def w_null(tau: np.ndarray, n_permutations: int, seed: int) -> np.ndarray:
    """The permutation null of `concordance`: W with each seed's ranks shuffled independently,
    0 where every shuffled seed ties every class (as the observed W)."""
    null = ranking.w_null(ranking.ranks(tau), n_permutations=n_permutations, seed=seed)
    return np.where(np.isnan(null), 0.0, np.round(null, DECIMALS))


def rho(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rho of two orders (inf last); 0 where either ties every class."""
    r = ranking.spearman(a, b)
    return 0.0 if np.isnan(r) else round(r, DECIMALS)


def paper_conditions(tau: np.ndarray) -> np.ndarray:
    """How many of paper_order's four conditions the order of tau (..., C) meets: class 0,
    class 1 among its first three, class 5, class 8 among its last three (ties share their
    average rank)."""
    r = ranking.ranks(tau)
    first = (r[..., list(PAPER_FIRST)] <= 3).sum(axis=-1)
    last = (r[..., list(PAPER_LAST)] >= tau.shape[-1] - 2).sum(axis=-1)
    return (first + last).astype(np.float64)


def paper_order_met(tau: np.ndarray) -> np.ndarray:
    """1 where the order of tau (..., C) has classes 0 and 1 among its first three and 5
    and 8 among its last three (ties share their average rank), else 0."""
    return (paper_conditions(tau) == len(PAPER_FIRST) + len(PAPER_LAST)).astype(np.float64)


def paper_order_chance(tau: np.ndarray) -> float:
    """The exact probability that a uniformly random assignment of the observed learning
    times (C,) to the classes meets paper_order: with a ranks <= 3 and b ranks >= C - 2
    among the observed (average) ranks, a(a-1) b(b-1) / (C(C-1)(C-2)(C-3)); 1/140 without
    ties."""
    r = ranking.ranks(tau)
    n = len(r)
    a, b = int((r <= 3).sum()), int((r >= n - 2).sum())
    return a * (a - 1) * b * (b - 1) / (n * (n - 1) * (n - 2) * (n - 3))


def mean_times(tau: np.ndarray, start: np.ndarray | float = 0.0) -> np.ndarray:
    """mean_c (tau_c - start) per seed from tau (seeds, C) and a start per seed; NaN for a
    seed with an infinite tau (CLAIMS.md: it gives NaN, which fails)."""
    tau = np.asarray(tau, dtype=np.float64)
    with np.errstate(invalid="ignore"):  # inf - inf: a class never learned, a warm-up never ended
        mean = (tau - np.asarray(start, dtype=np.float64).reshape(-1, 1)).mean(axis=1)
    return np.where(np.isfinite(mean), mean, np.nan)


def ratios(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator per seed; NaN where it is not a finite number."""
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.asarray(numerator, dtype=np.float64) / np.asarray(denominator, dtype=np.float64)
    return np.where(np.isfinite(r), r, np.nan)


def geometric_mean(values: np.ndarray) -> float:
    """The geometric mean of non-negative ratios; NaN if any is NaN or negative."""
    values = np.asarray(values, dtype=np.float64)
    if np.isnan(values).any() or (values < 0).any():
        return float("nan")
    if (values == 0).any():
        return 0.0
    return float(np.exp(np.log(values).mean()))


def noise_floor(mean_tau: np.ndarray) -> float:
    """The smallest ratio mean_c tau_c(seed i) / mean_c tau_c(seed j) over two distinct seeds
    of one model (the seed-noise floor of vit_sooner); NaN if a seed's mean is NaN."""
    m = np.asarray(mean_tau, dtype=np.float64)
    if np.isnan(m).any() or len(m) < 2:
        return float("nan")
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(m.min() / m.max()) if m.max() > 0 else float("nan")
