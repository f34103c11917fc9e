"""Runs of the teacher-student claims as tidy tables: online SGD beside the ODE from the same
initial order parameters (Goldt et al. 2020, Fig. 1b), SGD asymptotes (final values, the
mean over the last 5% of the run), and certified ODE asymptotes per start.

Every function takes a device: the networks, inputs and ODE states live there; random
starts are drawn on the CPU from seeded generators, so a seed gives the same start on
every device.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import torch

from sgdclaims.curves import final_value, tail_steps
from sgdclaims.teacher_student.asymptote import Asymptote, certified_asymptote
from sgdclaims.teacher_student.integrate import integrate_adaptive, log_grid
from sgdclaims.teacher_student.ode import ODE, Dynamics
from sgdclaims.teacher_student.sgd import init_networks, sgd
from sgdclaims.teacher_student.state import OrderParameters, random_student


def generator(*key: int, device: str | torch.device = "cpu") -> torch.Generator:
    """A generator on `device` seeded from integers (part id, seed, ...)."""
    seed = int(np.random.SeedSequence(key).generate_state(1)[0])
    return torch.Generator(device=device).manual_seed(seed)


def sgd_steps(alpha: float, n: int, coarse: int = 60, tail: int = 20) -> np.ndarray:
    """Checkpoint steps of an SGD run of alpha * n steps: `coarse` evenly spaced ones and
    `tail` in the last 5% of the run (its final value, shared/CLAIMS.md)."""
    total = round(alpha * n)
    even = np.linspace(total / coarse, total, coarse).round()
    return np.unique(np.concatenate([even, tail_steps(total, tail)])).astype(np.int64)


def match_curves(
    ks: tuple[int, ...], seeds: tuple[int, ...], m: int, *, n: int, n_ref: int, eta: float,
    sigma: float, alpha: float, per_decade: int, device: str,
) -> pd.DataFrame:  # fmt: skip
    """Their Fig. 1b: eps_g(alpha) of SGD at input size n and of the ODE started from each
    SGD run's measured initial order parameters; `eps_ode_ref` is the ODE read at
    alpha * n / n_ref (time in steps / n_ref: a wrong time scale unless n = n_ref). The
    students of one seed share its input stream."""
    reps = [(k, s) for k in ks for s in seeds]
    cpu_gen = generator(1, n)
    nets = init_networks([k for k, _ in reps], m, n=n, init_std=1.0, teacher="gaussian", v0=1.0,
                         vs=1.0, generator=cpu_gen, device=device)  # fmt: skip
    start = nets.order_parameters()
    alphas = log_grid(alpha, per_decade, alpha_min=1.0)
    streams = torch.tensor([seeds.index(s) for _, s in reps])
    trace = sgd(nets, activation="erf", eta_w=eta, eta_v=0.0, sigma=sigma, alphas=alphas,
                generator=generator(1, n, 1, device=device), streams=streams)  # fmt: skip
    ode = ODE(Dynamics("erf", eta, 0.0, sigma), start)
    scale = n / n_ref
    grid = np.unique(np.concatenate([alphas, alphas * scale]))
    traj = integrate_adaptive(ode, ode.packing.pack(start), grid, rtol=1e-8, atol=1e-12)
    at = {a: i for i, a in enumerate(grid)}
    rows = []
    for r, (k, s) in enumerate(reps):
        for c, a in enumerate(alphas):
            rows.append(
                {
                    "n": n,
                    "k": k,
                    "seed": s,
                    "alpha": a,
                    "eps_sgd": trace.eps[c, r],
                    "eps_ode": traj.eps[at[a], r],
                    "eps_ode_ref": traj.eps[at[a * scale], r],
                }
            )
    return pd.DataFrame(rows)


def sgd_asymptotes(
    part: int, activation: str, m: int, ls: tuple[int, ...], seeds: tuple[int, ...], *,
    n: int, eta: float, sigma: float, alpha: float, mc_samples: int, device: str,
    with_ode: bool, certify_alpha: float | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:  # fmt: skip
    """SGD final eps_g (mean over the last 5% of the run) for K = M + L x seeds, all
    replicas batched, teacher T = I; with eps_g of the ODE from each replica's measured
    start at the same eta (at the end, and the relative change over the run's last half)
    and, given certify_alpha, its certified eps_g* (no projection: every unit of a linear
    network is equivalent). Returns the per-run table and the curves (eps_g per run)."""
    reps = [(m + ell, s) for ell in ls for s in seeds]
    init_std = 1.0 if activation == "erf" else n**-0.25  # the paper: variance 1/sqrt(N)
    cpu_gen = generator(part, n)
    nets = init_networks([k for k, _ in reps], m, n=n, init_std=init_std, teacher="identity",
                         v0=1.0, vs=1.0, generator=cpu_gen, device=device)  # fmt: skip
    start = nets.order_parameters()
    steps = sgd_steps(alpha, n)
    mc = None
    if activation == "relu":
        mc = torch.randn(mc_samples, n, generator=cpu_gen).to(device)
    trace = sgd(
        nets,
        activation=activation,
        eta_w=eta,
        eta_v=0.0,
        sigma=sigma,
        alphas=steps / n,
        generator=generator(part, n, 1, device=device),
        mc_inputs=mc,
    )
    frame = pd.DataFrame({"k": [k for k, _ in reps], "L": [k - m for k, _ in reps],
                          "seed": [s for _, s in reps], "n": n, "eta": eta,
                          "eps_sgd": final_value(steps, trace.eps.T)})  # fmt: skip
    frame["eps_ode"], frame["ode_change"] = math.nan, math.nan
    if with_ode:
        ode = ODE(Dynamics(activation, eta, 0.0, sigma), start)
        half = np.array([alpha / 2, alpha])
        traj = integrate_adaptive(ode, ode.packing.pack(start), half, rtol=1e-8, atol=1e-12)
        frame["eps_ode"] = traj.eps[1]
        frame["ode_change"] = np.abs(traj.eps[1] / traj.eps[0] - 1)
    if certify_alpha is not None:
        ode = ODE(Dynamics(activation, eta, 0.0, sigma), start)
        res = certify(ode, start, branch=None, alpha_max=certify_alpha)
        frame["eps_star"], frame["status"] = res.eps_star, res.first.status
    curves = pd.DataFrame(trace.eps, columns=[f"{k}/{s}" for k, s in reps])
    curves.insert(0, "alpha", steps / n)
    return frame, curves


def certify(ode: ODE, state: OrderParameters, **kwargs: Any) -> Asymptote:
    """certified_asymptote from the order parameters `state` (restarts up to alpha_max unless
    restart_alpha_max is given)."""
    kwargs.setdefault("restart_alpha_max", kwargs["alpha_max"])
    return certified_asymptote(ode, ode.packing.pack(state), **kwargs)


def asymptote_frame(res: Asymptote, columns: dict[str, list]) -> pd.DataFrame:
    """One row per start: the given columns (K, start, ...) and everything `res` recorded."""
    rows = [res.element(i) for i in range(len(res.eps_star))]
    frame = pd.DataFrame(rows)
    for j, (name, values) in enumerate(columns.items()):
        frame.insert(j, name, values)
    return frame


def certified_sweep(
    ks: list[int], starts: tuple[int, ...], m: int, *, part: int, dyn: Dynamics, vs: float,
    branch: str, n: int, alpha_max: float, restart_alpha_max: float, alpha_check: float,
    device: str,
) -> pd.DataFrame:  # fmt: skip
    """Certified eps_g* for every K x start from random starts (N(0,1) weights at input size
    n, T = I, student v = 1), batched; one row per (K, start)."""
    pairs = [(k, s) for k in ks for s in starts]
    state = random_student([k for k, _ in pairs], m, n=n, init_std=1.0, teacher="identity",
                           v=1.0, vs=vs, generator=generator(part, m), device=device)  # fmt: skip
    res = certify(ODE(dyn, state), state, branch=branch, alpha_max=alpha_max,
                  restart_alpha_max=restart_alpha_max, alpha_check=alpha_check)  # fmt: skip
    return asymptote_frame(res, {"k": [k for k, _ in pairs], "start": [s for _, s in pairs]})
