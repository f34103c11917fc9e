"""eg_scaling's figures: their Fig. 1b, 2a and 3c drawn from the stored tables (Goldt et al.
2020), with eps_branch (the eq. 10 fixed point) and eps_reached (each random start's own
integration) drawn apart, and the data the figures and tables draw on."""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sgdclaims.claims.eg_scaling.stats_scm import NN2PP
from sgdclaims.claims.eg_scaling.stats_sgd import CHANGE
from sgdclaims.figure import Figure
from sgdclaims.runner import Result
from sgdclaims.values import Value


def _rows(frame: pd.DataFrame, columns: tuple[str, ...]) -> dict[str, list]:
    """Columns of a frame as lists (missing ones left out)."""
    return {c: frame[c].tolist() for c in columns if c in frame}


def figure_data(result: Result, values: dict[str, Value]) -> dict[str, Any]:
    """The curves of Fig. 1b and the per-start and per-run tables of Fig. 2a and 3c."""
    cfg = result.config
    starts = (
        "k",
        "start",
        "eps_reached",
        "drift",
        "settled",
        "status",
        "eq15",
        "denoising",
        "groups",
    )
    runs = ("L", "seed", "eps_sgd", "change", "eps_ode")
    return {
        "sigma": cfg.sigma,
        "m": cfg.m,
        "ode_eta": cfg.ode_eta,
        "both_eta": cfg.both_eta,
        "eq15_eta": cfg.eq15_eta,
        "sgd": {"eta": cfg.sgd_eta, "n": cfg.sgd_n},
        "nn2pp": {str(k): v for k, v in NN2PP.items()},
        "match": _rows(result.frame("match"), ("n", "k", "seed", "alpha", "eps_sgd", "eps_ode")),
        "reached": _rows(result.frame("reached"), starts),
        "branch": _rows(
            result.frame("branch"),
            ("k", "start", "eta", "eps_branch", "residual", "converged", "max_eig", "eq11"),
        ),
        "sgd_runs": _rows(result.frame("sgd"), runs),
        "relu_runs": _rows(result.frame("relu"), runs),
        "both": _rows(result.frame("both"), starts),
        "eq15": _rows(result.frame("eq15"), starts),
    }


def ode_vs_sgd(data: dict[str, Any]) -> Any:
    """Their Fig. 1b: eps_g(alpha), ODE lines and SGD crosses, per N and K."""
    frame = pd.DataFrame(data["match"])
    sizes = sorted(frame.n.unique())
    fig, axes = plt.subplots(
        1, len(sizes), figsize=(5 * len(sizes), 3.8), sharey=True, squeeze=False
    )
    for ax, n in zip(axes[0], sizes):
        for i, (k, one) in enumerate(frame[frame.n == n].groupby("k")):
            for j, (_, run) in enumerate(one.groupby("seed")):
                ax.loglog(
                    run.alpha, run.eps_ode, color=f"C{i}", lw=1, label=f"K={k}" if j == 0 else None
                )
                ax.loglog(run.alpha, run.eps_sgd, "x", color=f"C{i}", ms=3)
        ax.set_title(f"N = {n} (lines: ODE, crosses: SGD)", fontsize=10)
        ax.set_xlabel("alpha = steps / N")
    axes[0][0].set_ylabel("eps_g")
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    return fig


def eps_vs_l(data: dict[str, Any]) -> Any:
    """Their Fig. 2a: eps_branch (line) and each start's eps_reached (crosses: settled, open:
    not) against L beside nn2pp's and eq. 11; the slope over eta against eta extrapolated to
    eta = 0; SGD's asymptotes (erf, ReLU) per L (open: an L whose runs did not settle)."""
    s2, m, eta = data["sigma"] ** 2, data["m"], data["ode_eta"]
    branch, reached = pd.DataFrame(data["branch"]), pd.DataFrame(data["reached"])
    fig, (ax, ax1, ax2) = plt.subplots(1, 3, figsize=(15, 3.8))
    at = branch[branch.eta == eta].groupby("k").eps_branch.median() / s2
    ax.plot(at.index - m, at, "o-", color="C0", label="eps_branch (eq. 10 point)")
    ok = reached.settled.astype(bool)
    for mask, style, label in (
        (ok, "x", "eps_reached, settled"),
        (~ok, "o", "eps_reached, not settled"),
    ):
        ax.plot(
            reached.k[mask] - m + 0.08,
            reached.eps_reached[mask] / s2,
            style,
            color="C1",
            mfc="none",
            label=label,
        )
    ref = {int(k): v for k, v in data["nn2pp"].items() if int(k) in set(at.index)}
    ax.plot(
        np.array(list(ref)) - m,
        list(ref.values()),
        "s",
        mfc="none",
        color="C3",
        ms=8,
        label="nn2pp, alpha 1e6 (CLAIMS.md)",
    )
    ls = np.linspace(0, max(at.index - m), 50)
    ax.plot(ls, eta / (2 * np.pi) * (ls + m / np.sqrt(3)), "--", color="C2", label="eq. 11")
    ax.set(xlabel="L = K - M", ylabel="eps_g / sigma^2", title=f"ODE, eta = {eta:g}, T = I")
    ax.legend(fontsize=7)
    slopes = {
        e: np.polyfit(
            one.groupby("k").eps_branch.median().index - m,
            one.groupby("k").eps_branch.median() / s2,
            1,
        )[0]
        / e
        for e, one in branch.groupby("eta")
    }
    etas = np.array(sorted(slopes))
    fit = np.polyfit(etas, [slopes[e] for e in etas], 1)
    ax1.plot(etas, [slopes[e] for e in etas], "o", label="slope of eps_branch / eta")
    grid = np.linspace(0, etas.max(), 20)
    ax1.plot(grid, np.polyval(fit, grid), "-", color="C0", lw=1, label="linear extrapolation")
    ax1.plot([0], [1 / (2 * np.pi)], "*", color="C3", ms=10, label="1/(2 pi), eq. 11")
    ax1.set(xlabel="eta", ylabel="slope / eta", title="eg_slope: eta -> 0")
    ax1.legend(fontsize=7)
    for i, (key, label) in enumerate((("sgd_runs", "erf"), ("relu_runs", "ReLU"))):
        runs = pd.DataFrame(data[key])
        means = runs.groupby("L").eps_sgd.mean() / s2
        settled = runs.groupby("L").change.agg(lambda c: bool((c < CHANGE).all())).astype(bool)
        ax2.plot(means.index, means, "-", color=f"C{i}", label=f"{label} SGD, mean over seeds")
        ax2.plot(means.index[settled], means[settled], "o", color=f"C{i}")
        ax2.plot(
            means.index[~settled],
            means[~settled],
            "o",
            mfc="none",
            color=f"C{i}",
            label="L not settled" if i == 0 else None,
        )
    ax2.set(xlabel="L = K - M", yscale="log", title=f"SGD, N = {data['sgd']['n']}")
    ax2.legend(fontsize=7)
    fig.tight_layout()
    return fig


def both_layers(data: dict[str, Any]) -> Any:
    """Their Fig. 3c: each start's eps_reached against K with both layers trained (filled:
    settled, open: not) and the median of the settled ones; right: M = 1 beside eq. 15."""
    s2 = data["sigma"] ** 2
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, key, title in (
        (axes[0], "both", f"M = {data['m']}, eta = {data['both_eta']:g}"),
        (axes[1], "eq15", f"M = 1, eta = {data['eq15_eta']:g}"),
    ):
        frame = pd.DataFrame(data[key])
        ok = frame.settled.astype(bool)
        ax.plot(frame.k[ok], frame.eps_reached[ok] / s2, "o", color="C0", label="settled start")
        ax.plot(
            frame.k[~ok],
            frame.eps_reached[~ok] / s2,
            "o",
            mfc="none",
            color="C7",
            label="start not settled",
        )
        med = frame[ok].groupby("k").eps_reached.median() / s2
        ax.plot(med.index, med, "-", color="C0", label="median of settled starts")
        if "eq15" in frame:
            ref = frame.groupby("k").eq15.first() / s2
            ax.plot(ref.index, ref, "--", color="C3", label="eq. 15")
        ax.set(xlabel="K", ylabel="eps_g / sigma^2", yscale="log", title=title)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


FIGURES = (
    Figure(
        "ode_vs_sgd",
        "eps_g(alpha) of online SGD (crosses) and of the ODE started from each run's measured "
        "order parameters (lines), at N and 4N (Goldt et al. Fig. 1b).",
        ode_vs_sgd,
    ),
    Figure(
        "eps_vs_L",
        "eps_branch (the eq. 10 fixed point) and each random start's eps_reached against L "
        "beside nn2pp's values and eq. 11; the slope of eps_branch over eta against eta, "
        "extrapolated to eta = 0; SGD asymptotes at the SGD part's eta (Goldt et al. Fig. 2a).",
        eps_vs_l,
    ),
    Figure(
        "both_layers",
        "Both layers trained: each start's own eps_reached against K and the median of the "
        "settled ones; right: M = 1 at small eta against eq. 15 (Goldt et al. Fig. 3c).",
        both_layers,
    ),
)
