"""Report figures and tables of claim linear_early (Nakkiran et al. 2019, Fig. 4)."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sgdclaims.experiments.linear_early import WINDOW, mutual_information_of_l, seed_mean
from sgdclaims.runner import Result

COLOURS = {
    "I_FY": "#1f77b4",
    "mu_L": "#d62728",
    "mu_control": "#7f7f7f",
    "I_LY": "#2ca02c",
    "acc": "#9467bd",
}


def _band(ax, steps: np.ndarray, frame: pd.DataFrame, column: str, label: str, **style) -> None:
    """Seed mean as a line, mean +- one std over seeds as a shaded band."""
    mean = frame[column].to_numpy()
    std = np.nan_to_num(frame[f"{column}_std"].to_numpy())
    ax.plot(steps, mean, label=label, **style)
    ax.fill_between(steps, mean - std, mean + std, color=style.get("color"), alpha=0.18, lw=0)


def information_curves(result: Result, title: str | None = None) -> Figure:
    """Their Fig. 4: I(F_t;Y), mu_Y(F_t;L) (and the control's mu) and the I(L;Y) line against
    the SGD step, seed mean with a +-1 std band, test accuracy on a second axis; the early
    window of the claim (0.2-0.8 I(L;Y)) is shaded."""
    mean = seed_mean(result)
    steps = mean["step"].to_numpy()
    i_ly = mutual_information_of_l(result)
    fig, ax = plt.subplots(figsize=(7.0, 4.2))
    ax.axhspan(WINDOW[0] * i_ly, WINDOW[1] * i_ly, color="#ffdd88", alpha=0.25, lw=0)
    _band(ax, steps, mean, "I_FY", "I(F_t;Y)", color=COLOURS["I_FY"], lw=1.8)
    _band(ax, steps, mean, "mu_L", "mu_Y(F_t;L)", color=COLOURS["mu_L"], lw=1.8)
    _band(ax, steps, mean, "mu_control", "mu_Y(F_t;control)", color=COLOURS["mu_control"], ls="--")
    ax.axhline(i_ly, color=COLOURS["I_LY"], ls=":", lw=1.5, label="I(L;Y)")
    ax.set_xlabel("SGD step")
    ax.set_ylabel("bits")
    ax.set_ylim(bottom=min(0.0, float(np.nanmin(mean["mu_control"]))))
    first = float(steps[steps > 0].min())
    if steps[-1] / first > 100:
        ax.set_xscale("symlog", linthresh=first)
        ax.set_xlabel("SGD step (linear up to the first checkpoint, then log)")
    acc = ax.twinx()
    acc.plot(steps, mean["test_acc"], color=COLOURS["acc"], lw=1.0, alpha=0.8, label="test acc.")
    acc.set_ylabel("test accuracy (F_t)", color=COLOURS["acc"])
    acc.set_ylim(0.4, 1.0)
    lines = ax.get_legend_handles_labels()
    extra = acc.get_legend_handles_labels()
    ax.legend(lines[0] + extra[0], lines[1] + extra[1], loc="lower right", fontsize=8)
    n = len(result.units)
    ax.set_title(title or f"{result.provenance.get('dataset', '')} ({n} seeds)", fontsize=10)
    fig.tight_layout()
    return fig


def statistics_table(
    values: Mapping[str, tuple[float, float | None, str]],
    reference: Mapping[str, str],
) -> pd.DataFrame:
    """Rows: statistic, ours (seed mean +- std), the threshold and the paper's reference
    value (Fig. 4 as read in CLAIMS.md; blank where the paper gives none)."""
    rows = []
    for name, (value, spread, threshold) in values.items():
        ours = f"{value:.3f}" + (f" ± {spread:.3f}" if spread is not None else "")
        rows.append(
            {
                "statistic": name,
                "ours": ours,
                "threshold": threshold,
                "paper": reference.get(name, ""),
            }
        )
    return pd.DataFrame(rows, columns=["statistic", "ours", "threshold", "paper"])
