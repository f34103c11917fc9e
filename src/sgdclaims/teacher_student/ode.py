"""Order-parameter ODEs of online SGD (Goldt et al. 2020, eq. 9): right-hand side,
fixed-step (Euler, RK4) and adaptive (Dormand-Prince 5(4)) integrators, a Newton solver
for fixed points and a detector of the asymptotic error eps_g*.

The state of a batch of B networks is packed into y (B, D): the upper triangle of Q, then
R, then v. The right-hand side evaluates every average of eq. 9 for all index
combinations (i, k, j, l) at once with broadcast tensor ops (float64), so one step of the
whole batch costs a fixed number of tensor operations whatever K is.
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np
import torch
from torch import Tensor

from sgdclaims.config import require_non_negative, require_positive
from sgdclaims.teacher_student.averages import all_averages, covariance, require_closed_form
from sgdclaims.teacher_student.error import eps_from_order
from sgdclaims.teacher_student.state import OrderParameters


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
        self.k, self.m = k, m
        self.t, self.vs, self.active = template.t, template.vs, template.active
        iu = torch.triu_indices(k, k)
        self.upper = iu[0] * k + iu[1]
        n_q = iu.shape[1]
        expand = torch.zeros(n_q, k * k, dtype=torch.float64)
        expand[torch.arange(n_q), iu[0] * k + iu[1]] = 1.0
        expand[torch.arange(n_q), iu[1] * k + iu[0]] = 1.0
        self.expand = expand
        self.sizes = (n_q, k * m, k)
        a = self.active.double()
        mask_q = (a[:, :, None] * a[:, None, :]).reshape(-1, k * k)[:, self.upper]
        mask_r = a[:, :, None].expand(-1, k, m).reshape(-1, k * m)
        self.mask = torch.cat([mask_q, mask_r, a * float(train_v)], dim=-1)

    def pack(self, state: OrderParameters) -> Tensor:
        """y (B, D) from order parameters."""
        b = state.q.shape[0]
        q = state.q.reshape(b, -1)[:, self.upper]
        return torch.cat([q, state.r.reshape(b, -1), state.v], dim=-1)

    def unpack(self, y: Tensor) -> OrderParameters:
        """Order parameters from y (B, D), with this layout's T, v* and active units."""
        b = y.shape[0]
        yq, yr, yv = torch.split(y, self.sizes, dim=-1)
        q = (yq @ self.expand).reshape(b, self.k, self.k)
        return OrderParameters(q, yr.reshape(b, self.k, self.m), self.t, yv, self.vs, self.active)


def rhs_state(dyn: Dynamics, state: OrderParameters) -> tuple[Tensor, Tensor, Tensor]:
    """dQ/dalpha, dR/dalpha, dv/dalpha of eq. 9 for a batch (inactive units frozen)."""
    k = state.k
    omega = covariance(state.q, state.r, state.t)
    avg = all_averages(dyn.activation, omega, k)
    a = state.active.to(omega.dtype)
    v = state.v * a
    u = torch.cat([v, -state.vs], dim=-1)  # (B, n)
    s3 = torch.einsum("bian,bn->bia", avg.i3, u)  # sum_c u_c I3(l_i, f_a, f_c)
    dr = -dyn.eta_w * v[:, :, None] * s3[:, :, k:]
    lin = v[:, :, None] * s3[:, :, :k]
    quad = torch.einsum("bikcd,bc,bd->bik", avg.i4, u, u) + dyn.sigma**2 * avg.j2
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
    """Eq. 9 for one batch layout: f(y) on packed states, eps_g(y), integrators."""

    def __init__(self, dyn: Dynamics, template: OrderParameters):
        self.dyn = dyn
        self.template = template
        self.packing = Packing(template, train_v=dyn.eta_v > 0)
        self._wide: dict[int, ODE] = {}

    def widened(self, copies: int) -> ODE:
        """The same ODE with every batch element repeated `copies` times (for Jacobians)."""
        if copies not in self._wide:
            rep = OrderParameters(*(x.repeat_interleave(copies, dim=0) for x in self.template))
            self._wide[copies] = ODE(self.dyn, rep)
        return self._wide[copies]

    def f(self, y: Tensor) -> Tensor:
        """dy/dalpha (B, D)."""
        dq, dr, dv = rhs_state(self.dyn, self.packing.unpack(y))
        b = y.shape[0]
        return torch.cat([dq.reshape(b, -1)[:, self.packing.upper], dr.reshape(b, -1), dv], -1)

    def eps(self, y: Tensor) -> Tensor:
        """eps_g (B,) of packed states."""
        return eps_from_order(self.dyn.activation, self.packing.unpack(y))


@dataclasses.dataclass
class Trajectory:
    """eps_g (and states) of a batch at checkpoint times alpha."""

    alpha: np.ndarray  # (C,)
    eps: np.ndarray  # (C, B)
    y: Tensor  # final packed state (B, D)
    steps: int
    evaluations: int


def integrate_fixed(
    ode: ODE, y0: Tensor, alphas: np.ndarray, *, dt: float, method: str = "euler"
) -> Trajectory:
    """Fixed-step Euler or RK4 from alpha=0, recording eps_g at `alphas` (sorted, >= 0)."""
    require_positive("dt", dt)
    if method not in ("euler", "rk4"):
        raise ValueError(f"method must be 'euler' or 'rk4', got {method!r}")
    y, t, steps = y0.clone(), 0.0, 0
    out = []
    for target in np.asarray(alphas, dtype=float):
        n = round((target - t) / dt)
        for _ in range(n):
            if method == "euler":
                y = y + dt * ode.f(y)
            else:
                k1 = ode.f(y)
                k2 = ode.f(y + 0.5 * dt * k1)
                k3 = ode.f(y + 0.5 * dt * k2)
                k4 = ode.f(y + dt * k3)
                y = y + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        steps += n
        t += n * dt
        out.append(ode.eps(y).numpy())
    per = 1 if method == "euler" else 4
    return Trajectory(np.asarray(alphas, float), np.stack(out), y, steps, steps * per)


# Dormand-Prince 5(4) tableau
_C = (0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0, 1.0)
_A = (
    (),
    (1 / 5,),
    (3 / 40, 9 / 40),
    (44 / 45, -56 / 15, 32 / 9),
    (19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729),
    (9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656),
    (35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84),
)
_B5 = (35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0.0)
_B4 = (5179 / 57600, 0.0, 7571 / 16695, 393 / 640, -92097 / 339200, 187 / 2100, 1 / 40)
_E = tuple(b5 - b4 for b5, b4 in zip(_B5, _B4))


class AdaptiveIntegrator:
    """Dormand-Prince 5(4) with error control (rtol, atol), one step size for the batch."""

    def __init__(self, ode: ODE, *, rtol: float = 1e-7, atol: float = 1e-10, dt0: float = 0.1):
        require_positive("rtol", rtol)
        require_positive("atol", atol)
        self.ode, self.rtol, self.atol, self.dt = ode, rtol, atol, dt0
        self.steps = 0
        self.evaluations = 0
        self._k1: Tensor | None = None

    def advance(self, y: Tensor, t: float, t_end: float) -> Tensor:
        """Integrate y from alpha=t to exactly alpha=t_end."""
        f = self.ode.f
        if self._k1 is None:
            self._k1 = f(y)
            self.evaluations += 1
        while t < t_end - 1e-12 * max(1.0, t_end):
            dt = min(self.dt, t_end - t)
            ks = [self._k1]
            for i in range(1, 7):
                yi = y + dt * sum(a * kj for a, kj in zip(_A[i], ks) if a != 0.0)
                ks.append(f(yi))
            self.evaluations += 6
            y_new = yi  # FSAL: stage 7 is at the 5th-order solution
            err = dt * sum(e * kj for e, kj in zip(_E, ks) if e != 0.0)
            scale = self.atol + self.rtol * torch.maximum(y.abs(), y_new.abs())
            ratio = float(torch.sqrt(torch.mean((err / scale) ** 2, dim=-1)).max())
            if ratio <= 1.0:
                t += dt
                y = y_new
                self._k1 = ks[6]
                self.steps += 1
            factor = 0.9 * (1.0 / max(ratio, 1e-10)) ** 0.2
            self.dt = dt * min(5.0, max(0.2, factor))
        return y


class RosenbrockIntegrator:
    """Linearly implicit ROS2 (Verwer et al. 1999) with an embedded first-order error estimate.

    Stable for any step on the stiff tail after the plateau, where the explicit step is
    bounded by the fast modes (~1/eta) while eps_g drifts on scales of 1e3-1e5 in alpha.
    """

    gamma = 1.0 + 1.0 / math.sqrt(2.0)

    def __init__(self, ode: ODE, *, rtol: float = 1e-6, atol: float = 1e-10, dt0: float = 0.1):
        require_positive("rtol", rtol)
        require_positive("atol", atol)
        self.ode, self.rtol, self.atol, self.dt = ode, rtol, atol, dt0
        self.steps = 0
        self.evaluations = 0

    def advance(self, y: Tensor, t: float, t_end: float) -> Tensor:
        """Integrate y from alpha=t to exactly alpha=t_end."""
        f = self.ode.f
        eye = torch.eye(y.shape[-1], dtype=y.dtype)
        while t < t_end - 1e-12 * max(1.0, t_end):
            fy = f(y)
            jac = jacobian(self.ode, y)
            self.evaluations += 1 + y.shape[-1]
            while True:
                dt = min(self.dt, t_end - t)
                lu = torch.linalg.lu_factor(eye - self.gamma * dt * jac)
                k1 = torch.linalg.lu_solve(*lu, fy[..., None])[..., 0]
                f2 = f(y + dt * k1)
                k2 = torch.linalg.lu_solve(*lu, (f2 - 2 * k1)[..., None])[..., 0]
                self.evaluations += 1
                y_new = y + dt * (1.5 * k1 + 0.5 * k2)
                err = 0.5 * dt * (k1 + k2)
                scale = self.atol + self.rtol * torch.maximum(y.abs(), y_new.abs())
                ratio = float(torch.sqrt(torch.mean((err / scale) ** 2, dim=-1)).max())
                if not math.isfinite(ratio):
                    ratio = 1e6
                factor = 0.9 * (1.0 / max(ratio, 1e-10)) ** 0.5
                self.dt = dt * min(5.0, max(0.2, factor))
                if ratio <= 1.0:
                    break
            t += dt
            y = y_new
            self.steps += 1
        return y


def make_integrator(
    ode: ODE, method: str, *, rtol: float, atol: float
) -> AdaptiveIntegrator | RosenbrockIntegrator:
    """'dopri5' (explicit, adaptive) or 'rosenbrock' (linearly implicit, adaptive)."""
    if method == "dopri5":
        return AdaptiveIntegrator(ode, rtol=rtol, atol=atol)
    if method == "rosenbrock":
        return RosenbrockIntegrator(ode, rtol=rtol, atol=atol)
    raise ValueError(f"method must be 'dopri5' or 'rosenbrock', got {method!r}")


def integrate_adaptive(
    ode: ODE,
    y0: Tensor,
    alphas: np.ndarray,
    *,
    rtol: float = 1e-7,
    atol: float = 1e-10,
    method: str = "dopri5",
) -> Trajectory:
    """Adaptive integration (dopri5 or rosenbrock) from alpha=0, recording eps_g at `alphas`."""
    integ = make_integrator(ode, method, rtol=rtol, atol=atol)
    y, t, out = y0.clone(), 0.0, []
    for target in np.asarray(alphas, dtype=float):
        y = integ.advance(y, t, float(target))
        t = float(target)
        out.append(ode.eps(y).numpy())
    return Trajectory(np.asarray(alphas, float), np.stack(out), y, integ.steps, integ.evaluations)


@dataclasses.dataclass
class FixedPoint:
    """Newton's result per batch element: state, residual, largest eigenvalue real part."""

    y: Tensor
    residual: np.ndarray
    max_eig: np.ndarray
    converged: np.ndarray


def jacobian(ode: ODE, y: Tensor, *, rel_step: float = 1e-6) -> Tensor:
    """df_b/dy_b (B, D, D) by central differences, all 2 D shifted states of all batch
    elements in one batched evaluation of f (autodiff through eq. 9 is far slower here)."""
    b, d = y.shape
    wide = ode.widened(2 * d)
    h = rel_step * torch.clamp(y.abs(), min=1e-2)  # (B, D)
    shifts = torch.diag_embed(h)  # (B, D, D): row j shifts coordinate j
    ys = torch.cat([y[:, None, :] + shifts, y[:, None, :] - shifts], dim=1)  # (B, 2D, D)
    fs = wide.f(ys.reshape(b * 2 * d, d)).reshape(b, 2, d, d)
    return ((fs[:, 0] - fs[:, 1]) / (2 * h[:, :, None])).transpose(-1, -2)


def fixed_point(ode: ODE, y0: Tensor, *, tol: float = 1e-13, max_iter: int = 30) -> FixedPoint:
    """Newton's method on f(y) = 0 from y0, frozen (inactive) coordinates held fixed."""
    mask = ode.packing.mask
    frozen = torch.diag_embed(1.0 - mask)
    y = y0.clone()
    alive = torch.ones(y.shape[0], dtype=torch.bool)
    for _ in range(max_iter):
        fy = ode.f(y)
        jac = jacobian(ode, y) * mask[:, :, None] * mask[:, None, :] - frozen
        step, info = torch.linalg.solve_ex(jac, fy[..., None])
        step = step[..., 0] * mask
        alive &= (info == 0) & torch.isfinite(step).all(-1)
        step = torch.where(alive[:, None], step, torch.zeros_like(step))
        y = _finite_step(ode, y, step)
        if float(step.abs().max()) < tol:
            break
    fy = ode.f(y)
    residual = fy.abs().amax(-1).numpy()
    residual[~alive.numpy()] = np.inf
    jac = jacobian(ode, y) * mask[:, :, None] * mask[:, None, :] - frozen
    eig = np.full(y.shape[0], np.nan)
    ok = np.isfinite(residual) & (residual < 1e-11)
    if ok.any():
        eig[ok] = np.linalg.eigvals(jac[torch.from_numpy(ok)].numpy()).real.max(-1)
    return FixedPoint(y, residual, eig, ok)


def _finite_step(ode: ODE, y: Tensor, step: Tensor, halvings: int = 30) -> Tensor:
    """y - lam * step with the largest lam in 1, 1/2, ... keeping f finite (per element),
    so no state outside the domain of the averages (|arcsin argument| > 1) is ever used."""
    lam = torch.ones(y.shape[0], 1, dtype=y.dtype)
    for _ in range(halvings):
        trial = y - lam * step
        bad = ~torch.isfinite(ode.f(trial)).all(-1, keepdim=True)
        if not bad.any():
            return trial
        lam = torch.where(bad, lam / 2, lam)
    return torch.where(bad, y, y - lam * step)


@dataclasses.dataclass
class Asymptote:
    """eps_g* per batch element, the alpha at which convergence was detected, and the eps_g
    of the fixed point that Newton's method finds from there (a check, and a shortcut)."""

    eps_star: np.ndarray
    alpha: np.ndarray
    converged: np.ndarray
    eps_newton: np.ndarray
    max_eig: np.ndarray
    trajectory: Trajectory
    seconds: float


def asymptote(
    ode: ODE,
    y0: Tensor,
    *,
    alpha_max: float,
    alpha_check: float = 100.0,
    grid_factor: float = 1.25,
    window: float = 2.0,
    rel_tol: float = 1e-3,
    saddle_eig: float = 1e-5,
    rtol: float = 1e-9,
    atol: float = 1e-12,
    method: str = "dopri5",
) -> Asymptote:
    """Integrate adaptively until eps_g has settled: from alpha_check on, on a log grid, a
    batch element has converged at alpha when eps_g changed by less than rel_tol (relative)
    since alpha / window, and Newton's method from the current state does not identify a
    saddle (a fixed point with an eigenvalue of df/dy above saddle_eig: the plateau, where
    eps_g is also nearly constant). Unconverged elements report eps_g at alpha_max.

    The default rtol is tight because eps_g* ~ eta sigma^2 (~1e-6) is a difference of O(1)
    order parameters: an error rtol in Q, R is an error ~rtol in eps_g, and along conserved
    directions (the linear network's w_i - w_k) it accumulates instead of decaying; rtol
    1e-7 measured 0.4-2% errors in eps_g* of the linear SCM, 1e-9 below 1e-7.
    """
    start = time.perf_counter()
    b = y0.shape[0]
    integ = make_integrator(ode, method, rtol=rtol, atol=atol)
    eps_star, when = np.full(b, np.nan), np.full(b, np.nan)
    eps_newton, max_eig = np.full(b, np.nan), np.full(b, np.nan)
    done = np.zeros(b, dtype=bool)
    alphas, eps_rows = [0.0], [ode.eps(y0).numpy()]
    y, t = y0.clone(), 0.0
    target = min(1.0, alpha_max)
    while True:
        y = integ.advance(y, t, target)
        t = target
        eps_now = ode.eps(y).numpy()
        alphas.append(t)
        eps_rows.append(eps_now)
        if t >= alpha_check:
            back = int(np.searchsorted(alphas, t / window, side="right")) - 1
            settled = np.abs(eps_now - eps_rows[back]) < rel_tol * np.abs(eps_now)
            candidates = settled & ~done
            if candidates.any():
                fp = fixed_point(ode, y)
                saddle = fp.converged & (fp.max_eig > saddle_eig)
                new = candidates & ~saddle
                eps_star[new] = eps_now[new]
                when[new] = t
                eps_newton[new] = np.where(fp.converged, ode.eps(fp.y).numpy(), np.nan)[new]
                max_eig[new] = fp.max_eig[new]
                done |= new
        if done.all() or t >= alpha_max:
            break
        target = min(t * grid_factor, alpha_max)
    eps_star[~done] = eps_rows[-1][~done]
    traj = Trajectory(np.asarray(alphas), np.stack(eps_rows), y, integ.steps, integ.evaluations)
    return Asymptote(eps_star, when, done, eps_newton, max_eig, traj, time.perf_counter() - start)


def log_grid(alpha_max: float, per_decade: int = 10, alpha_min: float = 0.1) -> np.ndarray:
    """Log-spaced checkpoint times from alpha_min to alpha_max (their Fig. 1b axes)."""
    n = max(2, math.ceil(per_decade * math.log10(alpha_max / alpha_min)) + 1)
    return np.unique(np.round(np.geomspace(alpha_min, alpha_max, n), 10))
