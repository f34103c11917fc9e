"""Generalisation error eps_g = 1/2 <(phi(x) - phi*(x))^2> (Goldt et al. eq. 5).

From order parameters for erf and linear activations (closed form, exact), and by Monte
Carlo on a held-out Gaussian sample for any activation (the only way for ReLU here).
"""

from __future__ import annotations

import torch
from torch import Tensor

from sgdclaims.teacher_student.activations import activation_fn
from sgdclaims.teacher_student.averages import all_averages, covariance
from sgdclaims.teacher_student.state import OrderParameters


def eps_from_order(activation: str, state: OrderParameters) -> Tensor:
    """eps_g (B,) from order parameters: 1/2 u^T I2 u with u = (v, -v*) over all fields."""
    omega = covariance(state.q, state.r, state.t)
    avg = all_averages(activation, omega, state.k, need_i4=False)
    u = torch.cat([state.v * state.active, -state.vs], dim=-1)
    return 0.5 * torch.einsum("ba,bac,bc->b", u, avg.i2, u)


def eps_monte_carlo(
    activation: str,
    w: Tensor,
    ws: Tensor,
    v: Tensor,
    vs: Tensor,
    x: Tensor,
) -> tuple[Tensor, Tensor]:
    """eps_g (B,) and its standard error on held-out inputs x (P, N) shared by the batch.

    w (B,K,N), w* (B,M,N), v (B,K), v* (B,M); no output noise (eq. 5).
    """
    g, _ = activation_fn(activation)
    n = x.shape[-1]
    x = x.to(w.dtype)
    lam = torch.einsum("bkn,pn->bpk", w, x) / n**0.5
    rho = torch.einsum("bmn,pn->bpm", ws.to(w.dtype), x) / n**0.5
    diff = (g(lam) * v[:, None, :]).sum(-1) - (g(rho) * vs[:, None, :]).sum(-1)
    sq = 0.5 * diff.double() ** 2
    return sq.mean(-1), sq.std(-1) / sq.shape[-1] ** 0.5


def eps_constant(activation: str, state: OrderParameters) -> Tensor:
    """eps_g (B,) of the best constant predictor, from order parameters: the student's output
    switched off, 1/2 <phi*(x)^2> (erf and linear are odd, so <phi*> = 0 and the constant is
    0). The regression analogue of chance: a network that learned nothing scores it."""
    off = state._replace(v=torch.zeros_like(state.v))
    return eps_from_order(activation, off)


def eps_constant_monte_carlo(activation: str, ws: Tensor, vs: Tensor, x: Tensor) -> Tensor:
    """eps_g (B,) of the best constant predictor <phi*> on held-out inputs x (P, N): half the
    variance of the teacher's output (any activation; ReLU's mean is not 0)."""
    g, _ = activation_fn(activation)
    rho = torch.einsum("bmn,pn->bpm", ws, x.to(ws.dtype)) / x.shape[-1] ** 0.5
    out = (g(rho) * vs[:, None, :]).sum(-1).double()
    return 0.5 * out.var(-1, unbiased=False)
