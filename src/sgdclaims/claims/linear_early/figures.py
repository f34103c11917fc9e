"""linear_early's figures: their Fig. 4 drawn from the stored seed-mean curves."""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from sgdclaims.claims.linear_early.config import WINDOW
from sgdclaims.figure import Figure, Table
from sgdclaims.runner import Result
from sgdclaims.values import Value

COLOURS = {
    "I_FY": "#1f77b4",
    "mu_L": "#d62728",
    "mu_control": "#7f7f7f",
    "mu_knn": "#ff7f0e",
    "acc": "#9467bd",
}


def figure_data(result: Result, values: dict[str, Value]) -> dict[str, Any]:
    """The seed-mean curves of their Fig. 4 and their spread, for drawing."""
    frame = result.frame("curves").drop(columns="unit")
    seeds = [u for u in result.units if not isinstance(u, str)]
    grouped = frame.groupby("step", sort=True)
    mean, std = grouped.mean(), grouped.std(ddof=1).fillna(0.0)
    columns = ("I_FY", "mu_L", "mu_control", "mu_knn", "test_acc")
    return {
        "steps": mean.index.to_numpy(),
        "mean": {c: mean[c].to_numpy() for c in columns},
        "std": {c: std[c].to_numpy() for c in columns},
        "I_LY": values["I_LY"].value,
        "title": f"{result.provenance.get('dataset', '')} ({len(seeds)} seeds)",
        "seeds": seeds,
        "per_seed": {name: list(values[name].per_seed) for name in PER_SEED},
        "S": per_seed_s(values),
    }


#: the values the per-seed table shows, with their column titles
PER_SEED = {
    "early_explained": "early_explained (L)",
    "early_explained_control": "with C",
    "nonlinear_control": "with k-NN",
    "outgrows_linear": "I(F;Y|L)",
    "outgrows_linear_excess": "over S",
    "fits_training_set": "train acc.",
    "retained": "R",
    "retention_drop": "drop",
}


def per_seed_s(values: dict[str, Value]) -> list[float]:
    """S's I(S_T;Y|L) per seed: F's gap less its excess over S."""
    gap, excess = values["outgrows_linear"].per_seed, values["outgrows_linear_excess"].per_seed
    return [g - e for g, e in zip(gap, excess, strict=True)]


def per_seed_table(data: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """One row per seed: early_explained against L, C and the k-NN; outgrows against S;
    F's training accuracy; excess retention R and the drop."""
    columns = ["seed", *PER_SEED.values(), "I(S;Y|L)"]
    rows = []
    for i, seed in enumerate(data["seeds"]):
        cells = [data["per_seed"][name][i] for name in PER_SEED]
        rows.append([seed, *(round(float(c), 4) for c in cells), round(float(data["S"][i]), 4)])
    return columns, rows


def _band(ax: Any, steps: np.ndarray, data: dict[str, Any], column: str, **style: Any) -> None:
    """Seed mean as a line, mean +- one std over seeds as a shaded band."""
    mean, std = np.asarray(data["mean"][column]), np.asarray(data["std"][column])
    ax.plot(steps, mean, **style)
    ax.fill_between(steps, mean - std, mean + std, color=style.get("color"), alpha=0.18, lw=0)


def information_curves(data: dict[str, Any]) -> Any:
    """Their Fig. 4: I(F_t;Y), mu_Y(F_t;L), the control's mu and the I(L;Y) line against the
    SGD step (seed mean, +-1 std band), test accuracy on a second axis, early window shaded."""
    steps, i_ly = np.asarray(data["steps"], dtype=float), float(data["I_LY"])
    fig, ax = plt.subplots(figsize=(7.0, 4.2))
    ax.axhspan(WINDOW[0] * i_ly, WINDOW[1] * i_ly, color="#ffdd88", alpha=0.25, lw=0)
    _band(ax, steps, data, "I_FY", label="I(F_t;Y)", color=COLOURS["I_FY"], lw=1.8)
    _band(ax, steps, data, "mu_L", label="mu_Y(F_t;L)", color=COLOURS["mu_L"], lw=1.8)
    _band(
        ax,
        steps,
        data,
        "mu_control",
        label="mu_Y(F_t;control)",
        color=COLOURS["mu_control"],
        ls="--",
    )
    if "mu_knn" in data["mean"]:
        _band(ax, steps, data, "mu_knn", label="mu_Y(F_t;k-NN)", color=COLOURS["mu_knn"], ls=":")
    ax.axhline(i_ly, color="#2ca02c", ls=":", lw=1.5, label="I(L;Y)")
    ax.set_xlabel("SGD step")
    ax.set_ylabel("bits")
    ax.set_ylim(bottom=min(0.0, float(np.nanmin(data["mean"]["mu_control"]))))
    first = float(steps[steps > 0].min())
    if steps[-1] / first > 100:
        ax.set_xscale("symlog", linthresh=first)
        ax.set_xlabel("SGD step (linear up to the first checkpoint, then log)")
    acc = ax.twinx()
    acc.plot(
        steps, data["mean"]["test_acc"], color=COLOURS["acc"], lw=1.0, alpha=0.8, label="test acc."
    )
    acc.set_ylabel("test accuracy (F_t)", color=COLOURS["acc"])
    acc.set_ylim(0.4, 1.0)
    lines, extra = ax.get_legend_handles_labels(), acc.get_legend_handles_labels()
    ax.legend(lines[0] + extra[0], lines[1] + extra[1], loc="lower right", fontsize=8)
    ax.set_title(str(data.get("title", "")), fontsize=10)
    fig.tight_layout()
    return fig


FIGURES = (
    Figure(
        "information_curves",
        "I(F_t;Y), mu_Y(F_t;L), mu_Y(F_t;control) and mu_Y(F_t;k-NN) (the accuracy-matched "
        "nonlinear classifier) against the SGD step (seed mean, band: "
        "±1 std over seeds), the I(L;Y) line, the early window 0.2-0.8 I(L;Y) shaded, test "
        "accuracy on the right axis (Nakkiran et al. 2019, Fig. 4).",
        information_curves,
    ),
)

TABLES = (
    Table(
        "per_seed",
        "Each seed's statistics: early_explained against L, against C (L's per-class accuracy, "
        "independent errors) and against the accuracy-matched k-NN; I(F_T;Y|L) and its excess "
        "over S (a linear model trained by the same SGD); F's final training accuracy; excess "
        "retention R and the retention drop.",
        per_seed_table,
    ),
)
