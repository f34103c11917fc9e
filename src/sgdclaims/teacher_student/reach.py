"""Where the order-parameter ODE takes a batch of starts (shared/CLAIMS.md, eg_scaling:
eps_reached; Goldt et al. 2020, eq. 9): each start integrated to alpha_max as it is (no
projection), its eps_g recorded on a log grid with the last 5% of the run, the drift of
eps_g over the last decade of alpha, whether its end state holds a cancelling pair, and
the divergence rule where one fired.

A start is settled when eps_g drifts by less than 0.1% over the last decade. Its status is
'unsettled' otherwise, 'cancelling pair' for a settled start whose end state holds two
units with w_a ~ -w_b (the slow manifold of shared/CLAIMS.md), else 'settled'; a start
whose run stopped by the divergence rule is 'diverged'.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import torch
from torch import Tensor

from sgdclaims.teacher_student.branch import cancelling_pair
from sgdclaims.teacher_student.integrate import log_grid, make_integrator, to_numpy
from sgdclaims.teacher_student.ode import ODE
from sgdclaims.training import Divergence
from sgdclaims.validate import require_positive

#: a start is settled when eps_g changes by less than this over the last decade of alpha
DRIFT = 1e-3
DECADE = 10.0
#: ROS2's tolerance (on its first-order error estimate) in the tail: at 1e-3 a start on a slow
#: manifold (K=5, M=1, both layers) lost a positive-definite Q and reached eps_g < 0; at 1e-5
#: the tail agrees with Dormand-Prince at 1e-7
IMPLICIT_RTOL = 1e-5
SETTLED, PAIR, UNSETTLED, DIVERGED = "settled", "cancelling pair", "unsettled", "diverged"


def checkpoints(alpha_max: float, per_decade: int = 10, alpha_min: float = 1.0) -> np.ndarray:
    """alpha = 0, a log grid from alpha_min to alpha_max, and 3 points in the last 5% of the
    run (its final value, shared/CLAIMS.md)."""
    require_positive("alpha_max", alpha_max)
    tail = alpha_max * np.array([0.95, 0.975, 1.0])
    return np.unique(np.concatenate([[0.0], log_grid(alpha_max, per_decade, alpha_min), tail]))


def decade_drift(alpha: np.ndarray, eps: np.ndarray) -> np.ndarray:
    """(max - min) / |last| of eps_g (C, B) over the checkpoints in the last decade (B,);
    NaN for an element with a NaN there."""
    alpha = np.asarray(alpha, dtype=np.float64)
    window = np.asarray(eps, dtype=np.float64)[alpha >= alpha[-1] / DECADE * (1 - 1e-12)]
    return (window.max(0) - window.min(0)) / np.abs(window[-1])


def status_of(drift: float, pair: bool, diverged: str) -> str:
    """'diverged', 'unsettled', 'cancelling pair' or 'settled' (see the module docstring)."""
    if diverged:
        return DIVERGED
    if not drift < DRIFT:
        return UNSETTLED
    return PAIR if pair else SETTLED


@dataclasses.dataclass
class Reached:
    """A batch integrated to alpha_max: eps_g (C, B) at checkpoints alpha (C,), the end
    states, the drift over the last decade, a cancelling pair in the end state, the divergence
    rule that stopped each element ('' if none) and the alpha where it fired (NaN if none),
    and the CPU seconds the integration took."""

    alpha: np.ndarray
    eps: np.ndarray
    y: Tensor
    drift: np.ndarray
    pair: np.ndarray
    diverged: list[str]
    diverged_at: np.ndarray
    cpu: float

    @property
    def eps_end(self) -> np.ndarray:
        """eps_g at alpha_max (B,): eps_reached."""
        return self.eps[-1]

    @property
    def settled(self) -> np.ndarray:
        """Drift below 0.1% over the last decade, and no divergence (B,)."""
        with np.errstate(invalid="ignore"):
            return (self.drift < DRIFT) & ~np.array([bool(d) for d in self.diverged])

    @property
    def status(self) -> list[str]:
        """The status of every element."""
        return [status_of(*x) for x in zip(self.drift, self.pair, self.diverged)]


def reach(
    ode: ODE,
    y0: Tensor,
    *,
    alpha_max: float,
    per_decade: int = 10,
    rtol: float = 1e-7,
    atol: float = 1e-12,
    implicit_rtol: float = IMPLICIT_RTOL,
) -> Reached:
    """Integrate every start of the batch to alpha_max (Dormand-Prince, then ROS2 once
    stiff). The divergence rule of sgdclaims.training (eps_g not finite, or above 100x its
    value at alpha = 0) is checked at every checkpoint; an element it stops is NaN from the
    next checkpoint on."""
    start = time.process_time()
    grid = checkpoints(alpha_max, per_decade)
    integ = make_integrator(ode, "hybrid", rtol=rtol, atol=atol, implicit_rtol=implicit_rtol)
    b = y0.shape[0]
    rules = [Divergence(y0.device) for _ in range(b)]
    stopped = torch.zeros(b, dtype=torch.bool, device=y0.device)
    at = np.full(b, np.nan)
    y, t, rows = y0.clone(), 0.0, []
    for c, target in enumerate(grid):
        y = torch.where(stopped[:, None], torch.full_like(y, np.nan), y)
        y = integ.advance(y, t, float(target))
        t = float(target)
        eps = ode.eps(y)
        rows.append(to_numpy(eps))
        for i, rule in enumerate(rules):
            if not stopped[i]:
                rule.update(c, eps[i])
                if rule.fired:
                    stopped[i], at[i] = True, t
    eps = np.stack(rows)
    pair = to_numpy(cancelling_pair(ode.packing.unpack(y)))
    return Reached(
        alpha=grid,
        eps=eps,
        y=y,
        drift=decade_drift(grid, eps),
        pair=pair,
        diverged=[r.rule for r in rules],
        diverged_at=at,
        cpu=time.process_time() - start,
    )


def curve_divergence(alpha: np.ndarray, eps: np.ndarray) -> tuple[list[str], np.ndarray]:
    """The divergence rule of sgdclaims.training read off recorded eps_g curves (C, B) whose
    first row is the start: per element the rule that fired ('' if none) and the alpha where
    (NaN if none). For an integration whose checkpoints were not checked as it ran."""
    eps = torch.as_tensor(np.asarray(eps, dtype=np.float64))
    out, at = [], np.full(eps.shape[1], np.nan)
    for i in range(eps.shape[1]):
        rule = Divergence("cpu")
        for c in range(eps.shape[0]):
            rule.update(c, eps[c, i])
        out.append(rule.rule)
        if rule.fired:
            at[i] = float(alpha[rule.step])
    return out, at
