"""Report figures of depth_wave: accuracy of the main and partly-linear models and their
differences (Pinson et al., Fig. 1), and the depth x time heat map of the main model's
mean preactivations with divergence points and the wavefront drawn on it (Fig. 2)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure

from sgdclaims.depth import NEGATIVE_MEAN, first_negative_step, smooth
from sgdclaims.experiments.depth_wave import (
    accuracy_curves,
    preactivation_curves,
    variant_depth,
)


def accuracy_figure(result, divergence: dict[str, float]) -> Figure:
    """Seed-mean test accuracy per variant (left) and smoothed accuracy minus the main
    model's (right), with each variant's divergence step d(k) marked."""
    steps, labels, acc = accuracy_curves(result)
    mean = acc.mean(axis=0)
    colours = plt.cm.viridis(np.linspace(0, 0.9, len(labels)))
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
    for lab, curve, colour in zip(labels, mean, colours):
        name = "main (k=0)" if lab == "0" else f"k={lab}"
        left.plot(steps, curve, color=colour, lw=1.5, label=name)
        diff = smooth(curve) - smooth(mean[0])
        right.plot(steps, diff, color=colour, lw=1.5, label=name)
        d = divergence.get(lab, np.inf)
        if np.isfinite(d):
            at = int(np.searchsorted(steps, d))
            right.plot([d], [diff[at]], "o", color=colour, ms=7, mec="black")
    right.axhline(0, color="grey", lw=0.8)
    left.set(xlabel="training step", ylabel="test accuracy (seed mean)",
             title="main and partly-linear models")  # fmt: skip
    right.set(xlabel="training step", ylabel="smoothed accuracy − main (fraction)",
              title="difference to main; dots: divergence step d(k)")  # fmt: skip
    left.legend(fontsize=8)
    return fig


def preactivation_heatmap(result, divergence: dict[str, float], variant: str = "0") -> Figure:
    """Depth x time heat map of the seed-mean mean preactivation of `variant` (blue < 0 <
    red), with t_neg(l) (black x), the divergence steps d(k) placed at depth k (white dots)
    and the wavefront through them."""
    steps, pre = preactivation_curves(result, variant)
    mean = pre.mean(axis=0)
    n_layers = mean.shape[0]
    fig, ax = plt.subplots(figsize=(9, 4.5), constrained_layout=True)
    lim = max(float(np.abs(mean).max()), 1e-3)
    image = ax.imshow(
        mean, aspect="auto", origin="lower", cmap="RdBu_r",
        norm=TwoSlopeNorm(0.0, -lim, lim),
        extent=(steps[0], steps[-1], -0.5, n_layers - 0.5),
    )  # fmt: skip
    fig.colorbar(image, ax=ax, label="mean preactivation (BN output)")
    trained = steps > 0
    t_neg = first_negative_step(steps[trained], mean[:, trained])
    finite = np.isfinite(t_neg)
    ax.plot(t_neg[finite], np.flatnonzero(finite), "x", color="black", ms=8,
            label=f"t_neg(l): first mean < {NEGATIVE_MEAN}")  # fmt: skip
    points = sorted(
        (variant_depth(lab, n_layers) - 1, d)
        for lab, d in divergence.items()
        if lab != "0" and np.isfinite(d)
    )
    if points:
        depth, step = zip(*points)
        ax.plot(step, depth, "-o", color="white", mec="black", ms=7,
                label="d(k) at depth k; line: wavefront")  # fmt: skip
    name = "main model" if variant == "0" else f"variant k={variant}"
    ax.set(xlabel="training step", ylabel="layer (0 = input side)",
           title=f"mean preactivations of the {name}")  # fmt: skip
    ax.legend(fontsize=8, loc="upper right")
    return fig
