"""Report figures and tables of claim class_order (Schouten & Toonen 2023, Fig. 2-5)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sgdclaims import ranking
from sgdclaims.experiments.class_order import class_names, curve_table, learning_times
from sgdclaims.runner import Result

TITLES = {"linear": "linear", "cnn": "CNN", "vit": "ViT"}
QUANTITIES = {
    "mi": "I(F_t;Y=c) [bits]",
    "mu": "mu_c = I(F_t;Y=c) - I(F_t;Y=c|L) [bits]",
    "recall": "recall of class c",
}


def per_class_curves(result: Result, quantities: tuple[str, ...] = ("mi", "mu")) -> Figure:
    """Their Fig. 2-5: per-class I(F_t;Y=c) and mu_c against the SGD step for every model,
    seed means, one colour per class; dots mark each class's seed-mean tau_c."""
    models = list(result.config.models)  # type: ignore[attr-defined]
    names = class_names(result)
    colours = plt.get_cmap("tab10")
    fig, axes = plt.subplots(
        len(quantities),
        len(models),
        figsize=(4.0 * len(models), 3.2 * len(quantities)),
        sharex=True,
        squeeze=False,
    )
    for col, model in enumerate(models):
        tau = learning_times(result, model).mean(axis=0)
        for row, quantity in enumerate(quantities):
            steps, values = curve_table(result, model, quantity)
            mean = values.mean(axis=0)
            ax = axes[row, col]
            for c, name in enumerate(names):
                ax.plot(steps, mean[:, c], color=colours(c), lw=1.4, label=name)
                if quantity == "mi" and np.isfinite(tau[c]):
                    ax.plot(tau[c], np.interp(tau[c], steps, mean[:, c]), "o", color=colours(c))
            if row == 0:
                ax.set_title(TITLES.get(model, model))
            if col == 0:
                ax.set_ylabel(QUANTITIES[quantity], fontsize=8)
            if row == len(quantities) - 1:
                ax.set_xlabel("SGD step")
    axes[0, -1].legend(fontsize=7, loc="lower right", ncol=2)
    fig.suptitle(f"{result.provenance['dataset']}: per-class information, mean of "
                 f"{len(result.units)} seeds (dots: tau_c)", fontsize=10)  # fmt: skip
    fig.tight_layout()
    return fig


def learning_time_plot(result: Result) -> Figure:
    """tau_c per class and model: seed mean with the range over seeds."""
    models = list(result.config.models)  # type: ignore[attr-defined]
    names = class_names(result)
    fig, ax = plt.subplots(figsize=(7.5, 3.8))
    offsets = np.linspace(-0.25, 0.25, len(models))
    x = np.arange(len(names))
    for offset, model in zip(offsets, models):
        tau = learning_times(result, model)
        finite = np.where(np.isfinite(tau), tau, np.nan)
        mean = np.nanmean(finite, axis=0)
        low, high = np.nanmin(finite, axis=0), np.nanmax(finite, axis=0)
        ax.errorbar(
            x + offset, mean, yerr=[mean - low, high - mean], fmt="o", capsize=2,
            label=TITLES.get(model, model),
        )  # fmt: skip
    ax.set_xticks(x, names, rotation=30, fontsize=8)
    ax.set_ylabel("tau_c [SGD steps]")
    ax.set_title("learning time: first step with I(F_t;Y=c) >= half its final value")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def order_table(result: Result) -> pd.DataFrame:
    """The learned order per model (rank 1 = first), by the seed-mean MI-based tau_c and by
    the recall-based learning time, class names in each cell."""
    names = np.array(class_names(result))
    columns = {"rank": np.arange(1, len(names) + 1)}
    for model in result.config.models:  # type: ignore[attr-defined]
        for quantity, label in (("mi", "MI"), ("recall", "recall")):
            tau = learning_times(result, model, quantity)
            order = np.argsort(ranking.ranks(tau).mean(axis=0), kind="stable")
            columns[f"{TITLES.get(model, model)} ({label})"] = names[order]
    return pd.DataFrame(columns)


def learning_time_table(result: Result) -> pd.DataFrame:
    """tau_c per class (rows) and model: seed mean and std, in SGD steps."""
    rows = {"class": class_names(result)}
    for model in result.config.models:  # type: ignore[attr-defined]
        tau = learning_times(result, model)
        rows[f"{TITLES.get(model, model)} mean"] = np.round(tau.mean(axis=0), 1)
        rows[f"{TITLES.get(model, model)} std"] = np.round(tau.std(axis=0, ddof=1), 1)
    return pd.DataFrame(rows)
