"""The state of a group of linearised runs between steps (Goldwaser & Ge, Alg. 1), in one of
two equivalent forms:

- `ParamSpace`: the parameters theta of every member; a step evaluates the linearised logits
  f(x; theta_s) + J (theta - theta_s) (forward mode) and takes theta - lr J^T u (reverse
  mode) with the linearisation of the window;
- `FunctionSpace`: within a window the linearised model moves in function space only:
  z <- z - lr K u with the tangent kernel K = J J^T of the window, and theta = theta_s +
  J^T a with a the accumulated -lr u. The same iterates in exact arithmetic; a step costs a
  kernel product instead of two passes through the network, a refresh one kernel.

Both keep, per member, the window's anchor theta_s, the Jacobian's point (theta_s, or a
random network for the control), the offsets the control carries across its refreshes and
the window index; members that diverged are dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from sgdclaims.linearise.family import Family
from sgdclaims.linearise.maps import (
    Params,
    cross_entropy_and_grad,
    ggn_sharpness,
    put,
    scaled_step,
    stack,
    sub,
    take,
)


class ParamSpace:
    """A group of runs held as parameters (see the module docstring)."""

    def __init__(
        self,
        family: Family,
        init: Sequence[Params],
        lrs: Sequence[float],
        random_points: Sequence[Callable[[int], Params] | None],
        train: tuple[Any, torch.Tensor],
        tests: Sequence[tuple[Any, torch.Tensor]],
    ):
        self.family, (self.inputs, self.y), self.tests = family, train, list(tests)
        self.anchor = self.point = self.theta = stack(list(init))
        dtype = next(iter(self.theta.values())).dtype
        self.lr = torch.tensor(list(lrs), dtype=dtype, device=self.y.device)
        self.random_points = list(random_points)
        self.ids = list(range(len(init)))
        self.window = [-1] * len(init)
        self.carried = torch.zeros(len(init), dtype=torch.bool, device=self.y.device)
        self.train_offset: torch.Tensor | None = None
        self.test_offset: list[torch.Tensor] | None = None
        self.saved: Any = None
        self.fresh = False

    # ---- the representation (ParamSpace: theta itself)
    def params(self) -> Params:
        """Every member's current parameters theta."""
        return self.theta

    def logits(self) -> torch.Tensor:
        """Every member's linearised training logits at its current parameters."""
        if self.fresh:
            return self.base
        return self.base + self.family.tangent(self.saved, sub(self.theta, self.anchor))

    def step(self) -> torch.Tensor:
        """One gradient step of every member on its linearised loss; its losses before it."""
        loss, u = cross_entropy_and_grad(self.logits(), self.y)
        self.theta = scaled_step(self.theta, self.lr, self.family.pullback(self.saved, u))
        self.fresh = False
        return loss

    def _linearised(self, rows: list[int]) -> None:
        """After the points of `rows` moved: rebuild what the steps use."""
        self.fresh = len(rows) == len(self.ids)

    def _keep(self, keep: list[int]) -> None:
        self.theta = take(self.theta, keep)

    # ---- shared by both representations
    @property
    def base(self) -> torch.Tensor:
        """The logits at delta = 0: f(x; point), or the offset a control member carries."""
        if self.train_offset is None:
            return self.saved.logits
        return torch.where(self.carried[:, None, None], self.train_offset, self.saved.logits)

    def refresh(self, rows: list[int]) -> None:
        """Start a new window for the members `rows` (positions among the active ones):
        theta_s <- theta; the Jacobian's point is theta, or for a control member after its
        first window a new random network, the function learned so far kept as its offset."""
        theta = self.params()
        controls = [i for i in rows if self.random_points[self.ids[i]] and self.window[i] >= 0]
        if controls:
            self._carry(controls)
        points = []
        for i in rows:
            self.window[i] += 1
            draw = self.random_points[self.ids[i]]
            own = draw is None or self.window[i] == 0
            drawn = {} if own else draw(self.window[i])  # type: ignore[misc]
            points.append({k: v[i] if own else drawn[k].to(v) for k, v in theta.items()})
        self.anchor = put(self.anchor, rows, take(theta, rows))
        self.point = put(self.point, rows, stack(points))
        self.saved = self.family.primal(self.point, self.inputs)
        self._linearised(rows)

    def _carry(self, rows: list[int]) -> None:
        """Before a control's refresh: its current linearised logits (training and test) become
        the offsets of its next window."""
        z = self.logits()
        if self.train_offset is None:
            self.train_offset = torch.zeros_like(z)
        self.train_offset[rows] = z[rows]
        tests = self.test_logits(rows)
        if self.test_offset is None:
            self.test_offset = [
                z.new_zeros(len(self.ids), len(y), z.shape[-1]) for _, y in self.tests
            ]
        for offset, part in zip(self.test_offset, tests):
            offset[rows] = part
        self.carried[rows] = True

    def test_logits(self, rows: list[int]) -> list[torch.Tensor]:
        """The linearised test logits of the members `rows` at their current parameters, per
        test chunk (the model the last step produced)."""
        delta = take(sub(self.params(), self.anchor), rows)
        point, out = take(self.point, rows), []
        for c, (inputs, _) in enumerate(self.tests):
            at = self.family.primal(point, inputs)
            base = at.logits
            if self.test_offset is not None:
                carried = self.carried[rows][:, None, None]
                base = torch.where(carried, self.test_offset[c][rows], base)
            out.append(base + self.family.tangent(at, delta))
        return out

    def network_logits(self, rows: list[int]) -> list[torch.Tensor]:
        """The network's own test logits f(x; theta) of the members `rows`, per chunk."""
        theta = take(self.params(), rows)
        return [self.family.primal(theta, inputs).logits for inputs, _ in self.tests]

    def sharpness(self, rows: list[int], iters: int) -> torch.Tensor:
        """The top eigenvalue of the linearised training loss's Hessian of members `rows`."""
        at = self.family.primal(take(self.point, rows), self.inputs)
        return ggn_sharpness(self.family, at, self.logits()[rows], iters)

    def keep(self, keep: list[int]) -> None:
        """Drop every active member not in `keep` (positions among the active ones)."""
        self._keep(keep)
        self.ids = [self.ids[i] for i in keep]
        self.window = [self.window[i] for i in keep]
        self.lr, self.carried = self.lr[keep], self.carried[keep]
        self.anchor, self.point = take(self.anchor, keep), take(self.point, keep)
        if self.train_offset is not None:
            self.train_offset = self.train_offset[keep]
        if self.test_offset is not None:
            self.test_offset = [t[keep] for t in self.test_offset]
        if self.ids:
            self.saved = self.family.primal(self.point, self.inputs)
            self._rebuilt()

    def _rebuilt(self) -> None:
        """After keep(): nothing more in parameter space."""


class FunctionSpace(ParamSpace):
    """A group of runs held as function-space iterates within each window (see the module
    docstring); needs a family with `kernel`."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.kernel: torch.Tensor | None = None
        self.z: torch.Tensor | None = None
        self.alpha: torch.Tensor | None = None

    def params(self) -> Params:
        """theta_s + J^T a, a the accumulated -lr u of the window."""
        if self.alpha is None:
            return self.anchor
        moved = self.family.pullback(self.saved, self.alpha)
        return {k: v + moved[k] for k, v in self.anchor.items()}

    def logits(self) -> torch.Tensor:
        """The iterates z themselves."""
        return self.z

    def step(self) -> torch.Tensor:
        """z <- z - lr K u and a <- a - lr u for every member; the losses before it."""
        loss, u = cross_entropy_and_grad(self.z, self.y)
        move = -self.lr.view(-1, 1, 1) * u
        self.alpha = self.alpha + move
        self.z = self.z + torch.bmm(self.kernel, move.reshape(len(u), -1, 1)).view_as(u)
        return loss

    def _linearised(self, rows: list[int]) -> None:
        """The new windows start at a = 0 and z = the base logits; every kernel is rebuilt."""
        base = self.base
        if self.z is None:
            self.z, self.alpha = base.clone(), torch.zeros_like(base)
        self.z[rows], self.alpha[rows] = base[rows], 0.0
        self._rebuilt()

    def _keep(self, keep: list[int]) -> None:
        self.z, self.alpha = self.z[keep], self.alpha[keep]

    def _rebuilt(self) -> None:
        self.kernel = self.family.kernel(self.saved).detach()
