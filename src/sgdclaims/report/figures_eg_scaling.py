"""Report figures of eg_scaling (Goldt et al. 2020, Fig. 1b, 2a, 2b, 3c)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sgdclaims.teacher_student.formulas import eps_erf_scm


def curves(match: pd.DataFrame) -> Figure:
    """eps_g(alpha) on log axes: ODE lines, SGD crosses, per N and K (their Fig. 1b)."""
    ns = sorted(match.n.unique())
    fig, axes = plt.subplots(1, len(ns), figsize=(5 * len(ns), 3.8), sharey=True, squeeze=False)
    colors = plt.get_cmap("tab10")
    for ax, n in zip(axes[0], ns):
        part = match[match.n == n]
        for i, k in enumerate(sorted(part.k.unique())):
            for s, one in part[part.k == k].groupby("seed"):
                label = f"K={k}" if s == part.seed.min() else None
                ax.loglog(one.alpha, one.eps_ode, color=colors(i), lw=1, label=label)
                ax.loglog(one.alpha, one.eps_sgd, "x", color=colors(i), ms=3)
        ax.set_title(f"N = {n} (lines: ODE, crosses: SGD)")
        ax.set_xlabel("alpha = steps / N")
    axes[0][0].set_ylabel("eps_g")
    axes[0][0].legend()
    return fig


def eps_vs_l(ode: pd.DataFrame, sgd: pd.DataFrame, sigma: float, eta: float, m: int) -> Figure:
    """eps_g*/sigma^2 against L with eq. 11 lines (their Fig. 2a)."""
    fig, ax = plt.subplots(figsize=(5, 3.8))
    scm = ode[ode["mode"] == "scm"]
    ax.plot(scm.L, scm.eps_star / sigma**2, "o", label=f"ODE, eta={eta:g}")
    ls = np.arange(0, scm.L.max() + 1)
    ax.plot(ls, [eps_erf_scm(m + ell, m, eta, sigma) / sigma**2 for ell in ls], "-", label="eq. 11")
    if len(sgd):
        g = sgd.groupby("L")
        eta_s = float(sgd.eta.iloc[0])
        ax.plot(
            g.eps_sgd.mean().index,
            g.eps_sgd.mean() / sigma**2,
            "x",
            ms=8,
            label=f"SGD, eta={eta_s:g}, N={int(sgd.n.iloc[0])}",
        )
        ax.plot(
            g.eps_ode.mean().index,
            g.eps_ode.mean() / sigma**2,
            "+",
            ms=8,
            label=f"ODE, eta={eta_s:g}",
        )
        ax.plot(
            ls,
            [eps_erf_scm(m + ell, m, eta_s, sigma) / sigma**2 for ell in ls],
            "--",
            label=f"eq. 11, eta={eta_s:g}",
        )
    ax.set_yscale("log")
    ax.set_xlabel("L = K - M")
    ax.set_ylabel("eps_g* / sigma^2")
    ax.legend(fontsize=7)
    return fig


def both_layers(both: pd.DataFrame, sigma: float) -> Figure:
    """Both layers trained: eps_g*/sigma^2 against K, with eq. 15 for M = 1 (their Fig. 3c)."""
    fig, ax = plt.subplots(figsize=(5, 3.8))
    for m, part in both.groupby("m"):
        ax.plot(part.k, part.eps_star / sigma**2, "o-", label=f"ODE, M={m}")
        if m == 1:
            ax.plot(part.k, part.eq15 / sigma**2, "--", label="eq. 15 (M=1)")
    ax.set_xlabel("K")
    ax.set_ylabel("eps_g* / sigma^2")
    ax.set_yscale("log")
    ax.legend()
    return fig


def heat_maps(arrays: dict[str, np.ndarray]) -> Figure:
    """Final Q and R of SGD and ODE as heat maps (their Fig. 2b)."""
    names = [n for n in ("q_sgd", "r_sgd", "q_ode", "r_ode") if n in arrays]
    fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 3))
    for ax, name in zip(np.atleast_1d(axes), names):
        mat = arrays[name]
        lim = max(1e-12, float(np.abs(mat).max()))
        im = ax.imshow(mat, cmap="RdBu_r", vmin=-lim, vmax=lim)
        ax.set_title(
            name.replace("_", " (").upper().replace("(SGD", "(SGD)").replace("(ODE", "(ODE)")
        )
        fig.colorbar(im, ax=ax, shrink=0.8)
    return fig
