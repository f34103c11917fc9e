"""depth_wave's figures (Pinson et al.): their Fig. 1 (accuracy of the partly-linear models and
the last-k control, divergence points) and Fig. 2 (the depth x time heat map of train-mode
mean preactivations with t_neg and d(k)), and the tables, drawn from stored data."""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import TwoSlopeNorm

from sgdclaims.claims.depth_wave.tables import (
    divergence_table,
    figure_data,
    name,
    t_neg_table,
)
from sgdclaims.depth import NEGATIVE_MEAN, smooth
from sgdclaims.figure import Figure, Table

__all__ = ["FIGURES", "TABLES", "figure_data"]


def _style(data: dict[str, Any], label: str) -> dict[str, Any]:
    """Solid viridis for the first-k variants, dashed magma for the last-k, grey twins."""
    if label in data["twins"]:
        return {"color": "grey", "lw": 0.8, "ls": ":"}
    if label in data["last"]:
        group, cmap, ls = data["last"], plt.cm.magma, "--"
    else:
        group, cmap, ls = data["first"], plt.cm.viridis, "-"
    shade = group.index(label) / max(len(group) - 1, 1)
    return {"color": cmap(0.85 * shade), "lw": 1.4, "ls": ls}


def accuracy_figure(data: dict[str, Any]) -> Any:
    """Their Fig. 1: seed-mean test accuracy per member (left) and the smoothed accuracy minus
    the main model's (right), each variant's d(k) marked."""
    steps, acc = np.asarray(data["steps"], dtype=float), np.asarray(data["acc"], dtype=float)
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5), constrained_layout=True)
    main = smooth(acc[data["labels"].index("0")])
    for i, lab in enumerate(data["labels"]):
        style = _style(data, lab)
        left.plot(steps, acc[i], label=name(lab), **style)
        diff = smooth(acc[i]) - main
        right.plot(steps, diff, **style)
        d = float(data["d"].get(lab, np.inf))
        if np.isfinite(d):
            at = int(np.searchsorted(steps, d))
            right.plot([d], [diff[at]], "o", color=style["color"], ms=7, mec="black")
    right.axhline(0, color="grey", lw=0.8)
    left.set(
        xlabel="training step", ylabel="test accuracy (seed mean)", title=str(data.get("title", ""))
    )
    right.set(
        xlabel="training step",
        ylabel="smoothed accuracy - main",
        title="difference to the main model; dots: d(k)",
    )
    left.legend(fontsize=7, ncol=2)
    return fig


def preactivation_heatmap(data: dict[str, Any]) -> Any:
    """Their Fig. 2: the main model's seed-mean train-mode mean preactivation per layer and
    step (blue < 0 < red), t_neg(l) of that mean (black x) and d(k) of the first-k variants
    at depth k (white dots, joined)."""
    steps, mean = np.asarray(data["preact_steps"], dtype=float), np.asarray(data["preact"])
    n_layers = mean.shape[0]
    fig, ax = plt.subplots(figsize=(9, 4.5), constrained_layout=True)
    lim = max(float(np.abs(mean).max()), 1e-3)
    middle = (steps[1:] + steps[:-1]) / 2  # cell edges between evaluations (uneven spacing)
    edges = np.concatenate([[steps[0]], middle, [steps[-1]]])
    image = ax.pcolormesh(
        edges,
        np.arange(n_layers + 1) - 0.5,
        mean,
        cmap="RdBu_r",
        norm=TwoSlopeNorm(0.0, -lim, lim),
        shading="flat",
    )
    fig.colorbar(image, ax=ax, label="mean preactivation (BN output, train mode)")
    t_neg = np.asarray(data["t_neg"], dtype=float)
    finite = np.isfinite(t_neg)
    ax.plot(
        t_neg[finite],
        np.flatnonzero(finite),
        "x",
        color="black",
        ms=8,
        label=f"t_neg(l): first mean < {NEGATIVE_MEAN}",
    )
    points = sorted(
        (data["depths"][lab] - 1, float(data["d"][lab]))
        for lab in data["first"]
        if lab in data["d"] and np.isfinite(float(data["d"][lab]))
    )
    if points:
        depth, step = zip(*points)
        ax.plot(step, depth, "-o", color="white", mec="black", ms=7, label="d(k) at layer k-1")
    ax.set(
        xlabel="training step",
        ylabel="layer (0 = input side)",
        title="train-mode mean preactivations of the main model (seed mean)",
    )
    ax.legend(fontsize=8, loc="upper right")
    return fig


FIGURES = (
    Figure(
        "accuracy",
        "Seed-mean test accuracy of the main model, the first-k variants (solid), the last-k "
        "control (dashed) and the twins (dotted), and their smoothed differences to the main "
        "model; dots mark d(k).",
        accuracy_figure,
        paper="Fig. 1",
    ),
    Figure(
        "preactivations",
        "Train-mode mean preactivation of the main model per layer and step (seed mean), with "
        "t_neg(l) and the divergence steps d(k) drawn at depth k, the wavefront.",
        preactivation_heatmap,
        paper="Fig. 2",
    ),
)
TABLES = (
    Table(
        "divergence",
        "Persistent divergence steps d(k) of the first-k and last-k variants (never = the "
        "variant does not stay below 95% of the main model), and d between the twin groups.",
        divergence_table,
    ),
    Table(
        "t_neg",
        "First evaluation after step 0 at which each layer's train-mode mean preactivation "
        "is below -0.05 (never = it does not).",
        t_neg_table,
    ),
)
