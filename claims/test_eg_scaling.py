"""eg_scaling (Goldt et al. 2020): eps_g* grows linearly with L = K - M for the soft
committee machine, the ODEs match SGD, and training both layers reverses the trend."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from sgdclaims.cases import scale_cases
from sgdclaims.experiments.eg_scaling import config, run
from sgdclaims.report import figures_eg_scaling as figs
from sgdclaims.teacher_student.formulas import eps_linear_scm


def fit_line(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Least-squares slope, intercept and R^2 of y against x."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    slope, intercept = np.polyfit(x, y, 1)
    resid = y - (slope * x + intercept)
    ss = float(((y - y.mean()) ** 2).sum())
    r2 = 1 - float((resid**2).sum()) / ss if ss > 0 else float("nan")
    return float(slope), float(intercept), r2


def _result(scale: str, dataset: str, *parts: str):
    return run(config(scale, dataset), parts=parts, progress=False)


def _median_dev(frame: pd.DataFrame) -> pd.Series:
    """Median over checkpoints of |log10 eps_SGD - log10 eps_ODE| per (n, k, seed)."""
    dev = (np.log10(frame.eps_sgd) - np.log10(frame.eps_ode)).abs()
    return dev.groupby([frame.n, frame.k, frame.seed]).median()


@pytest.mark.parametrize(("scale", "dataset"), scale_cases(fast=["erf_scm"], full=["erf_scm"]))
def test_ode_matches_sgd(claim, scale, dataset):
    res = _result(scale, dataset, "match")
    claim.use(res)
    cfg = res.config
    match = res.frame("match")
    dev = _median_dev(match)
    n0, n1 = cfg.match_n, cfg.match_n * cfg.match_n_factor
    per_k = dev.loc[n0].groupby(level="k").mean()
    # control: the ODE of the smallest K against SGD of the largest K (unmatched curves)
    small, large = min(cfg.match_ks), max(cfg.match_ks)
    a = match[(match.n == n0) & (match.k == small)].reset_index(drop=True)
    b = match[(match.n == n0) & (match.k == large)].reset_index(drop=True)
    control = float(np.median((np.log10(b.eps_sgd) - np.log10(a.eps_ode)).abs().to_numpy()))
    claim.record(
        "median_log10_deviation_max_over_K",
        per_k.max(),
        op="<=",
        threshold=0.10,
        per_seed=dev.loc[n0].to_numpy(),
        control=control,
        note=f"N={n0}; per K: " + ", ".join(f"K={k}: {v:.3f}" for k, v in per_k.items()),
    )
    shrink = dev.loc[n1].mean() / dev.loc[n0].mean()
    claim.record(
        "deviation_ratio_4N_over_N",
        shrink,
        op="<",
        threshold=1.0,
        note=f"mean deviation {dev.loc[n0].mean():.4f} at N={n0}, "
        f"{dev.loc[n1].mean():.4f} at N={n1} (Thm. 1: 1/sqrt(N))",
        reference="1/2 for 1/sqrt(N) convergence",
    )
    claim.figure(
        "eps_curves",
        figs.curves(match),
        "eps_g(alpha): ODE lines, SGD crosses "
        "(their Fig. 1b), ODE started from each SGD run's initial order parameters",
    )
    claim.figure(
        "order_parameters",
        figs.heat_maps(res.arrays[f"match-n{n0}"]),
        f"final Q and R, K={large}, N={n0} (their Fig. 2b)",
    )
    claim.verify()


@pytest.mark.parametrize(("scale", "dataset"), scale_cases(fast=["erf_scm"], full=["erf_scm"]))
def test_eg_linear_in_L(claim, scale, dataset):
    res = _result(scale, dataset, "ode", "sgd")
    claim.use(res)
    cfg = res.config
    ode, sgd = res.frame("ode"), res.frame("sgd")
    target = cfg.ode_eta / (2 * np.pi)
    scm, both = ode[ode["mode"] == "scm"], ode[ode["mode"] == "both"]
    slope, _, r2 = fit_line(scm.L, scm.eps_star / cfg.sigma**2)
    c_slope, _, c_r2 = fit_line(both.L, both.eps_star / cfg.sigma**2)
    claim.record("fit_r2", r2, op=">=", threshold=0.99, control=c_r2)
    claim.record(
        "slope_rel_error",
        abs(slope / target - 1),
        op="<=",
        threshold=0.15,
        control=abs(c_slope / target - 1),
        note=f"slope {slope:.5f} vs eta/(2 pi) = {target:.5f}; both-layer control "
        f"slope {c_slope:.5f}",
        reference="eq. 11",
    )
    claim.record("all_ode_converged", float(scm.converged.all()), op=">=", threshold=1.0)
    mean_sgd = sgd.groupby("L").eps_sgd.mean()
    rho = spearmanr(mean_sgd.index, mean_sgd.to_numpy()).statistic
    claim.record(
        "sgd_spearman",
        rho,
        op=">=",
        threshold=1.0,
        per_seed=sgd.eps_sgd.to_numpy() / cfg.sigma**2,
        note=f"SGD N={cfg.sgd_n}, eta={cfg.sgd_eta}",
    )
    table = pd.DataFrame(
        {
            "L": scm.L.to_numpy(),
            f"ODE eps*/s2 (eta={cfg.ode_eta:g})": scm.eps_star.to_numpy() / cfg.sigma**2,
            "eq.11": scm.eq11.to_numpy() / cfg.sigma**2,
            "alpha converged": scm.alpha_converged.to_numpy(),
        }
    )
    claim.table("ode_asymptotes", table, "erf SCM, M=2, T=I: eps_g*/sigma^2 (their Fig. 2a)")
    g = sgd.groupby("L")
    claim.table(
        "sgd_asymptotes",
        pd.DataFrame(
            {
                "L": g.eps_sgd.mean().index,
                "SGD": g.eps_sgd.mean().to_numpy() / cfg.sigma**2,
                "ODE same start": g.eps_ode.mean().to_numpy() / cfg.sigma**2,
                "eq.11": g.eq11.mean().to_numpy() / cfg.sigma**2,
            }
        ),
        f"eps_g*/sigma^2 at eta={cfg.sgd_eta}, N={cfg.sgd_n} (tail means over seeds)",
    )
    claim.figure(
        "eps_vs_L",
        figs.eps_vs_l(ode, sgd, cfg.sigma, cfg.ode_eta, cfg.m),
        "eps_g*/sigma^2 against L with eq. 11 (their Fig. 2a)",
    )
    claim.verify()


@pytest.mark.parametrize(
    ("scale", "dataset"), scale_cases(fast=["linear_scm"], full=["linear_scm"])
)
def test_linear_net_formula(claim, scale, dataset):
    res = _result(scale, dataset, "linear")
    claim.use(res)
    cfg = res.config
    lin = res.frame("linear")
    g = lin.groupby("k")
    eq12 = g.eq12.mean()
    ode_err = (g.eps_ode.mean() / eq12 - 1).abs()
    sgd_err = (g.eps_sgd.mean() / eq12 - 1).abs()
    at_m = eps_linear_scm(cfg.linear_m, cfg.linear_m, cfg.linear_eta, cfg.sigma)
    control = float((g.eps_sgd.mean() / at_m - 1).abs().max())
    claim.record("ode_rel_error", ode_err.max(), op="<=", threshold=0.05, reference="eq. 12")
    claim.record(
        "sgd_rel_error",
        sgd_err.max(),
        op="<=",
        threshold=0.20,
        control=control,
        per_seed=(lin.eps_sgd / lin.eq12).to_numpy(),
        note="control: SGD against eq. 12 with L=0 for every K",
    )
    claim.table(
        "linear",
        pd.DataFrame(
            {
                "K": eq12.index,
                "ODE": g.eps_ode.mean().to_numpy() / cfg.sigma**2,
                "SGD": g.eps_sgd.mean().to_numpy() / cfg.sigma**2,
                "eq.12": eq12.to_numpy() / cfg.sigma**2,
            }
        ),
        f"linear SCM eps_g*/sigma^2, M={cfg.linear_m}, N={cfg.linear_n}, eta={cfg.linear_eta}",
    )
    claim.verify()


@pytest.mark.parametrize(("scale", "dataset"), scale_cases(fast=["relu_scm"], full=["relu_scm"]))
def test_relu_grows_with_L(claim, scale, dataset):
    res = _result(scale, dataset, "relu")
    claim.use(res)
    cfg = res.config
    relu = res.frame("relu")
    mean = relu.groupby("L").eps_sgd.mean() / cfg.sigma**2
    slope, _, r2 = fit_line(mean.index, mean.to_numpy())
    # control: the same fit with L reversed (a decreasing trend must fail)
    c_slope, _, _ = fit_line(mean.index[::-1], mean.to_numpy())
    claim.record(
        "slope",
        slope,
        op=">",
        threshold=0.0,
        control=c_slope,
        per_seed=relu.eps_sgd.to_numpy() / cfg.sigma**2,
    )
    claim.record("fit_r2", r2, op=">=", threshold=0.8)
    claim.table(
        "relu",
        pd.DataFrame({"L": mean.index, "SGD eps*/s2": mean.to_numpy()}),
        f"ReLU SCM, SGD N={cfg.relu_n}, eta={cfg.relu_eta}, Monte Carlo eps_g",
    )
    claim.verify()


@pytest.mark.parametrize(("scale", "dataset"), scale_cases(fast=["erf_both"], full=["erf_both"]))
def test_both_layers_decrease(claim, scale, dataset):
    res = _result(scale, dataset, "both", "ode")
    claim.use(res)
    cfg = res.config
    both = res.frame("both")
    main = both[both.m == cfg.m]
    rho = spearmanr(main.k, main.eps_star).statistic
    scm = res.frame("ode")
    scm = scm[scm["mode"] == "scm"]
    control = spearmanr(scm.k, scm.eps_star).statistic
    claim.record(
        "spearman",
        rho,
        op="<=",
        threshold=-0.8,
        control=control,
        note="control: the SCM's eps_g* against K",
    )
    m1 = both[both.m == 1]
    claim.record(
        "eq15_ratio",
        float((m1.eps_star / m1.eq15).median()),
        note="M=1: ODE eps_g* / eq. 15 (median over K)",
        reference="1 for small eta",
    )
    claim.table(
        "both", both[["m", "k", "eps_star", "eq15", "converged"]], "both layers trained: eps_g*"
    )
    claim.figure(
        "both_layers",
        figs.both_layers(both, cfg.sigma),
        "eps_g*/sigma^2 against K, both layers (their Fig. 3c)",
    )
    claim.verify()
