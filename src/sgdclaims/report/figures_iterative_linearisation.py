"""Report figures for iterative_linearisation: test accuracy and train loss against step for
every K (Goldwaser & Ge, Fig. 1-2), and the cost of a linearised step against a plain one."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from sgdclaims.runner import Result

COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d")


def _label(k: float, control: bool) -> str:
    name = "K = inf (fixed features)" if math.isinf(k) else f"K = {int(k)}"
    return f"{name}, random-network features (control)" if control else name


def _series(frame: pd.DataFrame, value: str, lr: float):
    """(K, control, mean over seeds of `value` per step) for each run kind at lr."""
    frame = frame[frame["lr"] == lr]
    for (features, k), part in sorted(frame.groupby(["features", "K"]), key=lambda t: t[0]):
        yield k, features == "random", part.groupby("step")[value].mean()


def curves_figure(result: Result, lr: float | None = None) -> Figure:
    """Test accuracy (%) and train loss (nats) against step for every K, seed means."""
    lr = result.config.lr if lr is None else lr
    fig, (ax_acc, ax_loss) = plt.subplots(1, 2, figsize=(11, 4))
    curves, losses = result.frame("curves"), result.frame("loss")
    for i, (k, control, mean) in enumerate(_series(curves, "test_acc", lr)):
        style = "--" if control else "-"
        ax_acc.plot(mean.index, 100 * mean.values, style, color=COLOURS[i % len(COLOURS)],
                    label=_label(k, control))  # fmt: skip
    for i, (_, control, mean) in enumerate(_series(losses, "train_loss", lr)):
        style = "--" if control else "-"
        ax_loss.plot(mean.index, mean.values, style, color=COLOURS[i % len(COLOURS)], lw=1)
    ax_acc.set(xlabel="step (full-batch GD)", ylabel="test accuracy (%)",
               title=f"linearised model, lr {lr:g}")  # fmt: skip
    ax_loss.set(xlabel="step (full-batch GD)", ylabel="train loss (nats, mean cross-entropy)",
                yscale="log", title="train loss (refreshes every K steps)")  # fmt: skip
    ax_acc.legend(fontsize=7)
    fig.tight_layout()
    return fig


def cost_figure(ratios: dict[str, float]) -> Figure:
    """Bar chart of step costs relative to one plain gradient-descent step."""
    fig, ax = plt.subplots(figsize=(5, 3))
    names = list(ratios)
    ax.bar(names, [ratios[n] for n in names], color=COLOURS[: len(names)])
    ax.axhline(1.0, color="grey", lw=0.8)
    ax.set(ylabel="cost / plain GD step (x)", title="cost of a linearised step")
    fig.tight_layout()
    return fig
