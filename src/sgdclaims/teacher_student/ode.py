"""Order-parameter ODEs of online SGD (Goldt et al. 2020, eq. 9): the parameters, the packing
of a batch of states into flat vectors, and the right-hand side.

The state of a batch of B networks is packed into y (B, D): the upper triangle of Q, then
R, then v. The right-hand side evaluates every average of eq. 9 for all index
combinations at once with broadcast tensor ops (float64) on the device of the template
state, so one step of the whole batch costs a fixed number of tensor operations whatever
K is. Integrators live in `integrate`, Newton's method in `newton`, the branch in `branch`,
where starts get to in `reach`.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import Tensor

from sgdclaims.teacher_student.averages import (
    all_averages,
    covariance,
    quadratic_term,
    require_closed_form,
)
from sgdclaims.teacher_student.error import eps_from_order
from sgdclaims.teacher_student.state import OrderParameters
from sgdclaims.validate import require_non_negative, require_positive


@dataclasses.dataclass(frozen=True)
class Dynamics:
    """Parameters of eq. 9: activation, learning rates (eta_v = 0: soft committee machine)
    and output-noise std sigma."""

    activation: str = "erf"
    eta_w: float = 0.05
    eta_v: float = 0.0
    sigma: float = 0.01

    def __post_init__(self) -> None:
        require_closed_form(self.activation)
        require_positive("eta_w", self.eta_w)
        require_non_negative("eta_v", self.eta_v)
        require_non_negative("sigma", self.sigma)


class Packing:
    """Maps order parameters of a fixed batch layout to flat vectors y (B, D) and back."""

    def __init__(self, template: OrderParameters, *, train_v: bool):
        k, m = template.k, template.m
        device = template.q.device
        self.k, self.m = k, m
        self.t, self.vs, self.active = template.t, template.vs, template.active
        iu = torch.triu_indices(k, k, device=device)
        self.upper = iu[0] * k + iu[1]
        n_q = iu.shape[1]
        expand = torch.zeros(n_q, k * k, dtype=torch.float64, device=device)
        rows = torch.arange(n_q, device=device)
        expand[rows, iu[0] * k + iu[1]] = 1.0
        expand[rows, iu[1] * k + iu[0]] = 1.0
        self.expand = expand
        self.sizes = (n_q, k * m, k)
        a = self.active.double()
        mask_q = (a[:, :, None] * a[:, None, :]).reshape(-1, k * k)[:, self.upper]
        mask_r = a[:, :, None].expand(-1, k, m).reshape(-1, k * m)
        #: 1 for the coordinates that evolve, 0 for frozen ones (inactive units, fixed v)
        self.mask = torch.cat([mask_q, mask_r, a * float(train_v)], dim=-1)

    def pack(self, state: OrderParameters) -> Tensor:
        """y (B, D) from order parameters."""
        b = state.q.shape[0]
        q = state.q.reshape(b, -1)[:, self.upper]
        return torch.cat([q, state.r.reshape(b, -1), state.v], dim=-1)

    def unpack(self, y: Tensor, rows: Tensor | None = None) -> OrderParameters:
        """Order parameters from y (B, D), with this layout's T, v* and active units; `rows`
        (B,) says which batch element each row of y belongs to (default: row b is b)."""
        b = y.shape[0]
        yq, yr, yv = torch.split(y, self.sizes, dim=-1)
        q = (yq @ self.expand).reshape(b, self.k, self.k)
        t, vs, active = self.t, self.vs, self.active
        if rows is not None:
            t, vs, active = t[rows], vs[rows], active[rows]
        return OrderParameters(q, yr.reshape(b, self.k, self.m), t, yv, vs, active)


def rhs_state(dyn: Dynamics, state: OrderParameters) -> tuple[Tensor, Tensor, Tensor]:
    """dQ/dalpha, dR/dalpha, dv/dalpha of eq. 9 for a batch (inactive units frozen)."""
    k = state.k
    omega = covariance(state.q, state.r, state.t)
    avg = all_averages(dyn.activation, omega, k, need_i4=False)
    a = state.active.to(omega.dtype)
    v = state.v * a
    u = torch.cat([v, -state.vs], dim=-1)  # (B, n)
    s3 = torch.einsum("bian,bn->bia", avg.i3, u)  # sum_c u_c I3(l_i, f_a, f_c)
    dr = -dyn.eta_w * v[:, :, None] * s3[:, :, k:]
    lin = v[:, :, None] * s3[:, :, :k]
    quad = quadratic_term(dyn.activation, omega, k, u) + dyn.sigma**2 * avg.j2
    dq = (
        -dyn.eta_w * (lin + lin.transpose(-1, -2))
        + dyn.eta_w**2 * v[:, :, None] * v[:, None, :] * quad
    )
    dq = dq * (a[:, :, None] * a[:, None, :])
    dr = dr * a[:, :, None]
    if dyn.eta_v > 0:
        dv = -dyn.eta_v * torch.einsum("bic,bc->bi", avg.i2[:, :k, :], u) * a
    else:
        dv = torch.zeros_like(v)
    return dq, dr, dv


class ODE:
    """Eq. 9 for one batch layout: f(y) and eps_g(y) on packed states."""

    def __init__(self, dyn: Dynamics, template: OrderParameters):
        self.dyn = dyn
        self.template = template
        self.packing = Packing(template, train_v=dyn.eta_v > 0)

    @property
    def device(self) -> torch.device:
        """Where the states live."""
        return self.template.q.device

    def f(self, y: Tensor, rows: Tensor | None = None) -> Tensor:
        """dy/dalpha (B, D); `rows` as in Packing.unpack."""
        dq, dr, dv = rhs_state(self.dyn, self.packing.unpack(y, rows))
        b = y.shape[0]
        return torch.cat([dq.reshape(b, -1)[:, self.packing.upper], dr.reshape(b, -1), dv], -1)

    def eps(self, y: Tensor) -> Tensor:
        """eps_g (B,) of packed states."""
        return eps_from_order(self.dyn.activation, self.packing.unpack(y))

    def subset(self, index: Tensor) -> ODE:
        """The same ODE for the batch elements `index` only."""
        return ODE(self.dyn, self.template.select(index))
