"""The specialised branch of the teacher-student ODE (Goldt et al. 2020, Sec. 3-4).

On the specialised branch every teacher unit is matched by student units. With the second
layer fixed (soft committee machine, SCM) M student units match the M teacher units one to
one and the L = K - M surplus units shrink to w ~ 0; eq. 10-11 describe that fixed point.
With both layers trained, every student unit joins the teacher unit it is most aligned
with and the units of a group share its output evenly (eq. 15 for M = 1).

To leading order the surplus units of an SCM all receive the same update, so their
differences are nearly conserved: two surplus units with w_a ~ -w_b (a cancelling pair)
cancel in the output and shrink very slowly, and eps_g at a finite alpha then depends on
the start (shared/CLAIMS.md, eg_scaling). `project` removes those directions: it replaces
the surplus units (or a group's units) by their mean, which is where Newton's method looks
for the branch's fixed point (`branch_point`). For K >= 4 that point, with the surplus units
identical, is a saddle: its top eigenvalue is ~ +1.05 eta^2 sigma^2 (2/pi), along the
surplus-difference mode, and random starts settle elsewhere in a near-degenerate family.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import Tensor

from sgdclaims.teacher_student.newton import (
    RESIDUAL_TOL,
    fixed_point,
    masked_jacobian,
    top_eigenvalue,
)
from sgdclaims.teacher_student.ode import ODE
from sgdclaims.teacher_student.state import OrderParameters

#: two units whose weight vectors have a cosine below this form a cancelling pair
PAIR_COSINE = -0.9


def cosines(state: OrderParameters) -> Tensor:
    """cos(w_i, w*_n) = R_in / sqrt(Q_ii T_nn) (B, K, M); 0 for inactive units."""
    qd = torch.diagonal(state.q, dim1=-2, dim2=-1).clamp(min=1e-300)
    td = torch.diagonal(state.t, dim1=-2, dim2=-1)
    cos = state.r / torch.sqrt(qd[:, :, None] * td[:, None, :])
    return cos * state.active[:, :, None]


def matching(state: OrderParameters) -> Tensor:
    """Teacher unit matched by each student unit (B, K): -1 for surplus and inactive units.

    SCM: greedy one-to-one matching, the largest cosine first (M units matched). Both layers
    trained (state.v free): every active unit joins its most aligned teacher unit.
    """
    b, k, m = state.r.shape
    cos = cosines(state).masked_fill(~state.active[:, :, None], -torch.inf)
    out = torch.full((b, k), -1, dtype=torch.long, device=cos.device)
    rows = torch.arange(b, device=cos.device)
    for _ in range(min(m, k)):
        flat = cos.reshape(b, -1).argmax(-1)
        i, n = flat // m, flat % m
        out[rows, i] = n
        cos[rows, i, :] = -torch.inf
        cos[rows, :, n] = -torch.inf
    return out


def groups(state: OrderParameters, *, both_layers: bool) -> Tensor:
    """Group label of each unit (B, K): for the SCM the matched units are their own groups
    (labels 0..M-1 by teacher unit) and the surplus units form group M; with both layers
    trained a unit's group is its most aligned teacher unit. Inactive units: -1."""
    if both_layers:
        label = cosines(state).argmax(-1)
    else:
        label = matching(state)
        label = torch.where(label < 0, torch.full_like(label, state.m), label)
    return torch.where(state.active, label, torch.full_like(label, -1))


def project(state: OrderParameters, *, both_layers: bool) -> OrderParameters:
    """The state with each group of units replaced by copies of its mean (the v-weighted
    mean with both layers trained, whose units then share the group's v evenly); matched
    SCM units are groups of one and stay as they are."""
    label = groups(state, both_layers=both_layers)
    b, k = label.shape
    dtype, device = state.q.dtype, state.q.device
    same = (label[:, :, None] == label[:, None, :]) & (label[:, :, None] >= 0)
    eye = torch.eye(k, dtype=torch.bool, device=device).expand(b, k, k)
    same = same | (eye & (label[:, :, None] < 0))
    weight = same.to(dtype)
    if both_layers:
        weight = weight * state.v[:, None, :]
    total = weight.sum(-1, keepdim=True)
    even = same.to(dtype) / same.sum(-1, keepdim=True)
    ok = total.abs() > 1e-12
    mix = torch.where(ok, weight / torch.where(ok, total, torch.ones_like(total)), even)
    q = mix @ state.q @ mix.transpose(-1, -2)
    r = mix @ state.r
    v = state.v
    if both_layers:
        v = (same.to(dtype) @ state.v[:, :, None])[..., 0] / same.sum(-1)
        v = v * state.active
    return state._replace(q=q, r=r, v=v)


def cancelling_pair(state: OrderParameters) -> Tensor:
    """True where two active units have weight vectors with cosine below PAIR_COSINE (B,)."""
    qd = torch.diagonal(state.q, dim1=-2, dim2=-1).clamp(min=1e-300)
    cos = state.q / torch.sqrt(qd[:, :, None] * qd[:, None, :])
    both = state.active[:, :, None] & state.active[:, None, :]
    return ((cos < PAIR_COSINE) & both).flatten(1).any(-1)


@dataclasses.dataclass
class BranchPoint:
    """The branch's fixed point per batch element: its state, eps_g, residual max |f|,
    convergence, and the largest real part of the Jacobian's eigenvalues there (positive: a
    saddle; NaN where Newton did not converge)."""

    y: Tensor
    eps: Tensor
    residual: Tensor
    converged: Tensor
    max_eig: Tensor


def branch_point(ode: ODE, y: Tensor, *, both_layers: bool = False) -> BranchPoint:
    """The branch's fixed point near each packed state y (B, D): Newton's method from the
    state projected onto the branch (`project`), its solution projected again (along the
    near-flat surplus-difference mode Newton drifts by rounding), and the residual and top
    eigenvalue there. For the SCM this is Goldt et al.'s eq. 10 point: M units on the teacher,
    the surplus units identical."""

    def on_branch(x: Tensor) -> Tensor:
        return ode.packing.pack(project(ode.packing.unpack(x), both_layers=both_layers))

    fp = fixed_point(ode, on_branch(y))
    point = on_branch(fp.y)
    residual = (ode.f(point) * ode.packing.mask).abs().amax(-1)
    residual = torch.where(fp.converged & torch.isfinite(residual), residual, torch.inf)
    converged = residual <= RESIDUAL_TOL
    eig = torch.full_like(residual, float("nan"))
    if bool(converged.any()):
        eig[converged] = top_eigenvalue(masked_jacobian(ode.subset(converged), point[converged]))
    return BranchPoint(point, ode.eps(point), residual, converged, eig)


def specialisation(state: OrderParameters) -> Tensor:
    """The smallest cosine between a matched student unit of an SCM and its teacher unit (B,):
    near 1 on the specialised branch, near 0 on the unspecialised plateau."""
    match = matching(state)
    cos = cosines(state).gather(-1, match.clamp(min=0)[..., None])[..., 0]
    return torch.where(match >= 0, cos, torch.full_like(cos, torch.inf)).amin(-1)
