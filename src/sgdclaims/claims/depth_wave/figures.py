"""depth_wave's figures (Pinson et al.): their Fig. 1 (accuracy of the partly-linear models,
divergence points) and Fig. 2 (the depth x time heat map of mean preactivations with t_neg and
d(k)), and the tables of d(k) and t_neg, drawn from stored data."""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import TwoSlopeNorm

from sgdclaims.claims.depth_wave.curves import (
    accuracy_curves,
    depth_of,
    divergences,
    preactivation_curves,
)
from sgdclaims.curves import final_value
from sgdclaims.depth import NEGATIVE_MEAN, first_negative_step, smooth
from sgdclaims.figure import Figure, Table
from sgdclaims.runner import Result
from sgdclaims.values import Value


def figure_data(result: Result, values: dict[str, Value]) -> dict[str, Any]:
    """Seed-mean accuracy per variant, d(k) (seed mean and per seed), the main model's
    seed-mean preactivation means (layers, T) and t_neg, for drawing."""
    steps, labels, acc = accuracy_curves(result)
    n_layers, chance = int(result.provenance["layers"]), 1 / int(result.provenance["num_classes"])
    pre_steps, pre = preactivation_curves(result, "0")
    mean_pre = pre.mean(0)
    after = pre_steps > 0
    per_seed_t = [first_negative_step(pre_steps[after], p[:, after]).tolist() for p in pre]
    return {
        "steps": steps,
        "labels": labels,
        "acc": acc.mean(0),
        "n_layers": n_layers,
        "depths": [depth_of(lab, n_layers) for lab in labels],
        "d": divergences(steps, labels, acc.mean(0), chance),
        "d_per_seed": [divergences(steps, labels, a, chance) for a in acc],
        "final_acc": dict(zip(labels, final_value(steps, acc).mean(0).tolist())),
        "preact_steps": pre_steps,
        "preact": mean_pre,
        "t_neg": first_negative_step(pre_steps[after], mean_pre[:, after]).tolist(),
        "t_neg_per_seed": per_seed_t,
        "title": f"{result.provenance.get('dataset', '')} ({len(result.units)} seeds)",
    }


def _name(label: str) -> str:
    return "main (k=0)" if label == "0" else f"k={label}"


def accuracy_figure(data: dict[str, Any]) -> Any:
    """Their Fig. 1: seed-mean test accuracy per variant (left) and the smoothed accuracy
    minus the main model's (right), each variant's d(k) marked."""
    steps, acc = np.asarray(data["steps"], dtype=float), np.asarray(data["acc"], dtype=float)
    colours = plt.cm.viridis(np.linspace(0, 0.9, len(data["labels"])))
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
    for i, (lab, colour) in enumerate(zip(data["labels"], colours)):
        left.plot(steps, acc[i], color=colour, lw=1.5, label=_name(lab))
        diff = smooth(acc[i]) - smooth(acc[0])
        right.plot(steps, diff, color=colour, lw=1.5, label=_name(lab))
        d = float(data["d"].get(lab, np.inf))
        if np.isfinite(d):
            at = int(np.searchsorted(steps, d))
            right.plot([d], [diff[at]], "o", color=colour, ms=7, mec="black")
    right.axhline(0, color="grey", lw=0.8)
    left.set(
        xlabel="training step", ylabel="test accuracy (seed mean)", title=str(data.get("title", ""))
    )
    right.set(
        xlabel="training step",
        ylabel="smoothed accuracy - main",
        title="difference to the main model; dots: d(k)",
    )
    left.legend(fontsize=8)
    return fig


def preactivation_heatmap(data: dict[str, Any]) -> Any:
    """Their Fig. 2: the main model's seed-mean mean preactivation per layer and step (blue
    < 0 < red), t_neg(l) of that mean (black x) and d(k) at depth k (white dots, joined)."""
    steps, mean = np.asarray(data["preact_steps"], dtype=float), np.asarray(data["preact"])
    n_layers = mean.shape[0]
    fig, ax = plt.subplots(figsize=(9, 4.5), constrained_layout=True)
    trained = mean[:, steps > 0] if (steps > 0).any() else mean
    lim = max(float(np.abs(trained).max()), 1e-3)
    image = ax.imshow(
        mean,
        aspect="auto",
        origin="lower",
        cmap="RdBu_r",
        norm=TwoSlopeNorm(0.0, -lim, lim),
        extent=(steps[0], steps[-1], -0.5, n_layers - 0.5),
        interpolation="nearest",
    )
    fig.colorbar(image, ax=ax, label="mean preactivation (BN output)")
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
        (depth - 1, float(data["d"][lab]))
        for lab, depth in zip(data["labels"], data["depths"])
        if lab != "0" and np.isfinite(float(data["d"][lab]))
    )
    if points:
        depth, step = zip(*points)
        ax.plot(
            step,
            depth,
            "-o",
            color="white",
            mec="black",
            ms=7,
            label="d(k) at depth k (last linear layer)",
        )
    ax.set(
        xlabel="training step",
        ylabel="layer (0 = input side)",
        title="mean preactivations of the main model (seed mean)",
    )
    ax.legend(fontsize=8, loc="upper right")
    return fig


def _step(value: Any) -> str:
    value = float(value)
    return "never" if np.isinf(value) else ("NaN" if np.isnan(value) else f"{value:g}")


def divergence_table(data: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """d(k) from the seed-mean curves and per seed, with the final accuracy."""
    seeds = len(data["d_per_seed"])
    columns = [
        "variant",
        "d(k) (seed mean)",
        *[f"d(k) seed {s}" for s in range(seeds)],
        "final accuracy",
    ]
    rows = [
        [
            _name(lab),
            _step(data["d"][lab]),
            *[_step(d[lab]) for d in data["d_per_seed"]],
            f"{data['final_acc'][lab]:.4f}",
        ]
        for lab in data["labels"]
        if lab != "0"
    ]
    return columns, rows


def t_neg_table(data: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """t_neg(l) of the main model per seed and of its seed-mean curve."""
    per_seed = data["t_neg_per_seed"]
    columns = ["layer", *[f"seed {s}" for s in range(len(per_seed))], "seed-mean curve"]
    rows = [
        [layer, *[_step(t[layer]) for t in per_seed], _step(data["t_neg"][layer])]
        for layer in range(int(data["n_layers"]))
    ]
    return columns, rows


FIGURES = (
    Figure(
        "accuracy",
        "Seed-mean test accuracy of the main and partly-linear models and their "
        "smoothed differences to the main model; dots mark d(k) (Pinson et al., Fig. 1).",
        accuracy_figure,
    ),
    Figure(
        "preactivations",
        "Mean preactivation of the main model per layer and step (seed "
        "mean), with t_neg(l) and the divergence steps d(k) drawn at depth k, the wavefront "
        "(Pinson et al., Fig. 2).",
        preactivation_heatmap,
    ),
)
TABLES = (
    Table(
        "divergence",
        "Divergence steps d(k) (never = the variant stays within 95% of the main model).",
        divergence_table,
    ),
    Table(
        "t_neg",
        "First evaluation after step 0 at which each layer's mean preactivation "
        "is below -0.05 (never = it does not).",
        t_neg_table,
    ),
)
