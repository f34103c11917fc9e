"""eg_scaling's experiment (Goldt et al. 2020, Sec. 1-3): teacher-student two-layer networks on
Gaussian inputs (a synthetic task), the order-parameter ODEs against online SGD, and the
asymptotic error against L = K - M, as shared/CLAIMS.md names its two objects: eps_reached
(each random start integrated to alpha_max) and eps_branch (the eq. 10 fixed point).

Units (cached separately): 'match-n<N>' ODE vs SGD curves from the same start at N and 4N
(Fig. 1b); 'reached' the erf SCM: eps_reached per K and start and eps_branch per K, start
and eta (Fig. 2a, eq. 11); 'sgd' erf SCM asymptotes by SGD; 'linear' the linear SCM by SGD
and by the ODE from the same starts (Fig. 4, eq. 12); 'relu' ReLU SCM by SGD; 'both' both
layers trained, each start's own integration (Fig. 3c); 'eq15' the same with M = 1 at small
eta (eq. 15).
"""

from __future__ import annotations

from collections.abc import Hashable

import pandas as pd

from sgdclaims.claims.eg_scaling.config import EgScalingConfig
from sgdclaims.claims.eg_scaling.runs import match_curves, sgd_asymptotes
from sgdclaims.claims.eg_scaling.runs_ode import both_part, reached_part
from sgdclaims.runner import Result, RunContext, UnitResult, run_units
from sgdclaims.teacher_student import formulas
from sgdclaims.teacher_student.ode import Dynamics

SYNTHETIC = "Gaussian inputs x ~ N(0, I_N), two-layer erf teacher with label noise (synthetic)"
#: the parts run from random ODE starts with both layers trained
BOTH_PARTS = ("both", "eq15")


def reached(cfg: EgScalingConfig, device: str) -> dict[str, pd.DataFrame]:
    """The erf SCM (Fig. 2a): eps_reached at ode_eta and eps_branch at every eta of eg_slope,
    each beside eq. 11 at its eta."""
    frames = reached_part(
        [cfg.m + ell for ell in cfg.ode_ls],
        cfg.seeds,
        cfg.m,
        dyn=Dynamics("erf", cfg.ode_eta, 0.0, cfg.sigma),
        etas=cfg.slope_etas,
        n=cfg.init_n,
        alpha_max=cfg.reached_alpha_max,
        device=device,
    )
    for name in ("reached", "branch"):
        frame = frames[name]
        etas = frame.eta if "eta" in frame else [cfg.ode_eta] * len(frame)
        frame["eq11"] = [
            formulas.eps_erf_scm(k, cfg.m, eta, cfg.sigma) for k, eta in zip(frame.k, etas)
        ]
    return frames


def both(cfg: EgScalingConfig, part: str, device: str) -> dict[str, pd.DataFrame]:
    """Both layers trained, each start's own integration: 'both' with M = 2 (Fig. 3c),
    'eq15' with M = 1 at small eta, beside eq. 15."""
    m, eta, ks = (cfg.m, cfg.both_eta, cfg.both_ks)
    if part == "eq15":
        m, eta, ks = 1, cfg.eq15_eta, cfg.eq15_ks
    frames = both_part(
        part,
        list(ks),
        cfg.seeds,
        m,
        dyn=Dynamics("erf", eta, eta, cfg.sigma),
        vs=cfg.both_vs,
        n=cfg.init_n,
        alpha_max=getattr(cfg, f"{part}_alpha_max"),
        device=device,
    )
    if part == "eq15":
        frames[part]["eq15"] = [
            formulas.eps_erf_both_layers(k, eta, cfg.sigma, cfg.both_vs) for k in frames[part].k
        ]
    return frames


def sgd_part(cfg: EgScalingConfig, part: str, device: str) -> dict[str, pd.DataFrame]:
    """SGD asymptotes: 'sgd' erf SCM (with the ODE from the same start at the same eta),
    'linear' linear SCM (with the ODE from the same start to linear_ode_alpha, eq. 12),
    'relu' ReLU SCM (Monte Carlo eps_g)."""
    m = cfg.linear_m if part == "linear" else cfg.m
    eta = getattr(cfg, f"{part}_eta")
    frame, curves = sgd_asymptotes(
        part,
        "erf" if part == "sgd" else part,
        m,
        getattr(cfg, f"{part}_ls"),
        cfg.seeds,
        n=getattr(cfg, f"{part}_n"),
        eta=eta,
        sigma=cfg.sigma,
        alpha=getattr(cfg, f"{part}_alpha"),
        mc_samples=cfg.mc_samples,
        device=device,
        with_ode=part == "sgd",
        ode_alpha=cfg.linear_ode_alpha if part == "linear" else None,
    )
    if part == "linear":
        frame["eq12"] = [formulas.eps_linear_scm(k, m, eta, cfg.sigma) for k in frame.k]
    return {part: frame, f"{part}_curves": curves}


def units(cfg: EgScalingConfig) -> list[str]:
    """Unit names: the Fig. 1b comparison at N and 4N, then one unit per part."""
    sizes = (cfg.match_n, cfg.match_n * cfg.match_n_factor)
    return [f"match-n{n}" for n in sizes] + ["reached", "sgd", "linear", "relu", *BOTH_PARTS]


def compute_unit(cfg: EgScalingConfig, name: str, device: str) -> dict[str, pd.DataFrame]:
    """The tables of one unit on `device`."""
    if name.startswith("match-n"):
        curves, runs = match_curves(
            cfg.match_ks,
            cfg.seeds,
            cfg.m,
            n=int(name.removeprefix("match-n")),
            eta=cfg.match_eta,
            sigma=cfg.sigma,
            alpha=cfg.match_alpha,
            per_decade=cfg.checkpoints_per_decade,
            uniform=cfg.match_checkpoints,
            device=device,
        )
        return {"match": curves, "match_runs": runs}
    if name == "reached":
        return reached(cfg, device)
    if name in BOTH_PARTS:
        return both(cfg, name, device)
    return sgd_part(cfg, name, device)


def run(cfg: EgScalingConfig, context: RunContext) -> Result:
    """Every unit on context.device (the ODE states and SGD networks live there); no data
    files: the task is synthetic. The runner records each unit's CPU seconds."""

    def compute(unit: Hashable) -> UnitResult:
        frames = compute_unit(cfg, str(unit), context.device)
        return UnitResult(frames=frames, provenance={"dataset": SYNTHETIC, "synthetic": True})

    return run_units(cfg, units(cfg), compute, context, label="eg_scaling")
