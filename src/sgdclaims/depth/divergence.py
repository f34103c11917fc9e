"""Reading partly-linear experiments (Pinson et al., Sec. 2-3, Fig. 1-2; shared/CLAIMS.md,
depth_wave): Savitzky-Golay smoothing, the persistent divergence point d(k) of two accuracy
curves, the first evaluation t_neg(l) at which a layer's mean preactivation is negative, and
Spearman's rho of an order with its shuffle (permutation) null, compared exactly."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
from scipy.signal import savgol_filter

from sgdclaims.ranking import permutation_p, ranks

SAVGOL_WINDOW = 5
SAVGOL_ORDER = 2
DIVERGENCE_RATIO = 0.95
#: d(k) is looked for only where the smoothed main accuracy is at least this x chance ...
ABOVE_CHANCE = 2.0
#: ... and not among the first this many evaluations (smoothing's edge, the first rise)
SKIP_EVALUATIONS = 2
NEGATIVE_MEAN = -0.05
#: shuffles of a permutation null when there are more permutations than this
SHUFFLES = 9999


def smooth(curve: np.ndarray, window: int = SAVGOL_WINDOW, order: int = SAVGOL_ORDER) -> np.ndarray:
    """Savitzky-Golay smoothing along the last axis (window 5, order 2, as the paper)."""
    curve = np.asarray(curve, dtype=float)
    if curve.shape[-1] < window:
        raise ValueError(f"need at least {window} evaluations to smooth, got {curve.shape[-1]}")
    return savgol_filter(curve, window, order, axis=-1)


def divergence_step(
    steps: np.ndarray,
    acc_main: np.ndarray,
    acc_variant: np.ndarray,
    chance: float,
    *,
    ratio: float = DIVERGENCE_RATIO,
) -> np.ndarray | float:
    """d(k), the persistent divergence: the first evaluation step, among those where the
    smoothed main accuracy is at least 2 x chance and not among the first 2 evaluations, from
    which the smoothed variant accuracy stays below ratio x the smoothed main accuracy at
    every later evaluation; inf if none, NaN if either curve holds NaN. Curves (..., T)."""
    steps = np.asarray(steps, dtype=float)
    main, variant = np.broadcast_arrays(np.asarray(acc_main, float), np.asarray(acc_variant, float))
    if not len(steps) == main.shape[-1]:
        raise ValueError("steps, acc_main and acc_variant must have the same length")
    if not 0 < chance < 1:
        raise ValueError(f"chance must be in (0, 1), got {chance}")
    bad = np.isnan(main).any(-1) | np.isnan(variant).any(-1)
    main, variant = smooth(np.nan_to_num(main)), smooth(np.nan_to_num(variant))
    below = variant < ratio * main
    persistent = np.flip(np.logical_and.accumulate(np.flip(below, -1), axis=-1), -1)
    eligible = (main >= ABOVE_CHANCE * chance) & (np.arange(len(steps)) >= SKIP_EVALUATIONS)
    hit = persistent & eligible
    d = np.where(hit.any(-1), steps[np.argmax(hit, axis=-1)], np.inf)
    d = np.where(bad, np.nan, d)
    return float(d) if d.ndim == 0 else d


def first_negative_step(
    steps: np.ndarray, preact: np.ndarray, threshold: float = NEGATIVE_MEAN
) -> np.ndarray:
    """t_neg(l) per layer: first evaluation step where the mean preactivation (layers, T) is
    below threshold; inf for a layer that never goes below it."""
    preact = np.atleast_2d(np.asarray(preact, dtype=float))
    if preact.shape[-1] != len(steps):
        raise ValueError(f"preact has {preact.shape[-1]} evaluations, steps has {len(steps)}")
    below = preact < threshold
    first = np.asarray(steps, dtype=float)[np.argmax(below, axis=-1)]
    return np.where(below.any(axis=-1), first, np.inf)


def rank_correlations(x: np.ndarray, orders: np.ndarray) -> np.ndarray:
    """Spearman's rho of x (n,) with each row of orders (..., n) (inf ranks last, ties
    averaged), as Pearson's r of the ranks; NaN where either side is constant or holds NaN.
    Rounded to 12 decimals (without ties rho is a ratio of small integers), so that
    rho = -0.8 compares exactly (CLAIMS.md: rank statistics are compared exactly)."""
    x, orders = np.asarray(x, dtype=float), np.asarray(orders, dtype=float)
    if np.isnan(x).any() or np.isnan(orders).any():
        return np.full(orders.shape[:-1], np.nan)
    rx, ry = ranks(x), ranks(orders)
    dx, dy = rx - rx.mean(), ry - ry.mean(-1, keepdims=True)
    norm = np.sqrt((dx**2).sum() * (dy**2).sum(-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = np.where(norm > 0, (dy @ dx) / np.where(norm > 0, norm, 1.0), np.nan)
    return np.round(rho, 12)


def shuffles(n: int, rng: np.random.Generator, count: int = SHUFFLES) -> np.ndarray:
    """Index permutations of n items: all n! of them when there are at most `count`, else
    `count` seeded draws."""
    if math.factorial(n) <= count:
        return np.array(list(itertools.permutations(range(n))), dtype=np.int64).reshape(-1, n)
    return np.argsort(rng.random((count, n)), axis=-1)


def shuffle_p(
    x: Sequence[np.ndarray], y: Sequence[np.ndarray], seed: int = 0
) -> tuple[float, float]:
    """The mean over groups g of Spearman's rho(x[g], y[g]) and its one-sided (lower) shuffle
    p-value: each group's y shuffled independently (every permutation when one group has at
    most SHUFFLES of them); p = (1 + #{null <= rho}) / (1 + draws) with a 1e-12 tolerance,
    NaN when rho is NaN (fewer than 2 items or a constant side in some group)."""
    rng = np.random.default_rng(seed)
    if not x or any(len(a) < 2 for a in x):
        return float("nan"), float("nan")
    rho = float(np.mean([rank_correlations(a, np.asarray(b)) for a, b in zip(x, y)]))
    if np.isnan(rho):
        return rho, float("nan")
    if len(x) == 1:
        perms = [shuffles(len(x[0]), rng)]
    else:
        perms = [np.argsort(rng.random((SHUFFLES, len(a))), axis=-1) for a in x]
    null = np.mean([rank_correlations(a, np.asarray(b)[p]) for a, b, p in zip(x, y, perms)], axis=0)
    return rho, float(permutation_p(-rho, -null))
