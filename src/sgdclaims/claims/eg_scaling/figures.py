"""eg_scaling's figures: their Fig. 1b, 2a and 3c drawn from the stored tables (Goldt et al.
2020), and the data the figures and the certification tables draw on."""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from sgdclaims.claims.eg_scaling.statistics import NN2PP
from sgdclaims.claims.eg_scaling.tables import CERTIFICATION
from sgdclaims.figure import Figure
from sgdclaims.runner import Result
from sgdclaims.values import Value


def _by(data: dict[str, list], key: str) -> dict[Any, dict[str, np.ndarray]]:
    """Rows of a stored table grouped by one column."""
    keys = np.asarray(data[key])
    return {v: {c: np.asarray(x)[keys == v] for c, x in data.items()} for v in np.unique(keys)}


def _rows(frame: Any, columns: tuple[str, ...]) -> dict[str, list]:
    """Columns of a frame as lists (missing ones left out)."""
    return {c: frame[c].tolist() for c in columns if c in frame}


def figure_data(result: Result, values: dict[str, Value]) -> dict[str, Any]:
    """The curves of Fig. 1b and the per-start tables of Fig. 2a and 3c."""
    cfg = result.config
    return {
        "sigma": cfg.sigma,
        "m": cfg.m,
        "ode_eta": cfg.ode_eta,
        "both_eta": cfg.both_eta,
        "eq15_eta": cfg.eq15_eta,
        "sgd": {"eta": cfg.sgd_eta, "n": cfg.sgd_n},
        "nn2pp": {str(k): v for k, v in NN2PP.items()},
        "match": _rows(result.frame("match"), ("n", "k", "seed", "alpha", "eps_sgd", "eps_ode")),
        "ode": _rows(result.frame("ode"), (*CERTIFICATION, "eq11")),
        "sgd_runs": _rows(result.frame("sgd"), ("L", "seed", "eps_sgd", "eps_ode", "eq11")),
        "both": _rows(result.frame("both"), CERTIFICATION),
        "eq15": _rows(result.frame("eq15"), ("k", "start", "eps_star", "certified", "eq15")),
    }


def ode_vs_sgd(data: dict[str, Any]) -> Any:
    """Their Fig. 1b: eps_g(alpha), ODE lines and SGD crosses, per N and K."""
    by_n = _by(data["match"], "n")
    fig, axes = plt.subplots(1, len(by_n), figsize=(5 * len(by_n), 3.8), sharey=True, squeeze=False)
    for ax, (n, part) in zip(axes[0], by_n.items()):
        for i, (k, one) in enumerate(_by(part, "k").items()):
            for s, run in _by(one, "seed").items():
                label = f"K={k}" if s == one["seed"].min() else None
                ax.loglog(run["alpha"], run["eps_ode"], color=f"C{i}", lw=1, label=label)
                ax.loglog(run["alpha"], run["eps_sgd"], "x", color=f"C{i}", ms=3)
        ax.set_title(f"N = {n} (lines: ODE, crosses: SGD)", fontsize=10)
        ax.set_xlabel("alpha = steps / N")
    axes[0][0].set_ylabel("eps_g")
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    return fig


def _certified_means(table: dict[str, list], s2: float) -> tuple[np.ndarray, ...]:
    """K, mean and (min, max) over certified starts of eps_g*/sigma^2."""
    ks, means, lo, hi = [], [], [], []
    for k, one in _by(table, "k").items():
        vals = one["eps_star"][one["certified"].astype(bool)].astype(float) / s2
        ks.append(k)
        means.append(vals.mean() if len(vals) else np.nan)
        lo.append(vals.min() if len(vals) else np.nan)
        hi.append(vals.max() if len(vals) else np.nan)
    return np.array(ks), np.array(means), np.array(lo), np.array(hi)


def eps_vs_l(data: dict[str, Any]) -> Any:
    """Their Fig. 2a: certified eps_g*/sigma^2 against L beside nn2pp's and eq. 11, each
    start's own end value (open circles), and SGD's asymptotes at its eta (right)."""
    s2, m, eta = data["sigma"] ** 2, data["m"], data["ode_eta"]
    ks, mean, lo, hi = _certified_means(data["ode"], s2)
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
    ax.errorbar(
        ks - m,
        mean,
        yerr=[mean - lo, hi - mean],
        fmt="o",
        color="C0",
        label="ours: certified eps_g*",
    )
    ode = data["ode"]
    ax.plot(
        np.asarray(ode["k"]) - m,
        np.asarray(ode["start_eps"], float) / s2,
        "o",
        mfc="none",
        color="C7",
        ms=5,
        label="each start's own end value",
    )
    ref = {int(k): v for k, v in data["nn2pp"].items() if int(k) in set(ks.tolist())}
    ax.plot(
        np.array(list(ref)) - m,
        list(ref.values()),
        "s",
        mfc="none",
        color="C3",
        ms=8,
        label="nn2pp (CLAIMS.md)",
    )
    ls = np.linspace(0, max(ks - m), 50)
    ax.plot(ls, eta / (2 * np.pi) * (ls + m / np.sqrt(3)), "-", color="C2", label="eq. 11")
    ax.set_xlabel("L = K - M")
    ax.set_ylabel("eps_g* / sigma^2")
    ax.set_title(f"ODE, eta = {eta:g}, T = I", fontsize=10)
    ax.legend(fontsize=7)
    sgd = _by(data["sgd_runs"], "L")
    for key, style, label in (
        ("eps_sgd", "x", "SGD final value"),
        ("eps_ode", "+", "ODE from the same start"),
    ):
        ax2.plot(list(sgd), [np.mean(v[key]) / s2 for v in sgd.values()], style, ms=9, label=label)
    ax2.set_xlabel("L = K - M")
    ax2.set_yscale("log")
    ax2.set_title(f"SGD, eta = {data['sgd']['eta']:g}, N = {data['sgd']['n']}", fontsize=10)
    ax2.legend(fontsize=7)
    fig.tight_layout()
    return fig


def both_layers(data: dict[str, Any]) -> Any:
    """Their Fig. 3c: certified eps_g*/sigma^2 against K with both layers trained (each start
    a dot), and for M = 1 at small eta beside eq. 15."""
    s2 = data["sigma"] ** 2
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
    both = data["both"]
    ok = np.asarray(both["certified"], bool)
    ax.plot(
        np.asarray(both["k"])[ok],
        np.asarray(both["eps_star"], float)[ok] / s2,
        ".",
        color="C7",
        label="each certified start",
    )
    ks, mean, _, _ = _certified_means(both, s2)
    ax.plot(ks, mean, "o-", color="C0", label="mean over starts")
    ax.set_title(f"both layers, M = {data['m']}, eta = {data['both_eta']:g}", fontsize=10)
    eq15 = data["eq15"]
    ks1, mean1, _, _ = _certified_means(eq15, s2)
    ref = _by(eq15, "k")
    ax2.plot(ks1, mean1, "o", label="ODE, certified")
    ax2.plot(ks1, [ref[k]["eq15"][0] / s2 for k in ks1], "--", label="eq. 15")
    ax2.set_title(f"both layers, M = 1, eta = {data['eq15_eta']:g}", fontsize=10)
    for a in (ax, ax2):
        a.set_xlabel("K")
        a.set_ylabel("eps_g* / sigma^2")
        a.legend(fontsize=7)
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
        "Certified eps_g*/sigma^2 against L (range over starts) beside nn2pp's values and "
        "eq. 11, with each start's own end value; right: SGD asymptotes at the SGD part's eta "
        "(Goldt et al. Fig. 2a).",
        eps_vs_l,
    ),
    Figure(
        "both_layers",
        "Both layers trained: certified eps_g*/sigma^2 against K, every start and their mean; "
        "right: M = 1 at small eta against eq. 15 (Goldt et al. Fig. 3c).",
        both_layers,
    ),
)
