"""depth_wave's measurements on read-back curves (shared/CLAIMS.md, depth_wave; Pinson et al.,
Sec. 2-3): the rank correlation of d(k) with depth and its shuffle p, d between the twin
groups, t_neg per layer in train mode with its rank correlation and layer-shuffle p, the
final preactivation means and mu between runs."""

from __future__ import annotations

import numpy as np

from sgdclaims.claims.depth_wave.curves import MAIN, Curves, preactivation_curves
from sgdclaims.curves import final_mask, final_value
from sgdclaims.depth import divergence_step, first_negative_step, rank_correlations, shuffle_p
from sgdclaims.info import performance_correlation
from sgdclaims.runner import Result


def first_ks(c: Curves) -> list[str]:
    """The first-k variants the wave statistic ranks: k in {2..all} (the main model out)."""
    return [lab for lab in c.first if lab != MAIN]


def wave_rho(c: Curves, labels: list[str], d: np.ndarray) -> float:
    """Spearman rho(k, d(k)) over the members `labels` (inf ranks last; NaN if either side
    is constant or a d is NaN), rounded to 12 decimals so that rational values compare
    exactly (rho = -0.8 meets <= -0.8)."""
    return float(rank_correlations([c.depth(lab) for lab in labels], np.asarray(d)))


def wave_p(c: Curves, labels: list[str], d: np.ndarray) -> float:
    """One-sided p of wave_rho against every order of the d(k) (exact enumeration)."""
    return shuffle_p([np.array([c.depth(lab) for lab in labels])], [np.asarray(d)])[1]


def twin_divergence(c: Curves) -> tuple[float, float]:
    """d between the two twin groups' seed-mean curves, each group as the main model."""
    a, b = (c.of(t).mean(0) for t in c.twins)
    return (
        float(divergence_step(c.steps, a, b, c.chance)),
        float(divergence_step(c.steps, b, a, c.chance)),
    )


def deep_first(result: Result) -> tuple[list[np.ndarray], list[float], float]:
    """t_neg per layer and seed (the first evaluation after step 0 where the main model's
    train-mode layer mean is below -0.05), each seed's Spearman rho(l, t_neg(l)) over the
    layers that turn, and the layer-shuffle p of their mean."""
    steps, pre = preactivation_curves(result, MAIN)
    after = steps > 0
    t_neg = [first_negative_step(steps[after], p[:, after]) for p in pre]
    layers = [np.flatnonzero(np.isfinite(t)) for t in t_neg]
    rhos = [
        float(rank_correlations(idx, t[idx])) if len(idx) > 1 else float("nan")
        for idx, t in zip(layers, t_neg)
    ]
    _, p = shuffle_p(layers, [t[idx] for idx, t in zip(layers, t_neg)])
    return t_neg, rhos, p


def layer_means(result: Result, variant: str) -> np.ndarray:
    """(seeds,) final value of the mean over layers of |train-mode preactivation mean|."""
    steps, pre = preactivation_curves(result, variant)
    return final_value(steps, np.abs(pre).mean(1))


def mu_between(result: Result, c: Curves) -> tuple[list[float], dict[str, float]]:
    """Per seed, mu_Y(M_i;M_j) (bits) between the main model and its twins and between the
    twins (mean of the three pairs), and mu_Y(M;P_k) per member (seed means), from the
    final checkpoints' predictions."""
    tail = final_mask(c.steps)
    y = result.arrays[result.units[0]]["y_test"]

    def mu(f: np.ndarray, g: np.ndarray) -> float:
        return float(np.mean(performance_correlation(f, y, g)))

    preds = [result.arrays[u]["preds"][:, tail] for u in result.units]
    main = c.labels.index(MAIN)
    a, b = (c.labels.index(t) for t in c.twins)
    between = [
        float(np.mean([mu(p[main], p[a]), mu(p[main], p[b]), mu(p[a], p[b])])) for p in preds
    ]
    variants = {
        f"mu(M;P_{lab})": float(np.mean([mu(p[main], p[i]) for p in preds]))
        for i, lab in enumerate(c.labels)
        if lab != MAIN
    }
    return between, variants
