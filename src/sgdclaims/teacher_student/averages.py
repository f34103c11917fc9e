"""Closed-form Gaussian averages of the teacher-student ODEs (Goldt et al. 2020, eq. 9).

For g(x) = erf(x / sqrt 2) these are the classic integrals of Saad & Solla (1995) and
Biehl & Schwarze (1995); for g(x) = x every average is a polynomial in the covariance.
Each scalar average takes the covariance entries of the 2, 3 or 4 fields involved as
broadcastable tensors, so the same code serves one covariance matrix or every index
combination (i, k, j, l) of a whole batch of networks at once (`all_averages`).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor

ACTIVATIONS = ("erf", "linear", "relu")
CLOSED_FORM = ("erf", "linear")


def require_closed_form(activation: str) -> None:
    """Raise ValueError naming `activation` when it has no closed-form averages (ReLU)."""
    if activation not in CLOSED_FORM:
        raise ValueError(
            f"activation={activation!r} has no closed-form averages for the ODE; "
            f"choose one of {list(CLOSED_FORM)} (ReLU is simulated by SGD only)"
        )


def erf_i2(c11: Tensor, c12: Tensor, c22: Tensor) -> Tensor:
    """<g(a) g(b)> for g = erf(x/sqrt 2)."""
    return (2 / math.pi) * torch.asin(c12 / torch.sqrt((1 + c11) * (1 + c22)))


def erf_i3(c11: Tensor, c12: Tensor, c13: Tensor, c23: Tensor, c33: Tensor) -> Tensor:
    """<g'(a) b g(c)> for g = erf(x/sqrt 2)."""
    l3 = (1 + c11) * (1 + c33) - c13**2
    return (2 / math.pi) / torch.sqrt(l3) * (c23 * (1 + c11) - c12 * c13) / (1 + c11)


def erf_i4(
    c11: Tensor,
    c12: Tensor,
    c13: Tensor,
    c14: Tensor,
    c22: Tensor,
    c23: Tensor,
    c24: Tensor,
    c33: Tensor,
    c34: Tensor,
    c44: Tensor,
) -> Tensor:
    """<g'(a) g'(b) g(c) g(d)> for g = erf(x/sqrt 2)."""
    l4 = (1 + c11) * (1 + c22) - c12**2
    l0 = (
        l4 * c34 - c23 * c24 * (1 + c11) - c13 * c14 * (1 + c22) + c12 * c13 * c24 + c12 * c14 * c23
    )
    l1 = l4 * (1 + c33) - c23**2 * (1 + c11) - c13**2 * (1 + c22) + 2 * c12 * c13 * c23
    l2 = l4 * (1 + c44) - c24**2 * (1 + c11) - c14**2 * (1 + c22) + 2 * c12 * c14 * c24
    return (4 / math.pi**2) / torch.sqrt(l4) * torch.asin(l0 / torch.sqrt(l1 * l2))


def erf_j2(c11: Tensor, c12: Tensor, c22: Tensor) -> Tensor:
    """<g'(a) g'(b)> for g = erf(x/sqrt 2)."""
    return (2 / math.pi) / torch.sqrt((1 + c11) * (1 + c22) - c12**2)


def average_of(name: str, activation: str, cov: Tensor) -> Tensor:
    """One average ('i2', 'i3', 'i4', 'j2') for covariance matrices `cov` (..., n, n).

    Fields are indexed 1..n in the order the average's arguments are written.
    """
    require_closed_form(activation)
    c = {(a + 1, b + 1): cov[..., a, b] for a in range(cov.shape[-1]) for b in range(cov.shape[-1])}
    if activation == "linear":
        pair = {"i2": (1, 2), "i3": (2, 3), "i4": (3, 4)}
        if name == "j2":
            return torch.ones_like(cov[..., 0, 0])
        if name in pair:
            return c[pair[name]]
    if name == "i2":
        return erf_i2(c[1, 1], c[1, 2], c[2, 2])
    if name == "j2":
        return erf_j2(c[1, 1], c[1, 2], c[2, 2])
    if name == "i3":
        return erf_i3(c[1, 1], c[1, 2], c[1, 3], c[2, 3], c[3, 3])
    if name == "i4":
        keys = [(1, 1), (1, 2), (1, 3), (1, 4), (2, 2), (2, 3), (2, 4), (3, 3), (3, 4), (4, 4)]
        return erf_i4(*(c[k] for k in keys))
    raise ValueError(f"name must be one of ['i2', 'i3', 'i4', 'j2'], got {name!r}")


class Averages(NamedTuple):
    """Every average the ODE needs, over all fields (K students then M teachers).

    i2: (B, n, n) <g(f_a) g(f_b)>; i3: (B, K, n, n) <g'(l_i) f_a g(f_c)>;
    i4: (B, K, K, n, n) <g'(l_i) g'(l_k) g(f_c) g(f_d)>; j2: (B, K, K) <g'(l_i) g'(l_k)>.
    """

    i2: Tensor
    i3: Tensor
    i4: Tensor
    j2: Tensor


def covariance(q: Tensor, r: Tensor, t: Tensor) -> Tensor:
    """Joint covariance [[Q, R], [R^T, T]] of (lambda, rho), batched: (B, K+M, K+M)."""
    top = torch.cat([q, r], dim=-1)
    bottom = torch.cat([r.transpose(-1, -2), t], dim=-1)
    return torch.cat([top, bottom], dim=-2)


def all_averages(activation: str, omega: Tensor, k: int, *, need_i4: bool = True) -> Averages:
    """All averages of eq. 9 for covariance `omega` (B, n, n) whose first k fields are students.

    One broadcast evaluation per average: no Python loop over hidden units.
    """
    require_closed_form(activation)
    n = omega.shape[-1]
    d = torch.diagonal(omega, dim1=-2, dim2=-1)  # (B, n)
    if activation == "linear":
        b = omega.shape[0]
        i3 = omega[:, None, :, :].expand(b, k, n, n)
        i4 = omega[:, None, None, :, :].expand(b, k, k, n, n) if need_i4 else omega
        return Averages(omega, i3, i4, torch.ones(b, k, k, dtype=omega.dtype, device=omega.device))
    i2 = erf_i2(d[:, :, None], omega, d[:, None, :])
    ds = d[:, :k]
    os_ = omega[:, :k, :]  # (B, K, n): C(l_i, f_a)
    i3 = erf_i3(
        ds[:, :, None, None],
        os_[:, :, :, None],
        os_[:, :, None, :],
        omega[:, None, :, :],
        d[:, None, None, :],
    )
    j2 = erf_j2(ds[:, :, None], omega[:, :k, :k], ds[:, None, :])
    if not need_i4:
        return Averages(i2, i3, omega, j2)
    c11 = ds[:, :, None, None, None]
    c22 = ds[:, None, :, None, None]
    c12 = omega[:, :k, :k, None, None]
    c13 = os_[:, :, None, :, None]
    c14 = os_[:, :, None, None, :]
    c23 = os_[:, None, :, :, None]
    c24 = os_[:, None, :, None, :]
    c33 = d[:, None, None, :, None]
    c34 = omega[:, None, None, :, :]
    c44 = d[:, None, None, None, :]
    i4 = erf_i4(c11, c12, c13, c14, c22, c23, c24, c33, c34, c44)
    return Averages(i2, i3, i4, j2)


def quadratic_term(activation: str, omega: Tensor, k: int, u: Tensor) -> Tensor:
    """sum_cd u_c u_d I4(l_i, l_k, f_c, f_d) (B, K, K) for covariance `omega` (B, n, n).

    The cost of the right-hand side and of its Jacobian is this sum. It is evaluated for
    the pairs i <= k only (I4 is symmetric in i, k), and with the erf form of I4 regrouped:
    L1 and L2 depend on one of the fields c, d each, so they are computed once per field
    rather than once per (c, d) pair.
    """
    require_closed_form(activation)
    b = omega.shape[0]
    if activation == "linear":
        quad = torch.einsum("bc,bcd,bd->b", u, omega, u)
        return quad[:, None, None].expand(b, k, k)
    i, kk = torch.triu_indices(k, k, device=omega.device)
    d1 = 1 + torch.diagonal(omega, dim1=-2, dim2=-1)  # (B, n)
    a, c = d1[:, i, None], d1[:, kk, None]  # 1 + C11, 1 + C22: (B, P, 1)
    c12 = omega[:, i, kk][:, :, None]
    l4 = a * c - c12**2
    ci, ck = omega[:, i, :], omega[:, kk, :]  # C(l_i, f_x), C(l_k, f_x): (B, P, n)
    # L1 of the field c, or L2 of the field d: l4 (1 + C_xx) - (1+C11) C_kx^2 - ...
    lx = l4 * d1[:, None, :] - a * ck**2 - c * ci**2 + 2 * c12 * ci * ck
    cross = (c12 * ci)[..., :, None] * ck[..., None, :]
    l0 = (
        l4[..., None] * omega[:, None, :, :]
        - (a * ck)[..., :, None] * ck[..., None, :]
        - (c * ci)[..., :, None] * ci[..., None, :]
        + cross
        + cross.transpose(-1, -2)
    )
    inv = torch.rsqrt(lx)
    i4 = torch.asin(l0 * inv[..., :, None] * inv[..., None, :])  # (B, P, n, n)
    pair = torch.einsum("bpcd,bc,bd->bp", i4, u, u) * (4 / math.pi**2) * torch.rsqrt(l4[..., 0])
    out = torch.zeros(b, k, k, dtype=omega.dtype, device=omega.device)
    out[:, i, kk] = pair
    out[:, kk, i] = pair
    return out
