"""eg_scaling's ODE runs from random starts as its tables (shared/CLAIMS.md, eg_scaling;
Goldt et al. 2020, Fig. 2a, 3c, eq. 15): each start (N(0,1) weights at input size N, T = I)
integrated to alpha_max as it is, eps_reached with its drift and status; for the soft
committee machine also eps_branch, the eq. 10 fixed point, by Newton from the projection of
each start's end state, at every eta of eg_slope (the same projected states, so the branch
is followed from eta = 0.05 to the smaller eta); with both layers trained, whether each start
reached the denoising solution.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from sgdclaims.claims.eg_scaling.runs import STREAMS
from sgdclaims.curves import final_value
from sgdclaims.teacher_student.branch import branch_point, cosines, specialisation
from sgdclaims.teacher_student.error import eps_constant
from sgdclaims.teacher_student.integrate import to_numpy
from sgdclaims.teacher_student.ode import ODE, Dynamics
from sgdclaims.teacher_student.reach import Reached, reach
from sgdclaims.teacher_student.runs import generator
from sgdclaims.teacher_student.state import OrderParameters, random_student

#: a unit is specialised to the teacher unit it is most aligned with above this cosine
SPECIALISED = 0.9


def starts(part: str, pairs: list[tuple[int, int]], m: int, *, n: int, vs: float, device: str):
    """Random students for (K, start) pairs: N(0,1) weights at input size n, T = I, v = 1."""
    return random_student(
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


def start_table(res: Reached, pairs: list[tuple[int, int]], m: int, const) -> pd.DataFrame:
    """One row per start: eps_reached (eps_g at alpha_max), the final value (mean over the
    last 5%), the drift over the last decade, settled, status, a cancelling pair, the
    divergence rule, and the best constant predictor's eps_g."""
    return pd.DataFrame(
        {
            "k": [k for k, _ in pairs],
            "L": [k - m for k, _ in pairs],
            "start": [s for _, s in pairs],
            "eps_reached": res.eps_end,
            "eps_final": final_value(res.alpha, res.eps.T),
            "drift": res.drift,
            "settled": res.settled,
            "status": res.status,
            "pair": res.pair,
            "diverged": res.diverged,
            "diverged_at": res.diverged_at,
            "eps_const": to_numpy(const),
            "cpu": res.cpu,
        }
    )


def curve_table(res: Reached, pairs: list[tuple[int, int]]) -> pd.DataFrame:
    """eps_g of every start at every checkpoint (long format)."""
    c, b = res.eps.shape
    return pd.DataFrame(
        {
            "k": np.tile([k for k, _ in pairs], c),
            "start": np.tile([s for _, s in pairs], c),
            "alpha": np.repeat(res.alpha, b),
            "eps": res.eps.ravel(),
        }
    )


def reached_part(
    ks: list[int],
    seeds: tuple[int, ...],
    m: int,
    *,
    dyn: Dynamics,
    etas: tuple[float, ...],
    n: int,
    alpha_max: float,
    device: str,
) -> dict[str, pd.DataFrame]:
    """The soft committee machine (Fig. 2a): eps_reached per K and start, and eps_branch per
    K, start and eta (Newton's residual, convergence, top eigenvalue and the smallest cosine
    of a matched unit with its teacher unit beside it)."""
    pairs = [(k, s) for k in ks for s in seeds]
    state = starts("ode", pairs, m, n=n, vs=1.0, device=device)
    ode = ODE(dyn, state)
    res = reach(ode, ode.packing.pack(state), alpha_max=alpha_max)
    rows = []
    for eta in etas:
        sub = ODE(dataclasses.replace(dyn, eta_w=eta), state)
        point = branch_point(sub, res.y)
        cos = to_numpy(specialisation(sub.packing.unpack(point.y)))
        for i, (k, s) in enumerate(pairs):
            rows.append(
                {
                    "k": k,
                    "L": k - m,
                    "start": s,
                    "eta": eta,
                    "eps_branch": float(point.eps[i]),
                    "residual": float(point.residual[i]),
                    "converged": bool(point.converged[i]),
                    "max_eig": float(point.max_eig[i]),
                    "specialised": cos[i],
                }
            )
    return {
        "reached": start_table(res, pairs, m, eps_constant(dyn.activation, state)),
        "reached_curves": curve_table(res, pairs),
        "branch": pd.DataFrame(rows),
    }


def denoising(state: OrderParameters) -> tuple[np.ndarray, list[str]]:
    """Whether each end state is the denoising solution (Goldt et al. Sec. 3): every unit
    specialised to a teacher unit (largest cosine >= 0.9) with v > 0, and the units spread
    over the teacher units as evenly as K allows; and the group sizes as text ('2+2')."""
    cos = to_numpy(cosines(state))
    v, active = to_numpy(state.v), to_numpy(state.active)
    out, groups = [], []
    for c, vi, a in zip(cos, v, active):
        c, vi = c[a], vi[a]
        sizes = np.bincount(c.argmax(-1), minlength=c.shape[-1])
        k, m = len(vi), c.shape[-1]
        even = sizes.min() >= k // m and sizes.max() <= -(-k // m)
        out.append(bool((c.max(-1) >= SPECIALISED).all() and (vi > 0).all() and even))
        groups.append("+".join(str(x) for x in sizes))
    return np.array(out), groups


def both_part(
    part: str,
    ks: list[int],
    seeds: tuple[int, ...],
    m: int,
    *,
    dyn: Dynamics,
    vs: float,
    n: int,
    alpha_max: float,
    device: str,
) -> dict[str, pd.DataFrame]:
    """Both layers trained (Fig. 3c; 'eq15': M = 1 at small eta): each start's own
    integration to alpha_max, whether it reached the denoising solution, its groups."""
    pairs = [(k, s) for k in ks for s in seeds]
    state = starts(part, pairs, m, n=n, vs=vs, device=device)
    ode = ODE(dyn, state)
    res = reach(ode, ode.packing.pack(state), alpha_max=alpha_max)
    frame = start_table(res, pairs, m, eps_constant(dyn.activation, state))
    frame["denoising"], frame["groups"] = denoising(ode.packing.unpack(res.y))
    return {part: frame, f"{part}_curves": curve_table(res, pairs)}
