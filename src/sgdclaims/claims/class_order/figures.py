"""class_order's figures: their Fig. 2-5 (per-class I and mu curves), the accuracy curves
and the learning times, drawn from the stored seed-mean curves; the tables are in `tables`."""

from __future__ import annotations

import warnings
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from sgdclaims.claims.class_order.config import MODELS
from sgdclaims.claims.class_order.measure import SURROGATES
from sgdclaims.claims.class_order.readers import (
    WARM_UP_ACCURACY,
    accuracy_table,
    class_names,
    curve_table,
    learning_times,
)
from sgdclaims.figure import OURS, Figure
from sgdclaims.runner import Result
from sgdclaims.values import Value

TITLES = {
    "linear": "linear",
    "cnn": "CNN",
    "vit": "ViT",
    "cnn_surrogate": "CNN surrogate",
    "vit_surrogate": "ViT surrogate",
}
QUANTITIES = {"mi": "I(F_t;Y=c) [bits]", "mu": "mu_c = I(F_t;Y=c) - I(F_t;Y=c|L) [bits]"}


def figure_data(result: Result, values: dict[str, Value]) -> dict[str, Any]:
    """Seed-mean per-class curves, accuracy curves, learning times per seed (by MI, also of
    the class-blind surrogates, and by recall)."""
    out: dict[str, Any] = {
        "classes": class_names(result),
        "title": f"{result.provenance.get('dataset', '')} ({len(result.units)} seeds)",
        "models": list(MODELS),
        "curves": {},
        "accuracy": {},
        "tau": {},
        "tau_recall": {},
    }
    for model in MODELS:
        steps, _ = curve_table(result, model)
        out["steps"] = steps
        out["curves"][model] = {q: curve_table(result, model, q)[1].mean(0) for q in QUANTITIES}
        out["accuracy"][model] = accuracy_table(result, model)[1].mean(0)
        out["tau"][model] = learning_times(result, model)
        out["tau_recall"][model] = learning_times(result, model, "recall")
    for surrogate in SURROGATES.values():
        out["tau"][surrogate] = learning_times(result, surrogate)
    out["seeds"] = [str(u) for u in result.units]
    return out


def per_class_curves(data: dict[str, Any]) -> Any:
    """Their Fig. 2-5: per-class I(F_t;Y=c) (top) and mu_c (bottom) per model, seed means,
    one colour per class; dots mark each class's seed-mean tau_c."""
    models, names = data["models"], data["classes"]
    steps = np.asarray(data["steps"], dtype=float)
    colours = plt.get_cmap("tab10")
    fig, axes = plt.subplots(
        2, len(models), figsize=(4.0 * len(models), 6.4), sharex=True, squeeze=False
    )
    for col, model in enumerate(models):
        tau = np.asarray(data["tau"][model], dtype=float).mean(axis=0)
        for row, quantity in enumerate(QUANTITIES):
            mean = np.asarray(data["curves"][model][quantity], dtype=float)
            ax = axes[row, col]
            for c, name in enumerate(names):
                ax.plot(steps, mean[:, c], color=colours(c), lw=1.3, label=name)
                if quantity == "mi" and np.isfinite(tau[c]):
                    ax.plot(tau[c], np.interp(tau[c], steps, mean[:, c]), "o", color=colours(c))
            if row == 0:
                ax.set_title(TITLES.get(model, model))
            if col == 0:
                ax.set_ylabel(QUANTITIES[quantity], fontsize=8)
            if row == 1:
                ax.set_xlabel("SGD step")
    axes[0, -1].legend(fontsize=7, loc="lower right", ncol=2)
    fig.suptitle(f"{data['title']}: per-class information, seed means (dots: tau_c)", fontsize=10)
    fig.tight_layout()
    return fig


def accuracy_curves(data: dict[str, Any]) -> Any:
    """Test accuracy of every model against the SGD step (seed mean): the CNN's warm-up."""
    steps = np.asarray(data["steps"], dtype=float)
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    for model in data["models"]:
        ax.plot(steps, data["accuracy"][model], lw=1.6, label=TITLES.get(model, model))
    ax.axhline(WARM_UP_ACCURACY, color="#999999", ls=":", lw=1, label="2 x chance (warm-up end)")
    ax.set_xlabel("SGD step")
    ax.set_ylabel("test accuracy")
    ax.legend(fontsize=8)
    ax.set_title(str(data["title"]), fontsize=10)
    fig.tight_layout()
    return fig


def learning_time_plot(data: dict[str, Any]) -> Any:
    """tau_c per class and model: seed mean with the range over seeds."""
    names, models = data["classes"], data["models"]
    fig, ax = plt.subplots(figsize=(7.5, 3.8))
    x = np.arange(len(names))
    for offset, model in zip(np.linspace(-0.25, 0.25, len(models)), models):
        tau = np.asarray(data["tau"][model], dtype=float)
        tau = np.where(np.isfinite(tau), tau, np.nan)
        with warnings.catch_warnings():  # a class never learned by any seed: no bar
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(tau, axis=0)
            low, high = mean - np.nanmin(tau, axis=0), np.nanmax(tau, axis=0) - mean
        ax.errorbar(
            x + offset, mean, yerr=[low, high], fmt="o", capsize=2, label=TITLES.get(model, model)
        )
    ax.set_xticks(x, names, rotation=30, fontsize=8)
    ax.set_ylabel("tau_c [SGD steps]")
    ax.set_title("learning time: I(F_t;Y=c) >= 0.25 p(c) log2(1/p(c)) from there on", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


FIGURES = (
    Figure(
        "per_class_curves",
        "Per-class I(F_t;Y=c) (top) and mu_c = I(F_t;Y=c) - I(F_t;Y=c|L) (bottom) against "
        "the SGD step, seed means; L is the seed's final linear model (Schouten & Toonen "
        "2023, Fig. 2-5). Dots: tau_c, from where I(F_t;Y=c) stays at or above 0.25 p(c) "
        "log2(1/p(c)) (a quarter of a perfect classifier's term) to the end.",
        per_class_curves,
    ),
    Figure(
        "accuracy_curves",
        "Test accuracy of the three models against the SGD step (seed means); a warm-up "
        "ends where the accuracy first reaches 2 x chance.",
        accuracy_curves,
        paper=OURS,
    ),
    Figure(
        "learning_times",
        "tau_c per class and model: mean and range over the seeds in which the class reached "
        "its level (no marker where none did).",
        learning_time_plot,
        paper=OURS,
    ),
)
