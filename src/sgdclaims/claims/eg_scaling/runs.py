"""eg_scaling's SGD runs as its tables (Goldt et al. 2020): online SGD beside the ODE from the
same initial order parameters (Fig. 1b), and SGD asymptotes per L and seed (final values,
the mean over the last 5% of the run; Fig. 2a, 4), with what `alive` needs of every run:
the divergence rule that fired and the error of the best constant predictor.

Every function takes a device: the networks, inputs and ODE states live there; random
starts are drawn on the CPU from seeded generators, so a seed gives the same start on
every device. Each part draws from its own named stream.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch

from sgdclaims.curves import final_value, tail_steps
from sgdclaims.streams import Streams
from sgdclaims.teacher_student.error import eps_constant, eps_constant_monte_carlo
from sgdclaims.teacher_student.integrate import integrate_adaptive, log_grid
from sgdclaims.teacher_student.ode import ODE, Dynamics
from sgdclaims.teacher_student.reach import IMPLICIT_RTOL, curve_divergence, reach
from sgdclaims.teacher_student.runs import generator, half_value, sgd_steps
from sgdclaims.teacher_student.sgd import init_networks, sgd

#: the first element of every generator key of a part (its stream)
STREAMS = Streams({"match": 1, "ode": 2, "both": 3, "eq15": 4, "sgd": 5, "linear": 6, "relu": 7})


def match_grid(alpha: float, per_decade: int, uniform: int) -> tuple[np.ndarray, np.ndarray]:
    """Checkpoints of their Fig. 1b and which of them are `uniform` in alpha over the horizon
    (alpha i / uniform, i = 1..uniform: ode_matches_sgd's median is over these); the others,
    log-spaced from alpha 1 and 3 in the last 5% of the run (its final value, for `alive`),
    are for the figure and the final value only."""
    even = alpha * np.arange(1, uniform + 1) / uniform
    tail = tail_steps(1000) / 1000 * alpha
    alphas = np.unique(np.concatenate([log_grid(alpha, per_decade, alpha_min=1.0), even, tail]))
    return alphas, np.isin(alphas, even)


def match_curves(
    ks: tuple[int, ...],
    seeds: tuple[int, ...],
    m: int,
    *,
    n: int,
    eta: float,
    sigma: float,
    alpha: float,
    per_decade: int,
    uniform: int,
    device: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Their Fig. 1b: eps_g(alpha) of SGD at input size n and of the ODE started from each
    SGD run's measured initial order parameters, at the checkpoints of match_grid (column
    `uniform`: on its uniform grid). The students of one seed share its input stream.
    Returns the curves and one row per run."""
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
    alphas, even = match_grid(alpha, per_decade, uniform)
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
    grid = np.concatenate([[0.0], alphas])
    traj = integrate_adaptive(ode, ode.packing.pack(start), grid, rtol=1e-8, atol=1e-12)
    ode_rule, _ = curve_divergence(grid, traj.eps)
    rows = []
    for r, (k, s) in enumerate(reps):
        for c, a in enumerate(alphas):
            rows.append(
                {
                    "n": n,
                    "k": k,
                    "seed": s,
                    "alpha": a,
                    "uniform": even[c],
                    "eps_sgd": trace.eps[c, r],
                    "eps_ode": traj.eps[c + 1, r],
                }
            )
    runs = pd.DataFrame(
        {
            "n": n,
            "k": [k for k, _ in reps],
            "seed": [s for _, s in reps],
            "diverged": trace.diverged,
            "diverged_at": trace.diverged_at,
            "eps_final": final_value(alphas, trace.eps.T),
            "ode_diverged": ode_rule,
            "ode_final": final_value(alphas, traj.eps[1:].T),
            "eps_const": eps_constant("erf", start).cpu().numpy(),
        }
    )
    return pd.DataFrame(rows), runs


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
    ode_alpha: float | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """SGD final eps_g (mean over the last 5% of the run) and its value at half the horizon
    for K = M + L x seeds, all replicas batched (the students of one seed share its input
    stream), teacher T = I; with the ODE from each replica's measured start at the same eta
    (its eps_g at the end and its change over the run's last half), and given ode_alpha the
    ODE from the same start integrated to ode_alpha (eps_reached of the linear network,
    whose every fixed point is eq. 12's). Returns the per-run table and the curves."""
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
    mc = torch.randn(mc_samples, n, generator=cpu_gen).to(device) if activation == "relu" else None
    if mc is None:
        const = eps_constant(activation, start).cpu().numpy()
    else:
        const = eps_constant_monte_carlo(activation, nets.ws, nets.vs, mc).cpu().numpy()
    trace = sgd(
        nets,
        activation=activation,
        eta_w=eta,
        eta_v=0.0,
        sigma=sigma,
        alphas=steps / n,
        generator=generator(stream, n, 1, device=device),
        mc_inputs=mc,
        streams=torch.tensor([seeds.index(s) for _, s in reps]),
    )
    final, half = final_value(steps, trace.eps.T), half_value(steps, trace.eps.T)
    frame = pd.DataFrame(
        {
            "k": [k for k, _ in reps],
            "L": [k - m for k, _ in reps],
            "seed": [s for _, s in reps],
            "n": n,
            "eta": eta,
            "eps_sgd": final,
            "eps_half": half,
            "change": np.abs(final / half - 1),
            "diverged": trace.diverged,
            "diverged_at": trace.diverged_at,
            "eps_const": const,
        }
    )
    frame["eps_ode"], frame["ode_change"] = math.nan, math.nan
    if with_ode:
        ode = ODE(Dynamics(activation, eta, 0.0, sigma), start)
        half_end = np.array([alpha / 2, alpha])
        traj = integrate_adaptive(
            ode,
            ode.packing.pack(start),
            half_end,
            method="hybrid",
            rtol=1e-7,
            atol=1e-12,
            implicit_rtol=IMPLICIT_RTOL,
        )
        frame["eps_ode"] = traj.eps[1]
        frame["ode_change"] = np.abs(traj.eps[1] / traj.eps[0] - 1)
    if ode_alpha is not None:
        ode = ODE(Dynamics(activation, eta, 0.0, sigma), start)
        res = reach(ode, ode.packing.pack(start), alpha_max=ode_alpha)
        frame["ode_reached"], frame["ode_drift"] = res.eps_end, res.drift
        frame["ode_final"] = final_value(res.alpha, res.eps.T)
        frame["ode_diverged"] = res.diverged
    curves = pd.DataFrame(trace.eps, columns=[f"{k}/{s}" for k, s in reps])
    curves.insert(0, "alpha", steps / n)
    return frame, curves
