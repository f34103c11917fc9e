"""eg_scaling in the report: the spec of shared/CLAIMS.md (Goldt et al. 2020, Sec. 1-3) and
their Fig. 1b, 2a and 3c drawn from the stored tables, with the certification of every
eps_g* per K and start."""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from sgdclaims.experiments.eg_scaling import NN2PP
from sgdclaims.report.figures import Figure, Table
from sgdclaims.runner import Result
from sgdclaims.spec import Check, ClaimSpec, Control, Criterion, Paper
from sgdclaims.teacher_student.formulas import eps_erf_scm
from sgdclaims.values import Value

_NN2PP = ", ".join(f"{v:g}" for v in NN2PP.values())
_EQ11 = ("eq. 11 (leading order in eta): eta/(2 pi) (L + M/sqrt 3) = "
         + ", ".join(f"{eps_erf_scm(2 + ell, 2, 0.05, 1.0):.4f}" for ell in range(5))
         + " for L = 0..4 at eta = 0.05, M = 2")  # fmt: skip
#: the control of a statistic must fail the statistic's criterion
NEGATION = {"<=": ">", ">=": "<", "<": ">=", ">": "<="}


def _statistic(
    name: str, op: str, threshold: float, measures: str, falsified_by: str, control: str,
    reference: dict[str, str],
) -> Check:  # fmt: skip
    """An asserted statistic whose control `{name}_control` must meet the negated criterion."""
    return Check(name, "statistic", measures, Criterion(op, threshold), falsified_by,
                 control=Control(f"{name}_control", Criterion(NEGATION[op], threshold), control),
                 reference=reference)  # fmt: skip


SPEC = ClaimSpec(
    paper=Paper(
        authors="Goldt, Advani, Saxe, Krzakala, Zdeborová",
        year="2020",
        title="Dynamics of stochastic gradient descent for two-layer neural networks in the "
        "teacher-student setup",
        reference="Thm. 1, eq. 11, 12, 15, Fig. 1b, 2a, 3, 4 (J. Stat. Mech. 124010)",
    ),
    claim=(
        "Training only the first layer, the asymptotic generalisation error grows linearly "
        "with the excess hidden units L = K - M; the ODEs match SGD; training both layers "
        "it decreases with K."
    ),
    paragraph=(
        "A student two-layer network with K hidden units learns online from a teacher with M "
        "units on Gaussian inputs, with label noise sigma. As the input dimension N grows, "
        "online SGD follows ODEs for the order parameters Q, R, T (their Thm. 1, Fig. 1b). "
        "With the second layer fixed (soft committee machine) the error at the end of "
        "training, eps_g*, is the fixed point of those ODEs on the specialised branch; at "
        "small learning rate eta it is about sigma^2 eta (L + M/sqrt 3) / (2 pi) (eq. 11, "
        "Fig. 2a): more hidden units generalise worse. A linear network obeys eq. 12 exactly; "
        "training both layers, the error falls with K instead (Sec. 3, Fig. 3, eq. 15). Here "
        "eps_g* is certified: integrated, then confirmed by Newton's method on the branch, "
        "with the drift over the last decade of alpha and the top Jacobian eigenvalue checked."
    ),
    shows=(
        "eps_g(alpha), ODE against SGD (their Fig. 1b); certified eps_g*/sigma^2 against L "
        "beside nn2pp's and eq. 11 (Fig. 2a); both layers trained against K (Fig. 3c)."
    ),
    checks=(
        _statistic(
            "ode_matches_sgd", "<=", 0.10,
            "Median over checkpoints of |log10 eps_SGD - log10 eps_ODE|, the ODE started from "
            "each SGD run's measured initial order parameters, mean over seeds, worst K of {2, 4}.",
            "A larger deviation: the ODEs would not describe SGD at this N.",
            "The SGD of K=4 against the ODE of K=2 from the same seed: curves "
            "of another network must not match.",
            {"*": "Fig. 1b: ODE and SGD curves coincide (N=784)"},
        ),
        _statistic(
            "ode_matches_sgd_4n", "<", 1.0,
            "Mean deviation at 4N over the mean deviation at N (3 seeds, both K).",
            "A ratio of 1 or more: the deviation is not a finite-size effect.",
            "The same ratio with the 4N runs read on the time scale steps/N: "
            "without Thm. 1's alpha = steps/N the deviation must not shrink.",
            {"*": "Thm. 1: fluctuations O(1/sqrt N), about 1/2 from N to 4N"},
        ),
        _statistic(
            "eg_linear_in_L", ">=", 0.99,
            "R^2 of the line through the certified eps_g*/sigma^2 (eta = 0.05, T = I, mean over "
            "certified starts) against L = 0..3 (fast) or 0..4 (full).",
            "A poor linear fit: eps_g* would not grow linearly with the excess units.",
            "The same fit of the certified eps_g* with both layers trained "
            "(Fig. 3c), which falls with K like 1/K.",
            {"*": f"{_EQ11}; nn2pp eps_g*/sigma^2 = {_NN2PP} for K = 2..6 (CLAIMS.md)"},
        ),
        _statistic(
            "eg_slope", "<=", 0.15,
            "|slope / (eta / 2 pi) - 1| of that line: its slope against eq. 11's.",
            "A slope more than 15% away from eta/(2 pi).",
            "The same for the both-layer eps_g* (a falling line).",
            {"*": "eq. 11: slope eta/(2 pi) = 0.00796 at eta = 0.05"},
        ),
        Check(
            "certified_starts", "harness",
            "Certified starts of the K with the fewest (CLAIMS.md: at least 3 starts per K; "
            "every eps_g* in the fit certified).",
            Criterion(">=", 3),
        ),
        Check("eps_star_spread", "reported",
              "Relative spread (max - min over mean) of eps_g* over certified starts, worst K."),
        Check("start_distance", "reported",
              "How far each start's own integration ended from eps_g* (worst start), with the "
              "status of every start: a start on the cancelling-pair manifold ends below it."),
        Check("nn2pp_deviation", "reported",
              "Largest |ours / nn2pp - 1| over K of eps_g*/sigma^2.",
              reference={"*": f"nn2pp (reference C++ code, eta = 0.05): {_NN2PP} for K = 2..6; "
                              "eq. 11 is leading order, 2-6% below them at eta = 0.05"}),
        Check("eq11_deviation", "reported", "Largest |ours / eq. 11 - 1| over K.",
              reference={"*": _EQ11}),
        _statistic(
            "sgd_grows_with_L", ">=", 1.0,
            "Spearman correlation of L and the SGD asymptote (final eps_g, mean over seeds).",
            "Any inversion: SGD's asymptote does not grow with L.",
            "The same with each seed's values assigned to L at random (mean "
            "over 200 relabellings).",
            {"*": "Fig. 2a: SGD crosses on the ODE lines, growing with L"},
        ),
        Check("sgd_ode_change", "reported",
              "Largest change of the same-start ODE's eps_g over the last half of the SGD run "
              "(how settled the SGD horizon is)."),
        _statistic(
            "linear_ode_eq12", "<=", 0.05,
            "Linear network: max over K of |certified ODE eps_g* / eq. 12 - 1| (mean over starts).",
            "More than 5%: eq. 12 would not hold.",
            "The same against eq. 12 with L = 0 for every K (L ignored).",
            {"*": "eq. 12: eta sigma^2 (L+M) / (4 - 2 eta (L+M)), Fig. 4"},
        ),
        _statistic(
            "linear_sgd_eq12", "<=", 0.20,
            "Linear network: max over K of |SGD final eps_g / eq. 12 - 1| (mean over seeds).",
            "More than 20%: SGD would not follow eq. 12.",
            "The same against eq. 12 with L = 0 for every K.",
            {"*": "eq. 12, Fig. 4"},
        ),
        _statistic(
            "relu_grows_with_L", ">=", 0.8,
            "ReLU soft committee machine: R^2 of the line through the SGD asymptotes against L, "
            "signed by its slope (>= 0.8 exactly when slope > 0 and R^2 >= 0.8).",
            "A flat, falling or non-linear trend: the growth with L would be special to erf.",
            "The same with each seed's values assigned to L at random.",
            {"*": "Fig. 2a (ReLU): eps_g* grows linearly with L"},
        ),
        _statistic(
            "both_layers_decrease", "<=", -0.8,
            "Both layers trained (erf, M = 2, eta = 0.2, v* = 2): Spearman correlation of K "
            "and the certified eps_g* (mean over at least 3 certified starts per K).",
            "Above -0.8: training the second layer would not reverse the trend.",
            "The same for the soft committee machine (the second layer fixed).",
            {"*": "Fig. 3c: eps_g* falls with K"},
        ),
        Check("both_certified_starts", "harness",
              "Certified starts of the K with the fewest, both layers trained.",
              Criterion(">=", 3)),
        Check("eq15_ratio", "reported",
              "Both layers, M = 1, eta = 0.05: largest |eps_g* / eq. 15 - 1| over K.",
              reference={"*": "eq. 15: eta (sigma v*)^2 / (2 sqrt 3 K pi), leading order"}),
    ),
)  # fmt: skip


def _rows(frame: Any, columns: tuple[str, ...]) -> dict[str, list]:
    """Columns of a frame as lists (missing ones left out)."""
    return {c: frame[c].tolist() for c in columns if c in frame}


def figure_data(result: Result, values: dict[str, Value]) -> dict[str, Any]:
    """The curves of Fig. 1b and the per-start tables of Fig. 2a and 3c."""
    cfg = result.config
    cert = ("k", "start", "eps_star", "certified", "source", "cpu", "start_eps", "start_alpha",
            "start_status", "start_drift", "start_eps_newton", "start_max_eig", "restart_eps",
            "restart_alpha", "restart_drift", "restart_eps_newton", "restart_max_eig",
            "restart_status")  # fmt: skip
    return {
        "sigma": cfg.sigma, "m": cfg.m, "ode_eta": cfg.ode_eta, "both_eta": cfg.both_eta,
        "eq15_eta": cfg.eq15_eta, "sgd": {"eta": cfg.sgd_eta, "n": cfg.sgd_n},
        "nn2pp": {str(k): v for k, v in NN2PP.items()},
        "match": _rows(result.frame("match"), ("n", "k", "seed", "alpha", "eps_sgd", "eps_ode")),
        "ode": _rows(result.frame("ode"), (*cert, "eq11")),
        "sgd_runs": _rows(result.frame("sgd"), ("L", "seed", "eps_sgd", "eps_ode", "eq11")),
        "both": _rows(result.frame("both"), cert),
        "eq15": _rows(result.frame("eq15"), ("k", "start", "eps_star", "certified", "eq15")),
    }  # fmt: skip


def _by(data: dict[str, list], key: str) -> dict[Any, dict[str, np.ndarray]]:
    """Rows of a stored table grouped by one column."""
    keys = np.asarray(data[key])
    return {v: {c: np.asarray(x)[keys == v] for c, x in data.items()} for v in np.unique(keys)}


def ode_vs_sgd(data: dict[str, Any]) -> Any:
    """Their Fig. 1b: eps_g(alpha), ODE lines and SGD crosses, per N and K."""
    by_n = _by(data["match"], "n")
    fig, axes = plt.subplots(1, len(by_n), figsize=(5 * len(by_n), 3.8), sharey=True,
                             squeeze=False)  # fmt: skip
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
    ax.errorbar(ks - m, mean, yerr=[mean - lo, hi - mean], fmt="o", color="C0",
                label="ours: certified eps_g*")  # fmt: skip
    ode = data["ode"]
    ax.plot(np.asarray(ode["k"]) - m, np.asarray(ode["start_eps"], float) / s2, "o", mfc="none",
            color="C7", ms=5, label="each start's own end value")  # fmt: skip
    ref = {int(k): v for k, v in data["nn2pp"].items() if int(k) in set(ks.tolist())}
    ax.plot(np.array(list(ref)) - m, list(ref.values()), "s", mfc="none", color="C3", ms=8,
            label="nn2pp (CLAIMS.md)")  # fmt: skip
    ls = np.linspace(0, max(ks - m), 50)
    ax.plot(ls, eta / (2 * np.pi) * (ls + m / np.sqrt(3)), "-", color="C2", label="eq. 11")
    ax.set_xlabel("L = K - M")
    ax.set_ylabel("eps_g* / sigma^2")
    ax.set_title(f"ODE, eta = {eta:g}, T = I", fontsize=10)
    ax.legend(fontsize=7)
    sgd = _by(data["sgd_runs"], "L")
    for key, style, label in (("eps_sgd", "x", "SGD final value"),
                              ("eps_ode", "+", "ODE from the same start")):  # fmt: skip
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
    ax.plot(np.asarray(both["k"])[ok], np.asarray(both["eps_star"], float)[ok] / s2, ".",
            color="C7", label="each certified start")  # fmt: skip
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
    Figure("ode_vs_sgd", "eps_g(alpha) of online SGD (crosses) and of the ODE started from each "
           "run's measured order parameters (lines), at N and 4N (Goldt et al. Fig. 1b).",
           ode_vs_sgd),
    Figure("eps_vs_L", "Certified eps_g*/sigma^2 against L (range over starts) beside nn2pp's "
           "values and eq. 11, with each start's own end value; right: SGD asymptotes at the "
           "SGD part's eta (Goldt et al. Fig. 2a).", eps_vs_l),
    Figure("both_layers", "Both layers trained: certified eps_g*/sigma^2 against K, every start "
           "and their mean; right: M = 1 at small eta against eq. 15 (Goldt et al. Fig. 3c).",
           both_layers),
)  # fmt: skip


def _certification(key: str) -> Any:
    def build(data: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
        s2, rows = data["sigma"] ** 2, []
        table = data[key]
        for i in range(len(table["k"])):
            get = {c: v[i] for c, v in table.items()}
            att = "restart" if get["source"] == "restart" else "start"
            rows.append([get["k"], get["start"], f"{get['eps_star'] / s2:.5f}", get["source"],
                         get["start_status"], f"{get['start_eps'] / s2:.5f}",
                         f"{get[f'{att}_eps'] / s2:.5f}", f"{get[f'{att}_eps_newton'] / s2:.5f}",
                         f"{get[f'{att}_drift']:.1e}", f"{get[f'{att}_alpha']:.3g}",
                         f"{get[f'{att}_max_eig']:.2e}", f"{get['cpu']:.1f}"])  # fmt: skip
        return (["K", "start", "eps*/s2", "certified by", "start's status", "start's end value",
                 "integrated", "Newton", "drift (decade)", "alpha", "top eigenvalue",
                 "CPU s"], rows)  # fmt: skip

    return build


TABLES = (
    Table("certification", "Every start of the soft committee machine (Fig. 2a): its own "
          "integration's end value and status, and the attempt that certified eps_g* "
          "(integrated and Newton value, drift over the last decade, alpha, top eigenvalue).",
          _certification("ode")),
    Table("certification_both", "The same with both layers trained (Fig. 3c).",
          _certification("both")),
)  # fmt: skip
