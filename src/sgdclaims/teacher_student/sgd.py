"""Online SGD of two-layer teacher-student networks (Goldt et al. 2020, eq. 2-3).

One fresh Gaussian sample per step, output noise sigma, separate learning rates for the
first (eta_w / sqrt N) and second (eta_v / N) layer. R independent replicas (seeds, or K
values padded with inactive units) advance together: every step is a fixed number of
batched tensor ops over all replicas, and inputs and noise are drawn in big blocks.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np
import torch
from scipy import special
from torch import Tensor

from sgdclaims.config import require_non_negative, require_positive
from sgdclaims.teacher_student.activations import activation_fn
from sgdclaims.teacher_student.error import eps_from_order, eps_monte_carlo
from sgdclaims.teacher_student.state import OrderParameters, from_weights, teacher_weights

_INV_SQRT2 = 1 / math.sqrt(2.0)
_ERF_SLOPE = math.sqrt(2.0 / math.pi)


@dataclasses.dataclass
class Networks:
    """Weights of R replicas: w (R,K,N), w* (R,M,N), v (R,K), v* (R,M), active units (R,K)."""

    w: Tensor
    ws: Tensor
    v: Tensor
    vs: Tensor
    active: Tensor

    def order_parameters(self) -> OrderParameters:
        """Q, R, T, v, v* measured from the weights (float64), the ODE's initial condition."""
        return from_weights(self.w, self.ws, self.v, self.vs, self.active)


@dataclasses.dataclass
class SGDTrace:
    """eps_g (C, R) at checkpoint times alpha (C,), and the final networks."""

    alpha: np.ndarray
    eps: np.ndarray
    eps_se: np.ndarray
    nets: Networks
    steps: int


def sgd(
    nets: Networks,
    *,
    activation: str,
    eta_w: float,
    eta_v: float,
    sigma: float,
    alphas: np.ndarray,
    generator: torch.Generator,
    block: int = 256,
    mc_inputs: Tensor | None = None,
) -> SGDTrace:
    """Run online SGD from `nets` (updated in place), recording eps_g at times `alphas`.

    eps_g is exact from the order parameters for erf and linear activations and a Monte
    Carlo estimate on the held-out inputs `mc_inputs` (P, N) otherwise (ReLU).
    """
    require_positive("eta_w", eta_w)
    require_non_negative("eta_v", eta_v)
    require_non_negative("sigma", sigma)
    if activation not in ("erf", "linear") and mc_inputs is None:
        raise ValueError(f"activation={activation!r} needs mc_inputs to measure eps_g")
    g, gp = _numpy_activation(activation)
    w, ws, v, vs = nets.w, nets.ws, nets.v, nets.vs
    r, _, n = w.shape
    dtype = w.dtype
    v.mul_(nets.active.to(dtype))
    # numpy views share memory with the tensors: the inner loop updates nets in place
    w_np, v_np, act = w.numpy(), v.numpy(), nets.active.numpy().astype(w.numpy().dtype)
    sqrt_n = math.sqrt(n)
    lr_v = eta_v / n
    targets = np.rint(np.asarray(alphas, dtype=float) * n).astype(np.int64)
    if np.any(np.diff(targets) < 0) or targets[0] < 0:
        raise ValueError("alphas must be sorted and non-negative")
    step = 0
    rows, ses = [], []

    def measure() -> None:
        if activation in ("erf", "linear"):
            e = eps_from_order(activation, nets.order_parameters())
            rows.append(e.numpy())
            ses.append(np.zeros(r))
        else:
            e, se = eps_monte_carlo(activation, w, ws, v, vs, mc_inputs)
            rows.append(e.numpy())
            ses.append(se.numpy())

    g_torch, _ = activation_fn(activation)
    for target in targets:
        while step < target:
            size = int(min(block, target - step))
            x = torch.randn(size, r, n, generator=generator, dtype=dtype) / sqrt_n
            noise = torch.randn(size, r, generator=generator, dtype=dtype) * sigma
            y = (g_torch(torch.einsum("trn,rmn->trm", x, ws)) * vs).sum(-1) + noise
            _steps(w_np, v_np, act, x.numpy(), y.numpy(), g, gp, eta_w, lr_v)
            step += size
        measure()
    return SGDTrace(np.asarray(alphas, float), np.stack(rows), np.stack(ses), nets, step)


def init_networks(
    ks: list[int],
    m: int,
    *,
    n: int,
    init_std: float,
    teacher: str,
    v0: float,
    vs: float,
    generator: torch.Generator,
    dtype: torch.dtype = torch.float32,
    v_init_std: float = 0.0,
) -> Networks:
    """Replicas with K in `ks` (padded to max(ks)): students N(0, init_std^2), second layer
    v0 (+ N(0, v_init_std^2) when trained), teachers per `teacher` ('gaussian' or
    'identity', see state.teacher_weights) with second layer v*."""
    for name, value in (("n", n), ("init_std", init_std)):
        require_positive(name, value)
    kmax, r = max(ks), len(ks)
    w = torch.randn(r, kmax, n, generator=generator, dtype=torch.float64) * init_std
    ws = teacher_weights(r, m, n, teacher=teacher, generator=generator)
    v = v0 + v_init_std * torch.randn(r, kmax, generator=generator, dtype=torch.float64)
    active = torch.arange(kmax)[None, :] < torch.tensor(ks)[:, None]
    return Networks(
        w.to(dtype),
        ws.to(dtype),
        (v * active).to(dtype),
        torch.full((r, m), float(vs), dtype=dtype),
        active,
    )


def _numpy_activation(name: str) -> tuple[Callable, Callable]:
    """(g, g') on numpy arrays, as in activations.activation_fn."""
    activation_fn(name)  # ValueError naming the activation
    if name == "erf":
        return (lambda a: special.erf(a * _INV_SQRT2)), (
            lambda a: _ERF_SLOPE * np.exp(-0.5 * a * a)
        )
    if name == "linear":
        return (lambda a: a), (lambda a: 1.0)
    return (lambda a: np.maximum(a, 0.0)), (lambda a: (a > 0).astype(a.dtype))


def _steps(
    w: np.ndarray,
    v: np.ndarray,
    act: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    g: Callable,
    gp: Callable,
    eta_w: float,
    lr_v: float,
) -> None:
    """One online SGD step per row of x (T, R, N), already scaled by 1/sqrt N, with labels
    y (T, R): w (R, K, N) and v (R, K) updated in place (eq. 2-3). numpy, not torch: the
    loop is sequential and its arrays are tiny, so per-call overhead is the whole cost
    (measured: 37 vs 110 microseconds per step at R=9, K=4, N=100)."""
    for xt, yt in zip(x, y):
        lam = np.matmul(w, xt[:, :, None])[..., 0]
        gl = g(lam)
        delta = (gl * v).sum(-1) - yt
        coef = gp(lam) * v * delta[:, None]
        w -= (eta_w * coef)[:, :, None] * xt[:, None, :]
        if lr_v > 0:
            v -= (lr_v * delta)[:, None] * gl * act
