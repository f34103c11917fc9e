"""eg_scaling (Goldt et al. 2020, Sec. 1-3): teacher-student two-layer networks on Gaussian
inputs (a synthetic task), the order-parameter ODEs against online SGD, and the certified
asymptotic error eps_g* against L = K - M.

Units (cached separately): 'match-n<N>' ODE vs SGD curves from the same start at N and 4N
(Fig. 1b); 'ode' certified erf SCM eps_g* per K and start (Fig. 2a, eq. 11); 'sgd' erf SCM
asymptotes by SGD; 'linear' linear SCM by SGD and the certified ODE (Fig. 4, eq. 12); 'relu'
ReLU SCM by SGD; 'both' both layers trained, certified eps_g* per K and start (Fig. 3c);
'eq15' both layers, M = 1, small eta (eq. 15). eps_g* is certified as shared/CLAIMS.md
prescribes (teacher_student.asymptote): integrate, Newton on the specialised branch, (a)
within 1%, (b) drift below 0.1% over the last decade, (c) top eigenvalue recorded.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Hashable
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from sgdclaims.config import Cases, Config, Set, require_positive, require_seeds
from sgdclaims.runner import Result, RunContext, UnitResult, run_units
from sgdclaims.teacher_student import formulas
from sgdclaims.teacher_student.fits import (
    k_means,
    line_fit,
    log_deviation,
    nanmax,
    per_k,
    signed_r2,
    spearman_or_nan,
    trend,
)
from sgdclaims.teacher_student.ode import Dynamics
from sgdclaims.teacher_student.runs import certified_sweep, match_curves, sgd_asymptotes
from sgdclaims.values import Statistics, Value, seed_mean

#: eps_g*/sigma^2 of the reference C++ code nn2pp, erf SCM, M=2, eta=0.05, sigma=0.01, K=2..6
#: (shared/CLAIMS.md, eg_scaling)
NN2PP = {2: 0.0094, 3: 0.0178, 4: 0.0262, 5: 0.0338, 6: 0.0436}
SYNTHETIC = "Gaussian inputs x ~ N(0, I_N), two-layer erf teacher with label noise (synthetic)"


@dataclasses.dataclass(frozen=True)
class EgScalingConfig(Config):
    """All parts of the claim; defaults are the paper's values (Fig. 1b, 2a, 3c, 4)."""

    SMOKE: ClassVar[dict[str, Any]] = {
        "seeds": (0,), "match_n": 50, "match_alpha": 5.0, "ode_ls": (0, 2), "ode_alpha_max": 2e3,
        "restart_alpha_max": 2e3, "sgd_n": 50, "sgd_ls": (0, 1), "sgd_alpha": 5.0,
        "linear_ls": (0, 1), "linear_alpha": 5.0, "linear_ode_alpha": 2e3, "relu_n": 50,
        "relu_ls": (0, 1), "relu_alpha": 5.0, "mc_samples": 500, "both_ks": (2, 3),
        "both_alpha_max": 2e3, "eq15_ks": (1, 2), "eq15_alpha_max": 2e3,
    }  # fmt: skip

    m: int = 2
    sigma: float = 0.01
    seeds: tuple[int, ...] = (0, 1, 2)  # SGD seeds and ODE starts
    checkpoints_per_decade: int = 10
    # their Fig. 1b: ODE vs SGD from the same initial order parameters, at N and 4N
    match_n: int = 784
    match_n_factor: int = 4
    match_ks: tuple[int, ...] = (2, 4)
    match_eta: float = 0.2
    match_alpha: float = 10_000.0
    # their Fig. 2a: certified erf SCM eps_g* from random starts (N(0,1) weights, N=784)
    init_n: int = 784
    ode_eta: float = 0.05
    ode_ls: tuple[int, ...] = (0, 1, 2, 3, 4)
    ode_alpha_max: float = 1e6
    restart_alpha_max: float = 1e6
    alpha_check: float = 1e3
    # erf SCM asymptotes by SGD (their Fig. 2a crosses)
    sgd_n: int = 784
    sgd_eta: float = 0.05
    sgd_ls: tuple[int, ...] = (0, 1, 2, 3, 4)
    sgd_alpha: float = 3e5
    # their Fig. 4: linear SCM
    linear_m: int = 4
    linear_n: int = 100
    linear_eta: float = 0.01
    linear_ls: tuple[int, ...] = (0, 1, 2, 3, 4)
    linear_alpha: float = 3000.0
    linear_ode_alpha: float = 1e5
    # ReLU SCM by SGD (their Fig. 2a)
    relu_n: int = 784
    relu_eta: float = 0.05
    relu_ls: tuple[int, ...] = (0, 1, 2, 3, 4)
    relu_alpha: float = 3e5
    mc_samples: int = 20_000
    # their Fig. 3c: both layers trained; eq. 15: M = 1 at small eta
    both_eta: float = 0.2
    both_vs: float = 2.0
    both_ks: tuple[int, ...] = (2, 3, 4, 5, 6, 7)
    both_alpha_max: float = 1e6
    eq15_eta: float = 0.05
    eq15_ks: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7)
    eq15_alpha_max: float = 1e6

    def validate(self) -> None:
        """ValueError naming the field for values the claim cannot run with."""
        for f in dataclasses.fields(self):
            if f.type in ("int", "float"):  # sizes, learning rates, sigma, v*, horizons
                require_positive(f.name, getattr(self, f.name))
        require_seeds("seeds", self.seeds)
        for name, least in (("match_ks", self.m), ("both_ks", self.m), ("eq15_ks", 1)):
            ks = getattr(self, name)
            if not ks or any(k < least for k in ks):
                raise ValueError(f"{name} must hold K >= M = {least}, got {ks}")
        for name in ("ode_ls", "sgd_ls", "linear_ls", "relu_ls"):
            ls = getattr(self, name)
            if len(ls) < 2 or any(ell < 0 for ell in ls) or len(set(ls)) != len(ls):
                raise ValueError(f"{name} must hold >= 2 distinct L = K - M >= 0, got {ls}")
        if self.eq15_eta > 0.05:
            raise ValueError(f"eq15_eta must be <= 0.05 (eq. 15 is small-eta), got {self.eq15_eta}")
        if 2 * self.linear_eta * (self.linear_m + max(self.linear_ls)) >= 4:
            raise ValueError("linear_eta is too large: eq. 12 needs eta K < 2 for every K")


CASES = Cases(
    EgScalingConfig,
    full={"gaussian": {}},
    fast={
        "gaussian": {
            "match_n": Set(500, "N=500 (CLAIMS.md fast scale): SGD needs alpha*N steps"),
            "match_eta": Set(1.0, "a larger eta shortens the plateau, so it and its exit fit in "
                             "alpha=300 (the ODE is compared at the same eta)"),
            "match_alpha": Set(300.0, "covers the plateau and its exit at eta=1 (CLAIMS.md)"),
            "ode_ls": Set((0, 1, 2, 3), "L=0..3 (CLAIMS.md fast scale)"),
            "ode_alpha_max": Set(1e5, "K=2,3 settle by ~1e4 and certify a decade later; a K>=4 "
                                 "start that ends on a cancelling pair or still drifts at 1e5 "
                                 "is restarted from its projection onto the branch"),
            "sgd_n": Set(100, "small N: SGD to the asymptote needs alpha*N steps"),
            "sgd_eta": Set(0.5, "a larger eta converges sooner (SGD compared to the ODE at it)"),
            "sgd_ls": Set((0, 1, 2, 3), "L=0..3 as the ODE part"),
            "sgd_alpha": Set(1500.0, "L<=2 settle by ~750 at eta=0.5; K=5 does not settle "
                             "in the CPU budget (sgd_ode_change reports how far)"),
            "linear_ls": Set((0, 1, 2, 3), "L=0..3 as the ODE part"),
            "linear_alpha": Set(1000.0, "converged by ~300 at eta=0.01"),
            "relu_n": Set(100, "small N: SGD to the asymptote needs alpha*N steps"),
            "relu_eta": Set(0.2, "a larger eta converges sooner"),
            "relu_ls": Set((0, 1, 2, 3), "L=0..3 as the ODE part"),
            "relu_alpha": Set(1500.0, "converged by ~800 at eta=0.2 (CPU budget)"),
            "mc_samples": Set(5000, "Monte Carlo eps_g on 5,000 held-out inputs (CPU budget)"),
            "both_ks": Set((2, 3, 4, 5), "K=2..5 (CPU budget)"),
            "both_alpha_max": Set(1e4, "the starts specialise by ~1e3; each start not certified "
                                  "by 1e4 is restarted from its projection onto the branch"),
            "eq15_ks": Set((1, 2, 3, 4, 5), "K=1..5 (CPU budget)"),
            "eq15_alpha_max": Set(4e4, "eta=0.05 is 4x slower than 0.2; restarts as above"),
        }
    },
)  # fmt: skip


def certified_part(cfg: EgScalingConfig, part: str, device: str) -> pd.DataFrame:
    """Certified eps_g* per K and start: 'ode' the erf SCM (Fig. 2a, beside eq. 11), 'both'
    both layers trained (Fig. 3c), 'eq15' both layers with M = 1 at small eta (eq. 15)."""
    m, eta, eta_v, ks, alpha = {
        "ode": (cfg.m, cfg.ode_eta, 0.0, [cfg.m + ell for ell in cfg.ode_ls], cfg.ode_alpha_max),
        "both": (cfg.m, cfg.both_eta, cfg.both_eta, list(cfg.both_ks), cfg.both_alpha_max),
        "eq15": (1, cfg.eq15_eta, cfg.eq15_eta, list(cfg.eq15_ks), cfg.eq15_alpha_max),
    }[part]
    frame = certified_sweep(
        ks, cfg.seeds, m, part=("ode", "both", "eq15").index(part) + 2, vs=1.0 if part == "ode"
        else cfg.both_vs, dyn=Dynamics("erf", eta, eta_v, cfg.sigma), n=cfg.init_n,
        branch="scm" if part == "ode" else "both", alpha_max=alpha, device=device,
        restart_alpha_max=cfg.restart_alpha_max, alpha_check=cfg.alpha_check,
    )  # fmt: skip
    frame.insert(1, "L", frame.k - m)
    if part == "ode":
        frame["eq11"] = [formulas.eps_erf_scm(k, m, eta, cfg.sigma) for k in frame.k]
    if part == "eq15":
        frame["eq15"] = [
            formulas.eps_erf_both_layers(k, eta, cfg.sigma, cfg.both_vs) for k in frame.k
        ]
    return frame


def sgd_part(cfg: EgScalingConfig, part: str, device: str) -> dict[str, pd.DataFrame]:
    """SGD asymptotes: 'sgd' erf SCM (with the ODE from the same start at the same eta),
    'linear' linear SCM (with the certified ODE, eq. 12), 'relu' ReLU SCM (Monte Carlo)."""
    m, eta = (cfg.linear_m if part == "linear" else cfg.m), getattr(cfg, f"{part}_eta")
    frame, curves = sgd_asymptotes(
        ("sgd", "linear", "relu").index(part) + 5, {"sgd": "erf"}.get(part, part), m,
        getattr(cfg, f"{part}_ls"), cfg.seeds, n=getattr(cfg, f"{part}_n"), eta=eta,
        sigma=cfg.sigma, alpha=getattr(cfg, f"{part}_alpha"), mc_samples=cfg.mc_samples,
        device=device, with_ode=part == "sgd",
        certify_alpha=cfg.linear_ode_alpha if part == "linear" else None,
    )  # fmt: skip
    if part == "linear":
        frame["eq12"] = [formulas.eps_linear_scm(k, m, eta, cfg.sigma) for k in frame.k]
    return {part: frame, f"{part}_curves": curves}


def units(cfg: EgScalingConfig) -> list[str]:
    """Unit names: the Fig. 1b comparison at N and 4N, then one unit per part."""
    sizes = (cfg.match_n, cfg.match_n * cfg.match_n_factor)
    return [f"match-n{n}" for n in sizes] + ["ode", "sgd", "linear", "relu", "both", "eq15"]


def run(cfg: EgScalingConfig, context: RunContext) -> Result:
    """Every unit on context.device (the ODE states and SGD networks live there); no data
    files: the task is synthetic."""

    def compute(unit: Hashable) -> UnitResult:
        name, start, device = str(unit), time.process_time(), context.device
        if name.startswith("match-n"):
            frames = {"match": match_curves(
                cfg.match_ks, cfg.seeds, cfg.m, n=int(name.removeprefix("match-n")),
                n_ref=cfg.match_n, eta=cfg.match_eta, sigma=cfg.sigma, alpha=cfg.match_alpha,
                per_decade=cfg.checkpoints_per_decade, device=device)}  # fmt: skip
        elif name in ("ode", "both", "eq15"):
            frames = {name: certified_part(cfg, name, device)}
        else:
            frames = sgd_part(cfg, name, device)
        return UnitResult(frames=frames, scalars={"cpu_seconds": time.process_time() - start},
                          provenance={"dataset": SYNTHETIC, "synthetic": True})  # fmt: skip

    return run_units(cfg, units(cfg), compute, context, label="eg_scaling")


# --- the claim's values (shared/CLAIMS.md, eg_scaling) ---------------------------------------

statistics = Statistics()
PERMUTED = "each seed's values assigned to L by an independent random permutation (mean of 200)"
PER_K = "fit of the per-K means over certified starts; per start: that start's own fit"


def _deviations(frame: pd.DataFrame, n: int, ode: str = "eps_ode", k_ode: int = 0) -> pd.Series:
    """Median |log10 eps_SGD - log10 eps_ODE| per (K, seed) at size n; the ODE of the same
    run, or of K = k_ode from the same seed."""
    at_n = frame[frame.n == n]
    out = {}
    for (k, seed), run_ in at_n.groupby(["k", "seed"]):
        twin = at_n[(at_n.k == (k_ode or k)) & (at_n.seed == seed)]
        out[(k, seed)] = log_deviation(run_.eps_sgd.to_numpy(), twin[ode].to_numpy())
    return pd.Series(out).rename_axis(["k", "seed"])


@statistics.returns(
    "ode_matches_sgd", "ode_matches_sgd_control", "ode_matches_sgd_4n", "ode_matches_sgd_4n_control"
)
def _match(result: Result) -> dict[str, Value]:
    cfg, frame = result.config, result.frame("match")
    n0, n1, k0 = cfg.match_n, cfg.match_n * cfg.match_n_factor, min(cfg.match_ks)
    base, big = _deviations(frame, n0), _deviations(frame, n1)
    nan = {"skipna": False}  # a diverged run (NaN deviation) fails; never dropped
    per_k, wrong = base.groupby("k").mean(**nan), _deviations(frame, n0, k_ode=k0).drop(k0)
    ratio = big.groupby("seed").mean(**nan) / base.groupby("seed").mean(**nan)
    means = {f"mean at N={n0}": base.mean(**nan), f"mean at N={n1}": big.mean(**nan)}
    return {
        "ode_matches_sgd": Value(
            per_k.max(**nan), base.groupby("seed").max(**nan),
            f"N={n0}: the worst K of the mean over seeds; per seed: its worst K",
            {f"K={k}": v for k, v in per_k.items()},
        ),
        "ode_matches_sgd_control": seed_mean(
            wrong, f"N={n0}: SGD of K={max(cfg.match_ks)} against the ODE of K={k0} started from "
            "the same seed (curves of another network)",
        ),
        "ode_matches_sgd_4n": Value(big.mean(**nan) / base.mean(**nan), ratio, "mean deviation at "
                                    f"N={n1} over that at N={n0}; per seed", means),
        "ode_matches_sgd_4n_control": Value(
            _deviations(frame, n1, "eps_ode_ref").mean(**nan) / base.mean(**nan),
            note=f"the same with the N={n1} runs read on the time scale steps/{n0} (not "
            "Thm. 1's alpha = steps/N)",
        ),
    }  # fmt: skip


def _line(ks: np.ndarray, table: np.ndarray, m: int) -> tuple[float, float, list, list]:
    """Slope and R^2 of the per-K means against L = K - M, and of each start's values."""
    slope, _, r2 = line_fit(ks - m, k_means(table))
    per = [line_fit(ks - m, row) for row in table]
    return slope, r2, [p[0] for p in per], [p[2] for p in per]


@statistics.returns(
    "eg_linear_in_L", "eg_linear_in_L_control", "eg_slope", "eg_slope_control",
    "certified_starts", "eps_star_spread", "start_distance", "nn2pp_deviation", "eq11_deviation",
)  # fmt: skip
def _scm(result: Result) -> dict[str, Value]:
    cfg, frame, both = result.config, result.frame("ode"), result.frame("both")
    s2, target = cfg.sigma**2, cfg.ode_eta / (2 * np.pi)
    ks, table = per_k(frame, "eps_star", s2)
    means = k_means(table)
    slope, r2, slopes, r2s = _line(ks, table, cfg.m)
    b_ks, b_table = per_k(both[both.k.isin(ks)], "eps_star", s2)
    b_slope, b_r2 = _line(b_ks, b_table, cfg.m)[:2] if len(b_ks) > 1 else (np.nan, np.nan)
    counts = np.isfinite(table).sum(axis=0)
    spread = np.array([nanmax(c) + nanmax(-c) for c in table.T]) / means
    ends = frame.pivot(index="start", columns="k", values="start_eps").to_numpy() / s2
    dist = np.abs(ends / means - 1).max(axis=0)
    eq11 = frame.groupby("k").eq11.first().to_numpy() / s2
    ref = np.array([NN2PP.get(int(k), np.nan) for k in ks])
    status = frame.groupby("k").start_status.agg(lambda x: ", ".join(sorted(set(x))))
    ours = {f"K={k} ours": v for k, v in zip(ks, means)}
    return {
        "eg_linear_in_L": Value(r2, r2s, f"R^2; {PER_K}", {"slope": slope}),
        "eg_linear_in_L_control": Value(b_r2, note="R^2 of the certified both-layer eps_g* "
                                        "(Fig. 3c) against L = K - M", details={"slope": b_slope}),
        "eg_slope": Value(abs(slope / target - 1), np.abs(np.array(slopes) / target - 1),
                          f"|slope / (eta / 2 pi) - 1|; {PER_K}",
                          {"slope": slope, "eta/(2 pi)": target}),
        "eg_slope_control": Value(abs(b_slope / target - 1), note="the same for the certified "
                                  "both-layer eps_g* (Fig. 3c) against L"),
        "certified_starts": Value(counts.min(), counts, "certified starts of the K with the "
                                  "fewest; per K: the count"),
        "eps_star_spread": Value(nanmax(spread), spread, "(max - min) / mean of eps_g* over "
                                 "certified starts, the worst K; per K"),
        "start_distance": Value(nanmax(dist), dist, "|eps_g at the end of a start's own "
                                "integration / eps_g* - 1|, the worst start; per K. Status of the "
                                "starts: " + "; ".join(f"K={k}: {x}" for k, x in status.items())),
        "nn2pp_deviation": Value(nanmax(np.abs(means / ref - 1)), note="max over K of |ours / "
                                 "nn2pp - 1| (eps_g*/sigma^2)", details={**ours, **{
                                     f"K={k} nn2pp": v for k, v in zip(ks, ref) if v == v}}),
        "eq11_deviation": Value(nanmax(np.abs(means / eq11 - 1)), note="max over K of |ours / "
                                "eq. 11 - 1|", details={f"K={k} eq. 11": e for k, e in
                                                        zip(ks, eq11)}),
    }  # fmt: skip


@statistics.returns(
    "sgd_grows_with_L", "sgd_grows_with_L_control", "sgd_ode_change", "relu_grows_with_L",
    "relu_grows_with_L_control",
)  # fmt: skip
def _sgd(result: Result) -> dict[str, Value]:
    cfg, sgd, relu = result.config, result.frame("sgd"), result.frame("relu")
    ls, rho, rhos, rho_perm, means = trend(sgd, "eps_sgd", spearman_or_nan, cfg.sigma**2)
    relu_ls, r2, r2s, r2_perm, relu_means = trend(relu, "eps_sgd", signed_r2, cfg.sigma**2)
    change = sgd.groupby("L").ode_change.max(skipna=False)
    return {
        "sgd_grows_with_L": Value(rho, rhos, "Spearman of L and the per-L mean over seeds of the "
                                  "final SGD eps_g/sigma^2; per seed",
                                  {f"L={ell:g}": v for ell, v in zip(ls, means)}),
        "sgd_grows_with_L_control": Value(rho_perm, note=f"the same, {PERMUTED}"),
        "sgd_ode_change": Value(change.max(skipna=False), sgd.ode_change, "the ODE from each "
                                "SGD start at its eta: |change of eps_g over the last half of "
                                "the SGD run|, the largest; per run",
                                {f"L={ell}": v for ell, v in change.items()}),
        "relu_grows_with_L": Value(r2, r2s, "R^2 of the line through the per-L means over seeds "
                                   "(eps_g/sigma^2), signed by its slope; per seed",
                                   {f"L={ell:g}": v for ell, v in zip(relu_ls, relu_means)}),
        "relu_grows_with_L_control": Value(r2_perm, note=f"the same, {PERMUTED}"),
    }  # fmt: skip


@statistics.returns(
    "linear_ode_eq12", "linear_ode_eq12_control", "linear_sgd_eq12", "linear_sgd_eq12_control"
)
def _linear(result: Result) -> dict[str, Value]:
    cfg, frame = result.config, result.frame("linear")
    at_m = formulas.eps_linear_scm(cfg.linear_m, cfg.linear_m, cfg.linear_eta, cfg.sigma)
    out = {}
    for name, column in (("linear_ode_eq12", "eps_star"), ("linear_sgd_eq12", "eps_sgd")):
        err = frame.assign(
            e=np.abs(frame[column] / frame.eq12 - 1), c=np.abs(frame[column] / at_m - 1)
        )
        out[name] = Value(
            err.groupby("k").e.mean(skipna=False).max(skipna=False),
            err.groupby("seed").e.max(skipna=False),
            "max over K of the mean over seeds of |value / eq. 12 - 1|; per seed: its worst K",
        )
        out[f"{name}_control"] = Value(
            err.groupby("k").c.mean(skipna=False).max(skipna=False),
            note="the same against eq. 12 with L = 0 for every K (L ignored)",
        )
    return out  # fmt: skip


@statistics.returns(
    "both_layers_decrease", "both_layers_decrease_control", "both_certified_starts", "eq15_ratio"
)
def _both(result: Result) -> dict[str, Value]:
    cfg, eq15 = result.config, result.frame("eq15")
    ks, table = per_k(result.frame("both"), "eps_star", cfg.sigma**2)
    scm_ks, scm = per_k(result.frame("ode"), "eps_star", cfg.sigma**2)
    means, counts = k_means(table), np.isfinite(table).sum(axis=0)
    ratio = (eq15.eps_star / eq15.eq15).groupby(eq15.k).mean(skipna=False)
    return {
        "both_layers_decrease": Value(spearman_or_nan(ks, means), [spearman_or_nan(ks, row) for
                                      row in table], "Spearman of K and the per-K mean of "
                                      "certified eps_g*/sigma^2; per start",
                                      {f"K={k}": v for k, v in zip(ks, means)}),
        "both_layers_decrease_control": Value(spearman_or_nan(scm_ks, k_means(scm)), note="the "
                                              "same for the soft committee machine (Fig. 2a)"),
        "both_certified_starts": Value(counts.min(), counts, "certified starts of the K with the "
                                       "fewest; per K"),
        "eq15_ratio": Value(np.abs(ratio - 1).max(skipna=False), ratio,
                            f"M=1, eta={cfg.eq15_eta:g}: max over K of |eps_g* / eq. 15 - 1|; "
                            "per K: eps_g* / eq. 15",
                            {f"K={k}": v for k, v in ratio.items()}),
    }  # fmt: skip
