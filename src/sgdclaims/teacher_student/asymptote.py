"""The certified asymptotic error eps_g* (shared/CLAIMS.md, eg_scaling).

eps_g* is the stable fixed point of the ODE on the specialised branch, found by integrating
and then a Newton solve from the end state projected onto the branch (`branch.project`),
and certified by
  (a) the Newton value within 1% of the integrated value,
  (b) eps_g drifting by less than 0.1% over the last decade of alpha,
  (c) the top eigenvalue of the Jacobian at the fixed point recorded; above 1e-5 rejects.
`settle` integrates a batch of starts and tries to certify each as soon as (b) holds (a
Newton-certified stop). A start that ends on the cancelling-pair manifold, or that is not
certified by alpha_max, is reported as such and never used; `certified_asymptote` then
starts again from its projection onto the branch (CLAIMS.md: "start elsewhere") and
certifies that integration the same way.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

from sgdclaims.teacher_student.branch import cancelling_pair, project
from sgdclaims.teacher_student.integrate import Trajectory, make_integrator, to_numpy
from sgdclaims.teacher_student.newton import fixed_point
from sgdclaims.teacher_student.ode import ODE
from sgdclaims.teacher_student.state import OrderParameters

#: (b): the relative change of eps_g over the last decade of alpha must stay below this
DRIFT = 1e-3
#: (a): the Newton value must lie within this relative distance of the integrated value
AGREE = 0.01
#: (c): a fixed point whose Jacobian has an eigenvalue above this is rejected
UNSTABLE = 1e-5
DECADE = 10.0
CERTIFIED = "certified"
PAIR = "cancelling pair"
UNSETTLED = "unsettled at alpha_max"
NO_NEWTON = "uncertified: Newton did not converge"
UNCONFIRMED = "not confirmed by Newton"
UNSTABLE_POINT = "unstable fixed point"
#: ROS2's tolerance (on its first-order error estimate) in the tail: at 1e-3 a start on a slow
#: manifold (K=5, M=1, both layers) lost a positive-definite Q and reached eps_g < 0; at 1e-5
#: the tail agrees with Dormand-Prince at 1e-7
IMPLICIT_RTOL = 1e-5
#: the branch a projection puts a state on: 'scm' (surplus units merged), 'both' (groups
#: of units sharing a teacher unit merged, v split evenly) or None (no projection)
BRANCHES = ("scm", "both", None)


def projector(branch: str | None) -> Callable[[OrderParameters], OrderParameters]:
    """The projection onto `branch` (identity for None)."""
    if branch not in BRANCHES:
        raise ValueError(f"branch must be one of {list(BRANCHES)}, got {branch!r}")
    if branch is None:
        return lambda state: state
    return lambda state: project(state, both_layers=branch == "both")


@dataclasses.dataclass
class Attempt:
    """One integration of a batch of starts, each element stopped where it was certified or
    classified (or at alpha_max): integrated eps_g, alpha, the drift over the last decade,
    Newton's eps_g, residual and top eigenvalue, a cancelling pair in the end state, the
    status, the CPU seconds to that point, eps_g on the checkpoint grid, the end states."""

    eps: np.ndarray
    alpha: np.ndarray
    drift: np.ndarray
    eps_newton: np.ndarray
    residual: np.ndarray
    max_eig: np.ndarray
    pair: np.ndarray
    status: list[str]
    cpu: np.ndarray
    trajectory: Trajectory
    y: Tensor

    @property
    def certified(self) -> np.ndarray:
        """Which elements were certified."""
        return np.array([s == CERTIFIED for s in self.status])


def decade_drift(alphas: list[float], rows: list[np.ndarray]) -> np.ndarray:
    """(max - min) / |last| of eps_g over the checkpoints in the last decade of alpha (B,)."""
    t = alphas[-1]
    window = np.stack([r for a, r in zip(alphas, rows) if a >= t / DECADE * (1 - 1e-12)])
    return (window.max(0) - window.min(0)) / np.abs(window[-1])


def classify(settled, converged, agree, eig, pair) -> list[str]:
    """The status of elements that stop without being certified, or are certified."""
    out = []
    for s, c, a, e, p in zip(settled, converged, agree, eig, pair):
        if s and c and a and e <= UNSTABLE:
            out.append(CERTIFIED)
        elif p:
            out.append(PAIR)
        elif not s:
            out.append(UNSETTLED)
        elif not c:
            out.append(NO_NEWTON)
        elif not a:
            out.append(UNCONFIRMED)
        else:
            out.append(UNSTABLE_POINT)
    return out


def settle(
    ode: ODE,
    y0: Tensor,
    *,
    branch: str | None,
    alpha_max: float,
    alpha_check: float = 1000.0,
    method: str = "hybrid",
    rtol: float = 1e-7,
    atol: float = 1e-12,
    implicit_rtol: float = IMPLICIT_RTOL,
    grid_factor: float = 1.25,
) -> Attempt:
    """Integrate every start of the batch until it is certified, ends on a cancelling pair
    (settled, Newton disagrees, a pair present) or reaches alpha_max. Certification is tried
    from alpha_check on, whenever (b) holds, and again at twice the alpha after a miss."""
    start = time.process_time()
    to_branch = projector(branch)
    b = y0.shape[0]
    integ = make_integrator(ode, method, rtol=rtol, atol=atol, implicit_rtol=implicit_rtol)
    nan = np.full(b, np.nan)
    out = {
        name: nan.copy()
        for name in ("eps", "alpha", "drift", "eps_newton", "residual", "max_eig", "cpu")
    }
    pair, status, y_end = np.zeros(b, dtype=bool), [UNSETTLED] * b, y0.clone()
    done, retry = np.zeros(b, dtype=bool), np.full(b, alpha_check)
    alphas, rows = [0.0], [to_numpy(ode.eps(y0))]
    y, t = y0.clone(), 0.0
    while not done.all():
        target = min(max(1.0, t * grid_factor), alpha_max)
        y = integ.advance(y, t, target)
        t = target
        eps_now = to_numpy(ode.eps(y))
        alphas.append(t)
        rows.append(eps_now)
        last = t >= alpha_max
        if t < alpha_check and not last:
            continue
        drift = decade_drift(alphas, rows)
        ask = ~done & (last | ((drift < DRIFT) & (t >= retry)))
        if not ask.any():
            continue
        idx = np.flatnonzero(ask)
        sel = torch.as_tensor(idx, device=y.device)
        sub = ode.subset(sel)
        fp = fixed_point(sub, sub.packing.pack(to_branch(sub.packing.unpack(y[sel]))))
        eps_fp = to_numpy(sub.eps(fp.y))
        conv, eig = to_numpy(fp.converged), to_numpy(fp.max_eig)
        agree = conv & (np.abs(eps_now[idx] / eps_fp - 1) <= AGREE)
        settled = drift[idx] < DRIFT
        has_pair = to_numpy(cancelling_pair(sub.packing.unpack(y[sel])))
        stat = classify(settled, conv, agree, eig, has_pair)
        final = np.array([s == CERTIFIED for s in stat]) | (settled & has_pair & ~agree) | last
        for j, i in enumerate(idx):
            if not final[j]:
                retry[i] = 2 * t
                continue
            done[i] = True
            status[i], pair[i] = stat[j], bool(has_pair[j])
            out["eps"][i], out["alpha"][i], out["drift"][i] = eps_now[i], t, drift[i]
            out["eps_newton"][i], out["max_eig"][i] = eps_fp[j], eig[j]
            out["residual"][i], out["cpu"][i] = float(fp.residual[j]), time.process_time() - start
            y_end[i] = y[i]
    traj = Trajectory(np.asarray(alphas), np.stack(rows), y, integ.steps, integ.evaluations)
    return Attempt(**out, pair=pair, status=status, trajectory=traj, y=y_end)


@dataclasses.dataclass
class Asymptote:
    """eps_g* per start: the first attempt from the start itself, the restart from its
    projection onto the branch where the first was not certified, and the result."""

    first: Attempt
    restart: Attempt | None
    restarted: np.ndarray
    eps_star: np.ndarray
    certified: np.ndarray
    source: list[str]
    cpu: np.ndarray

    def element(self, i: int) -> dict[str, float | str]:
        """Everything recorded for start i (one row of a results table)."""
        row: dict[str, float | str] = {
            "source": self.source[i],
            "eps_star": self.eps_star[i],
            "certified": bool(self.certified[i]),
            "cpu": self.cpu[i],
        }
        attempts = [("start", self.first, i)]
        if self.restart is not None and self.restarted[i]:
            attempts.append(("restart", self.restart, int(self.restarted[: i + 1].sum()) - 1))
        for name, att, j in attempts:
            for key in ("eps", "alpha", "drift", "eps_newton", "residual", "max_eig", "cpu"):
                row[f"{name}_{key}"] = float(getattr(att, key)[j])
            row[f"{name}_status"] = att.status[j]
            row[f"{name}_pair"] = bool(att.pair[j])
        return row


def certified_asymptote(
    ode: ODE,
    y0: Tensor,
    *,
    branch: str | None,
    alpha_max: float,
    restart_alpha_max: float,
    alpha_check: float = 1000.0,
    rtol: float = 1e-7,
    implicit_rtol: float = IMPLICIT_RTOL,
) -> Asymptote:
    """Settle every start (dopri5, then ROS2); restart each one that was not certified from
    its end state projected onto the branch (ROS2: the projection is near equilibrium)."""
    first = settle(
        ode,
        y0,
        branch=branch,
        alpha_max=alpha_max,
        alpha_check=alpha_check,
        rtol=rtol,
        implicit_rtol=implicit_rtol,
    )
    restarted = ~first.certified
    second = None
    eps_star = np.where(first.certified, first.eps_newton, np.nan)
    source = ["start" if c else "" for c in first.certified]
    cpu = first.cpu.copy()
    if restarted.any() and branch is not None:
        idx = np.flatnonzero(restarted)
        sel = torch.as_tensor(idx, device=y0.device)
        sub = ode.subset(sel)
        y1 = sub.packing.pack(projector(branch)(sub.packing.unpack(first.y[sel])))
        second = settle(
            sub,
            y1,
            branch=branch,
            alpha_max=restart_alpha_max,
            alpha_check=alpha_check,
            method="rosenbrock",
            rtol=implicit_rtol,
            implicit_rtol=implicit_rtol,
        )
        for j, i in enumerate(idx):
            cpu[i] = np.nanmax(first.cpu) + second.cpu[j]
            if second.certified[j]:
                eps_star[i], source[i] = second.eps_newton[j], "restart"
    else:
        restarted = np.zeros_like(restarted)
    certified = ~np.isnan(eps_star)
    return Asymptote(first, second, restarted, eps_star, certified, source, cpu)
