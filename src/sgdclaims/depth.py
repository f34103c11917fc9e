"""Depth-wave measurements of Pinson et al. (Sec. 2-3): mean preactivations per layer and
member, Savitzky-Golay smoothed accuracy curves, the divergence step d(k) of partly-linear
variants, and the step t_neg(l) at which a layer's mean preactivation turns negative."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from scipy.signal import savgol_filter
from scipy.stats import spearmanr
from torch import nn

SAVGOL_WINDOW = 5
SAVGOL_ORDER = 2
DIVERGENCE_RATIO = 0.95
NEGATIVE_MEAN = -0.05


def _switches(model: nn.Module) -> list[nn.Module]:
    if not hasattr(model, "switches"):
        raise TypeError(f"{type(model).__name__} has no switches(); use a switchable model")
    return list(model.switches())


@torch.no_grad()
def preactivation_means(model: nn.Module, x: torch.Tensor) -> np.ndarray:
    """(members, layers) mean of each layer's preactivation (the BN output feeding its
    activation) over the samples `x`, channels and positions, in eval mode (their Fig. 2)."""
    switches = _switches(model)
    means: list[torch.Tensor | None] = [None] * len(switches)

    def hook_for(layer: int):
        def hook(module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
            z = inputs[0]
            per_member = z.reshape(len(z), module.members, -1)
            means[layer] = per_member.mean(dim=(0, 2)).float().cpu()

        return hook

    handles = [s.register_forward_pre_hook(hook_for(i)) for i, s in enumerate(switches)]
    was_training = model.training
    model.eval()
    try:
        model(x)
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return torch.stack(means, dim=1).numpy()


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
) -> float:
    """d(k): the first evaluation step, among those where the smoothed main accuracy is at
    least 2 x chance, at which the smoothed variant accuracy is below ratio x main; inf if
    never (CLAIMS.md, depth_wave). Inputs are seed-mean curves, smoothed here."""
    steps = np.asarray(steps)
    if not (len(steps) == np.shape(acc_main)[-1] == np.shape(acc_variant)[-1]):
        raise ValueError("steps, acc_main and acc_variant must have the same length")
    if not 0 < chance < 1:
        raise ValueError(f"chance must be in (0, 1), got {chance}")
    main, variant = smooth(acc_main), smooth(acc_variant)
    hit = (main >= 2 * chance) & (variant < ratio * main)
    return float(steps[np.argmax(hit)]) if hit.any() else float("inf")


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


def rank_correlation(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman rho with infinite values ranked last (tied among themselves); nan if either
    side is constant."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) != len(y) or len(x) < 2:
        raise ValueError(f"need two equal-length sequences of >= 2 values, got {len(x)}, {len(y)}")
    if np.ptp(np.nan_to_num(x, posinf=1e300)) == 0 or np.ptp(np.nan_to_num(y, posinf=1e300)) == 0:
        return float("nan")
    return float(spearmanr(x, y).statistic)


def deep_first_correlation(steps: np.ndarray, preact: np.ndarray) -> tuple[float, np.ndarray]:
    """Spearman rho(l, t_neg(l)) over the layers that do go negative (nan if fewer than
    two do), and t_neg per layer."""
    t_neg = first_negative_step(steps, preact)
    layers = np.flatnonzero(np.isfinite(t_neg))
    if len(layers) < 2:
        return float("nan"), t_neg
    return rank_correlation(layers, t_neg[layers]), t_neg
