"""eg_scaling's runs as its tables (Goldt et al. 2020): online SGD beside the ODE from the same
initial order parameters (Fig. 1b), SGD asymptotes (final values, the mean over the last 5% of
the run; Fig. 2a, 4) and certified ODE asymptotes per K and start (Fig. 2a, 3c, eq. 15).

Every function takes a device: the networks, inputs and ODE states live there; random
starts are drawn on the CPU from seeded generators, so a seed gives the same start on
every device. Each part draws from its own named stream.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch

from sgdclaims.curves import final_value
from sgdclaims.streams import Streams
from sgdclaims.teacher_student.integrate import integrate_adaptive, log_grid
from sgdclaims.teacher_student.ode import ODE, Dynamics
from sgdclaims.teacher_student.runs import asymptote_frame, certify, generator, sgd_steps
from sgdclaims.teacher_student.sgd import init_networks, sgd
from sgdclaims.teacher_student.state import random_student

#: the first element of every generator key of a part (its stream)
STREAMS = Streams({"match": 1, "ode": 2, "both": 3, "eq15": 4, "sgd": 5, "linear": 6, "relu": 7})


def match_curves(
    ks: tuple[int, ...],
    seeds: tuple[int, ...],
    m: int,
    *,
    n: int,
    n_ref: int,
    eta: float,
    sigma: float,
    alpha: float,
    per_decade: int,
    device: str,
) -> pd.DataFrame:
    """Their Fig. 1b: eps_g(alpha) of SGD at input size n and of the ODE started from each
    SGD run's measured initial order parameters; `eps_ode_ref` is the ODE read at
    alpha * n / n_ref (time in steps / n_ref: a wrong time scale unless n = n_ref). The
    students of one seed share its input stream."""
    reps = [(k, s) for k in ks for s in seeds]
    stream = STREAMS.seed("match")
    nets = init_networks(
        [k for k, _ in reps],
        m,
        n=n,
        init_std=1.0,
        teacher="gaussian",
        v0=1.0,
        vs=1.0,
        generator=generator(stream, n),
        device=device,
    )
    start = nets.order_parameters()
    alphas = log_grid(alpha, per_decade, alpha_min=1.0)
    trace = sgd(
        nets,
        activation="erf",
        eta_w=eta,
        eta_v=0.0,
        sigma=sigma,
        alphas=alphas,
        generator=generator(stream, n, 1, device=device),
        streams=torch.tensor([seeds.index(s) for _, s in reps]),
    )
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
    part: str,
    activation: str,
    m: int,
    ls: tuple[int, ...],
    seeds: tuple[int, ...],
    *,
    n: int,
    eta: float,
    sigma: float,
    alpha: float,
    mc_samples: int,
    device: str,
    with_ode: bool,
    certify_alpha: float | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """SGD final eps_g (mean over the last 5% of the run) for K = M + L x seeds, all
    replicas batched, teacher T = I; with eps_g of the ODE from each replica's measured
    start at the same eta (at the end, and the relative change over the run's last half)
    and, given certify_alpha, its certified eps_g* (no projection: every unit of a linear
    network is equivalent). Returns the per-run table and the curves (eps_g per run)."""
    reps = [(m + ell, s) for ell in ls for s in seeds]
    init_std = 1.0 if activation == "erf" else n**-0.25  # the paper: variance 1/sqrt(N)
    stream = STREAMS.seed(part)
    cpu_gen = generator(stream, n)
    nets = init_networks(
        [k for k, _ in reps],
        m,
        n=n,
        init_std=init_std,
        teacher="identity",
        v0=1.0,
        vs=1.0,
        generator=cpu_gen,
        device=device,
    )
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
        generator=generator(stream, n, 1, device=device),
        mc_inputs=mc,
    )
    frame = pd.DataFrame(
        {
            "k": [k for k, _ in reps],
            "L": [k - m for k, _ in reps],
            "seed": [s for _, s in reps],
            "n": n,
            "eta": eta,
            "eps_sgd": final_value(steps, trace.eps.T),
        }
    )
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


def certified_sweep(
    ks: list[int],
    starts: tuple[int, ...],
    m: int,
    *,
    part: str,
    dyn: Dynamics,
    vs: float,
    branch: str,
    n: int,
    alpha_max: float,
    restart_alpha_max: float,
    alpha_check: float,
    device: str,
) -> pd.DataFrame:
    """Certified eps_g* for every K x start from random starts (N(0,1) weights at input size
    n, T = I, student v = 1), batched; one row per (K, start)."""
    pairs = [(k, s) for k in ks for s in starts]
    state = random_student(
        [k for k, _ in pairs],
        m,
        n=n,
        init_std=1.0,
        teacher="identity",
        v=1.0,
        vs=vs,
        generator=generator(STREAMS.seed(part), m),
        device=device,
    )
    res = certify(
        ODE(dyn, state),
        state,
        branch=branch,
        alpha_max=alpha_max,
        restart_alpha_max=restart_alpha_max,
        alpha_check=alpha_check,
    )
    return asymptote_frame(res, {"k": [k for k, _ in pairs], "start": [s for _, s in pairs]})
