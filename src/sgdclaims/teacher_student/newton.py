"""Jacobians and fixed points of the order-parameter ODE (Goldt et al. 2020, eq. 9).

`jacobian` differentiates f numerically, all shifted states of all batch elements in one
batched evaluation (autodiff through eq. 9 is slower here); `fixed_point` is Newton's
method on f(y) = 0 with frozen coordinates held fixed, and reports the residual and the
largest real part of the Jacobian's eigenvalues at the solution.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import Tensor

from sgdclaims.teacher_student.ode import ODE

#: relative shift of central and forward differences (truncation vs rounding error)
CENTRAL_STEP, FORWARD_STEP = 1e-6, 1e-8
#: a Newton solution whose residual max |f| exceeds this has not converged
RESIDUAL_TOL = 1e-13
#: rows of one evaluation of f on the CPU: larger batches fall out of the cache (measured:
#: 21 microseconds a row at 240 rows, 37 at 720)
CPU_CHUNK = 256
#: singular values below this fraction of the largest are dropped from a Newton step
#: (the linear network's conserved directions make its Jacobian exactly singular)
PINV_RTOL = 1e-10


def jacobian(ode: ODE, y: Tensor, *, central: bool = True, fy: Tensor | None = None) -> Tensor:
    """df_b/dy_b (B, D, D) by central (or forward) differences: the 2D (or D) shifted states
    of every batch element in one evaluation of f. `fy` = f(y) saves one evaluation of a
    forward difference."""
    b, d = y.shape
    rel = CENTRAL_STEP if central else FORWARD_STEP
    h = rel * torch.clamp(y.abs(), min=1e-2)  # (B, D)
    shifts = torch.diag_embed(h)  # (B, D, D): row j shifts coordinate j
    if central:
        ys = torch.cat([y[:, None, :] + shifts, y[:, None, :] - shifts], dim=1)
        fs = _f_rows(ode, ys.reshape(b * 2 * d, d), 2 * d).reshape(b, 2, d, d)
        return ((fs[:, 0] - fs[:, 1]) / (2 * h[:, :, None])).transpose(-1, -2)
    base = ode.f(y) if fy is None else fy
    fs = _f_rows(ode, (y[:, None, :] + shifts).reshape(b * d, d), d).reshape(b, d, d)
    return ((fs - base[:, None, :]) / h[:, :, None]).transpose(-1, -2)


def _f_rows(ode: ODE, ys: Tensor, per: int) -> Tensor:
    """f of `per` consecutive rows per batch element, in cache-sized chunks on the CPU."""
    rows = torch.arange(ys.shape[0] // per, device=ys.device).repeat_interleave(per)
    chunk = CPU_CHUNK if ys.device.type == "cpu" else ys.shape[0]
    parts = [ode.f(ys[s : s + chunk], rows[s : s + chunk]) for s in range(0, ys.shape[0], chunk)]
    return torch.cat(parts)


def masked_jacobian(ode: ODE, y: Tensor, **kwargs) -> Tensor:
    """The Jacobian restricted to the coordinates that evolve; frozen coordinates (inactive
    units, a fixed second layer) get -1 on the diagonal so they neither move nor count as
    a flat or unstable direction."""
    mask = ode.packing.mask
    jac = jacobian(ode, y, **kwargs)
    return jac * mask[:, :, None] * mask[:, None, :] - torch.diag_embed(1.0 - mask)


def top_eigenvalue(jac: Tensor) -> Tensor:
    """Largest real part of the eigenvalues of each Jacobian (B,)."""
    return torch.linalg.eigvals(jac).real.amax(-1)


@dataclasses.dataclass
class FixedPoint:
    """Newton's result per batch element: state, residual max |f|, the largest real part of
    the Jacobian's eigenvalues there (NaN where Newton did not converge), convergence."""

    y: Tensor
    residual: Tensor
    max_eig: Tensor
    converged: Tensor
    iterations: int


def fixed_point(ode: ODE, y0: Tensor, *, tol: float = 1e-14, max_iter: int = 30) -> FixedPoint:
    """Newton's method on f(y) = 0 from y0 (steps by the pseudo-inverse of the masked
    Jacobian, halved until f stays finite). Converged: residual max |f| <= RESIDUAL_TOL;
    never from a state that is not finite."""
    mask = ode.packing.mask
    y = y0.clone()
    alive = torch.isfinite(y).all(-1)  # a NaN state (a stopped start) has no fixed point
    iterations = 0
    for iterations in range(1, max_iter + 1):  # noqa: B007 (reported)
        fy = ode.f(y)
        if bool(((fy * mask).abs().amax(-1) < RESIDUAL_TOL / 100).logical_or(~alive).all()):
            break
        jac = masked_jacobian(ode, y)
        alive &= torch.isfinite(jac).flatten(1).all(-1) & torch.isfinite(fy).all(-1)
        eye = torch.eye(jac.shape[-1], dtype=y.dtype, device=y.device)
        jac = torch.where(alive[:, None, None], jac, -eye)
        fy = torch.where(alive[:, None], fy, torch.zeros_like(fy))
        step = (torch.linalg.pinv(jac, rtol=PINV_RTOL) @ fy[..., None])[..., 0] * mask
        alive &= torch.isfinite(step).all(-1)
        step = torch.where(alive[:, None], step, torch.zeros_like(step))
        y = _finite_step(ode, y, step)
        if float(step.abs().max()) < tol:
            break
    residual = (ode.f(y) * mask).abs().amax(-1)
    residual = torch.where(alive & torch.isfinite(residual), residual, torch.inf)
    converged = residual <= RESIDUAL_TOL
    eig = torch.full((y.shape[0],), float("nan"), dtype=y.dtype, device=y.device)
    if bool(converged.any()):
        eig[converged] = top_eigenvalue(masked_jacobian(ode.subset(converged), y[converged]))
    return FixedPoint(y, residual, eig, converged, iterations)


def _finite_step(ode: ODE, y: Tensor, step: Tensor, halvings: int = 30) -> Tensor:
    """y - lam * step with the largest lam in 1, 1/2, ... keeping f finite (per element),
    so no state outside the domain of the averages (|arcsin argument| > 1) is ever used."""
    lam = torch.ones(y.shape[0], 1, dtype=y.dtype, device=y.device)
    bad = torch.zeros_like(lam, dtype=torch.bool)
    finite = torch.isfinite(y).all(-1, keepdim=True)  # a NaN state stays as it is
    for _ in range(halvings):
        trial = y - lam * step
        bad = ~torch.isfinite(ode.f(trial)).all(-1, keepdim=True) & finite
        if not bool(bad.any()):
            return trial
        lam = torch.where(bad, lam / 2, lam)
    return torch.where(bad, y, y - lam * step)
