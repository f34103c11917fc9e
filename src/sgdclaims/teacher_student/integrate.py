"""Integrators of the order-parameter ODE: fixed-step Euler and RK4 (the reference code
nn2pp integrates with Euler at dt 0.01), adaptive Dormand-Prince 5(4), the linearly
implicit Rosenbrock ROS2 and a hybrid that starts explicit and switches to ROS2 once the
explicit step is bounded by stability rather than accuracy.

After the plateau the ODE is stiff: the fast modes decay at rates ~eta while eps_g creeps
towards its fixed point on scales of 1e3-1e5 in alpha, so an explicit step stays small for the
whole tail; ROS2 takes steps that grow with alpha there. All integrators advance a whole
batch with one step size and keep every tensor on the state's device.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch
from torch import Tensor

from sgdclaims.teacher_student.newton import jacobian
from sgdclaims.teacher_student.ode import ODE
from sgdclaims.validate import require_positive

METHODS = ("dopri5", "rosenbrock", "hybrid")


@dataclasses.dataclass
class Trajectory:
    """eps_g (C, B) of a batch at checkpoint times alpha (C,), the final packed state and
    the work done (steps, right-hand-side evaluations)."""

    alpha: np.ndarray
    eps: np.ndarray
    y: Tensor
    steps: int
    evaluations: int


def to_numpy(x: Tensor) -> np.ndarray:
    """A tensor on any device as a numpy array."""
    return x.detach().cpu().numpy()


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
        out.append(to_numpy(ode.eps(y)))
    per = 1 if method == "euler" else 4
    return Trajectory(np.asarray(alphas, float), np.stack(out), y, steps, steps * per)


# Dormand-Prince 5(4) tableau
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
#: Hairer's stiffness test for Dormand-Prince: h * |lambda| above this on 15 accepted steps
_STIFF_LIMIT, _STIFF_STEPS = 3.25, 15


def error_ratios(err: Tensor, y: Tensor, y_new: Tensor, rtol: float, atol: float) -> Tensor:
    """The RMS of err / (atol + rtol |y|) of each batch element (B,) (accept if all <= 1)."""
    scale = atol + rtol * torch.maximum(y.abs(), y_new.abs())
    return torch.sqrt(torch.mean((err / scale) ** 2, dim=-1))


def step_ratio(ratios: Tensor, y: Tensor) -> float:
    """The error ratio of a batch step: the largest over the elements whose state is finite
    (a stopped element, its state NaN, does not steer the step); inf where the trial of a
    finite element is not finite."""
    live = torch.isfinite(y).all(-1)
    r = ratios[live]
    if not bool(torch.isfinite(r).all()):
        return math.inf
    return float(r.max()) if r.numel() else 0.0


#: a step this small (relative to alpha) that still fails for an element means the element
#: cannot be integrated at any step size: it stops (its state becomes NaN)
STALLED = 1e-12


class Integrator:
    """Adaptive integration of a batch with one step size; subclasses implement `step`."""

    order = 1

    def __init__(self, ode: ODE, *, rtol: float, atol: float, dt0: float = 0.1):
        require_positive("rtol", rtol)
        require_positive("atol", atol)
        self.ode, self.rtol, self.atol, self.dt = ode, rtol, atol, dt0
        self.steps = 0
        self.evaluations = 0

    def step(self, y: Tensor, dt: float) -> tuple[Tensor, Tensor]:
        """One trial step: the new state and the error ratio of each batch element."""
        raise NotImplementedError

    def accepted(self, y_new: Tensor) -> None:
        """Called after an accepted step."""

    def advance(self, y: Tensor, t: float, t_end: float) -> Tensor:
        """Integrate y from alpha=t to exactly alpha=t_end. An element whose state is NaN has
        stopped and does not steer the step size; one that fails at every step size (its trial
        state is not finite however small the step) stops there."""
        while t < t_end - 1e-12 * max(1.0, t_end):
            dt = min(self.dt, t_end - t)
            y_new, ratios = self.step(y, dt)
            ratio = step_ratio(ratios, y)
            if math.isinf(ratio) and dt <= STALLED * max(1.0, t):
                bad = torch.isfinite(y).all(-1) & ~torch.isfinite(ratios)
                y = torch.where(bad[:, None], torch.full_like(y, math.nan), y)
                continue
            factor = 0.9 * (1.0 / max(ratio, 1e-10)) ** (1.0 / (self.order + 1))
            self.dt = dt * min(5.0, max(0.2, factor))
            if ratio <= 1.0:
                t += dt
                y = y_new
                self.steps += 1
                self.accepted(y)
        return y


class Dopri5(Integrator):
    """Dormand-Prince 5(4) with error control and Hairer's stiffness detection."""

    order = 4

    def __init__(self, ode: ODE, *, rtol: float = 1e-7, atol: float = 1e-10, dt0: float = 0.1):
        super().__init__(ode, rtol=rtol, atol=atol, dt0=dt0)
        self._k1: Tensor | None = None
        self._k_next: Tensor | None = None
        self.stiff_steps = 0

    @property
    def stiff(self) -> bool:
        """True once the step has been bounded by stability on 15 accepted steps."""
        return self.stiff_steps >= _STIFF_STEPS

    def step(self, y: Tensor, dt: float) -> tuple[Tensor, Tensor]:
        f = self.ode.f
        if self._k1 is None:
            self._k1 = f(y)
            self.evaluations += 1
        ks = [self._k1]
        stages = []
        for i in range(1, 7):
            yi = y + dt * sum(a * kj for a, kj in zip(_A[i], ks) if a != 0.0)
            stages.append(yi)
            ks.append(f(yi))
        self.evaluations += 6
        y_new = stages[-1]  # FSAL: stage 7 is at the 5th-order solution
        err = dt * sum(e * kj for e, kj in zip(_E, ks) if e != 0.0)
        ratios = error_ratios(err, y, y_new, self.rtol, self.atol)
        if step_ratio(ratios, y) <= 1.0:
            self._k_next = ks[6]
            live = torch.isfinite(y_new).all(-1)
            dy = float((y_new - stages[-2])[live].norm())
            if dy > 0 and dt * float((ks[6] - ks[5])[live].norm()) / dy > _STIFF_LIMIT:
                self.stiff_steps += 1
        return y_new, ratios

    def accepted(self, y_new: Tensor) -> None:
        self._k1 = self._k_next


class Rosenbrock(Integrator):
    """ROS2 (Verwer et al. 1999) with an embedded first-order error estimate. It is second
    order for any matrix in place of the Jacobian (a W-method), so the Jacobian (forward
    differences) is reused for up to `max_age` steps and refreshed after a rejection."""

    order = 1
    gamma = 1.0 + 1.0 / math.sqrt(2.0)

    def __init__(
        self,
        ode: ODE,
        *,
        rtol: float = 1e-6,
        atol: float = 1e-10,
        dt0: float = 0.1,
        max_age: int = 20,
    ):
        super().__init__(ode, rtol=rtol, atol=atol, dt0=dt0)
        self.max_age = max_age
        self.jacobians = 0
        self._jac: Tensor | None = None
        self._age = 0
        self._fy: Tensor | None = None

    def step(self, y: Tensor, dt: float) -> tuple[Tensor, Tensor]:
        f = self.ode.f
        if self._fy is None:
            self._fy = f(y)
            self.evaluations += 1
        if self._jac is None or self._age >= self.max_age:
            self._jac = jacobian(self.ode, y, central=False, fy=self._fy)
            self.evaluations += y.shape[-1]
            self.jacobians += 1
            self._age = 0
        eye = torch.eye(y.shape[-1], dtype=y.dtype, device=y.device)
        lu = torch.linalg.lu_factor(eye - self.gamma * dt * self._jac)
        k1 = torch.linalg.lu_solve(*lu, self._fy[..., None])[..., 0]
        f2 = f(y + dt * k1)
        k2 = torch.linalg.lu_solve(*lu, (f2 - 2 * k1)[..., None])[..., 0]
        self.evaluations += 1
        y_new = y + dt * (1.5 * k1 + 0.5 * k2)
        ratios = error_ratios(0.5 * dt * (k1 + k2), y, y_new, self.rtol, self.atol)
        if step_ratio(ratios, y) > 1.0 and self._age > 0:
            self._age = self.max_age  # retry with a fresh Jacobian
        return y_new, ratios

    def accepted(self, y_new: Tensor) -> None:
        self._fy = None
        self._age += 1


class Hybrid(Integrator):
    """Dormand-Prince until its stiffness test fires, then ROS2 for the rest."""

    def __init__(self, ode: ODE, *, rtol: float, atol: float, rosenbrock_rtol: float):
        super().__init__(ode, rtol=rtol, atol=atol)
        self.explicit = Dopri5(ode, rtol=rtol, atol=atol)
        self.implicit = Rosenbrock(ode, rtol=rosenbrock_rtol, atol=atol)
        self.switched_at = math.nan

    def advance(self, y: Tensor, t: float, t_end: float) -> Tensor:
        if not self.explicit.stiff:
            y = self.explicit.advance(y, t, t_end)
            if self.explicit.stiff:
                self.switched_at = t_end
                self.implicit.dt = self.explicit.dt
        else:
            y = self.implicit.advance(y, t, t_end)
        self.steps = self.explicit.steps + self.implicit.steps
        self.evaluations = self.explicit.evaluations + self.implicit.evaluations
        return y


def make_integrator(
    ode: ODE, method: str, *, rtol: float, atol: float, implicit_rtol: float | None = None
) -> Integrator:
    """'dopri5' (explicit), 'rosenbrock' (linearly implicit) or 'hybrid' (dopri5, then ROS2
    at implicit_rtol, default rtol). ROS2's tolerance applies to its embedded first-order
    error estimate, which is far above the error of the second-order step it takes."""
    if method == "dopri5":
        return Dopri5(ode, rtol=rtol, atol=atol)
    if method == "rosenbrock":
        return Rosenbrock(ode, rtol=implicit_rtol or rtol, atol=atol)
    if method == "hybrid":
        return Hybrid(ode, rtol=rtol, atol=atol, rosenbrock_rtol=implicit_rtol or rtol)
    raise ValueError(f"method must be one of {list(METHODS)}, got {method!r}")


def integrate_adaptive(
    ode: ODE,
    y0: Tensor,
    alphas: np.ndarray,
    *,
    rtol: float = 1e-7,
    atol: float = 1e-10,
    method: str = "dopri5",
    implicit_rtol: float | None = None,
) -> Trajectory:
    """Adaptive integration from alpha=0, recording eps_g at `alphas` (sorted, >= 0)."""
    integ = make_integrator(ode, method, rtol=rtol, atol=atol, implicit_rtol=implicit_rtol)
    y, t, out = y0.clone(), 0.0, []
    for target in np.asarray(alphas, dtype=float):
        y = integ.advance(y, t, float(target))
        t = float(target)
        out.append(to_numpy(ode.eps(y)))
    return Trajectory(np.asarray(alphas, float), np.stack(out), y, integ.steps, integ.evaluations)


def log_grid(alpha_max: float, per_decade: int = 10, alpha_min: float = 0.1) -> np.ndarray:
    """Log-spaced checkpoint times from alpha_min to alpha_max (their Fig. 1b axes)."""
    n = max(2, math.ceil(per_decade * math.log10(alpha_max / alpha_min)) + 1)
    return np.unique(np.round(np.geomspace(alpha_min, alpha_max, n), 10))
