"""eg_scaling's experiment (Goldt et al. 2020, Sec. 1-3): teacher-student two-layer networks on
Gaussian inputs (a synthetic task), the order-parameter ODEs against online SGD, and the
certified asymptotic error eps_g* against L = K - M.

Units (cached separately): 'match-n<N>' ODE vs SGD curves from the same start at N and 4N
(Fig. 1b); 'ode' certified erf SCM eps_g* per K and start (Fig. 2a, eq. 11); 'sgd' erf SCM
asymptotes by SGD; 'linear' linear SCM by SGD and the certified ODE (Fig. 4, eq. 12); 'relu'
ReLU SCM by SGD; 'both' both layers trained, certified eps_g* per K and start (Fig. 3c);
'eq15' both layers, M = 1, small eta (eq. 15). eps_g* is certified as shared/CLAIMS.md
prescribes (teacher_student.asymptote): integrate, Newton on the specialised branch, (a)
within 1%, (b) drift below 0.1% over the last decade, (c) top eigenvalue recorded.
"""

from __future__ import annotations

import time
from collections.abc import Hashable

import pandas as pd

from sgdclaims.claims.eg_scaling.config import EgScalingConfig
from sgdclaims.claims.eg_scaling.runs import certified_sweep, match_curves, sgd_asymptotes
from sgdclaims.runner import Result, RunContext, UnitResult, run_units
from sgdclaims.teacher_student import formulas
from sgdclaims.teacher_student.ode import Dynamics

SYNTHETIC = "Gaussian inputs x ~ N(0, I_N), two-layer erf teacher with label noise (synthetic)"
#: the parts whose eps_g* is certified from random starts (the others run SGD)
CERTIFIED_PARTS = ("ode", "both", "eq15")


def certified_settings(
    cfg: EgScalingConfig, part: str
) -> tuple[int, float, float, list[int], float]:
    """M, eta of the first layer, eta of the second, the K values and alpha_max of a
    certified part."""
    if part == "ode":
        return cfg.m, cfg.ode_eta, 0.0, [cfg.m + ell for ell in cfg.ode_ls], cfg.ode_alpha_max
    if part == "both":
        return cfg.m, cfg.both_eta, cfg.both_eta, list(cfg.both_ks), cfg.both_alpha_max
    if part == "eq15":
        return 1, cfg.eq15_eta, cfg.eq15_eta, list(cfg.eq15_ks), cfg.eq15_alpha_max
    raise ValueError(f"unknown certified part {part!r}; known: {list(CERTIFIED_PARTS)}")


def certified_part(cfg: EgScalingConfig, part: str, device: str) -> pd.DataFrame:
    """Certified eps_g* per K and start: 'ode' the erf SCM (Fig. 2a, beside eq. 11), 'both'
    both layers trained (Fig. 3c), 'eq15' both layers with M = 1 at small eta (eq. 15)."""
    m, eta, eta_v, ks, alpha = certified_settings(cfg, part)
    scm = part == "ode"
    frame = certified_sweep(
        ks,
        cfg.seeds,
        m,
        part=part,
        vs=1.0 if scm else cfg.both_vs,
        dyn=Dynamics("erf", eta, eta_v, cfg.sigma),
        n=cfg.init_n,
        branch="scm" if scm else "both",
        alpha_max=alpha,
        device=device,
        restart_alpha_max=cfg.restart_alpha_max,
        alpha_check=cfg.alpha_check,
    )
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
        certify_alpha=cfg.linear_ode_alpha if part == "linear" else None,
    )
    if part == "linear":
        frame["eq12"] = [formulas.eps_linear_scm(k, m, eta, cfg.sigma) for k in frame.k]
    return {part: frame, f"{part}_curves": curves}


def units(cfg: EgScalingConfig) -> list[str]:
    """Unit names: the Fig. 1b comparison at N and 4N, then one unit per part."""
    sizes = (cfg.match_n, cfg.match_n * cfg.match_n_factor)
    return [f"match-n{n}" for n in sizes] + ["ode", "sgd", "linear", "relu", "both", "eq15"]


def compute_unit(cfg: EgScalingConfig, name: str, device: str) -> dict[str, pd.DataFrame]:
    """The tables of one unit on `device`."""
    if name.startswith("match-n"):
        curves = match_curves(
            cfg.match_ks,
            cfg.seeds,
            cfg.m,
            n=int(name.removeprefix("match-n")),
            n_ref=cfg.match_n,
            eta=cfg.match_eta,
            sigma=cfg.sigma,
            alpha=cfg.match_alpha,
            per_decade=cfg.checkpoints_per_decade,
            device=device,
        )
        return {"match": curves}
    if name in CERTIFIED_PARTS:
        return {name: certified_part(cfg, name, device)}
    return sgd_part(cfg, name, device)


def run(cfg: EgScalingConfig, context: RunContext) -> Result:
    """Every unit on context.device (the ODE states and SGD networks live there); no data
    files: the task is synthetic."""

    def compute(unit: Hashable) -> UnitResult:
        start = time.process_time()
        frames = compute_unit(cfg, str(unit), context.device)
        return UnitResult(
            frames=frames,
            scalars={"cpu_seconds": time.process_time() - start},
            provenance={"dataset": SYNTHETIC, "synthetic": True},
        )

    return run_units(cfg, units(cfg), compute, context, label="eg_scaling")
