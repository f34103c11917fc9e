"""The class-blind surrogate's expected order (shared/CLAIMS.md, class_order): the fixed level
q p(c) log2(1/p(c)) is not neutral to class size, so a predictor with equal recall on every
class crosses it at an accuracy that depends on p(c) alone. From the test set's class shares,
the accuracy at which each class's expected per-class term (Schouten & Toonen 2023, eq. 3)
reaches its level, through the estimator the run uses."""

from __future__ import annotations

import numpy as np

from sgdclaims.info import Contingency

#: bisection steps of the crossing accuracy (2^-50 of the interval), and the decimals it is
#: rounded to, so that classes of equal size tie exactly
BISECTIONS, DECIMALS = 50, 9


def expected_terms(shares: np.ndarray, accuracy: np.ndarray) -> np.ndarray:
    """I(F;Y=c) in bits, (A, C), of the surrogate at accuracies (A,) on a test set with class
    shares p (C,): the plug-in per-class terms of its expected joint table, p(c) a where F = c
    and p(c) (1 - a) / (C - 1) for every other prediction."""
    p = np.asarray(shares, dtype=np.float64)
    a = np.asarray(accuracy, dtype=np.float64).reshape(-1, 1, 1)
    k = len(p)
    hit = np.eye(k)[None]
    joint = p[None, None, :] * (hit * a + (1.0 - hit) * (1.0 - a) / (k - 1))
    return np.asarray(Contingency(joint[..., None]).per_class_mutual_information())


def crossing_accuracy(shares: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """The accuracy a*_c (C,) at which the surrogate's expected I(F;Y=c) reaches levels[c]:
    0 at chance 1/C (F independent of Y), p(c) log2(1/p(c)) at 1, bisected in between."""
    p, level = np.asarray(shares, dtype=np.float64), np.asarray(levels, dtype=np.float64)
    if (p <= 0).any() or not np.isclose(p.sum(), 1.0):
        raise ValueError(f"shares must be positive and sum to 1, got {p}")
    lo, hi = np.full(len(p), 1.0 / len(p)), np.ones(len(p))
    for _ in range(BISECTIONS):
        mid = (lo + hi) / 2
        reached = np.diagonal(expected_terms(p, mid)) >= level
        lo, hi = np.where(reached, lo, mid), np.where(reached, mid, hi)
    return np.round(hi, DECIMALS)


def expected_times(shares: np.ndarray, levels: np.ndarray, final_accuracy: float) -> np.ndarray:
    """The surrogate's expected learning times in accuracy units (C,): a*_c as its accuracy
    rises, inf for a class whose a*_c the model's final accuracy never reaches."""
    cross = crossing_accuracy(shares, levels)
    return np.where(cross <= final_accuracy, cross, np.inf)
