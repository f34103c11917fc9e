"""A family of networks: R parameter sets of one architecture (stacked along a leading member
dimension) on shared inputs, with the linear maps that iterative linearisation needs around
a point theta_s (Goldwaser & Ge, Alg. 1): the logits f(x; theta_s), J delta (forward mode),
J^T u (reverse mode) and, optionally, the tangent kernel J J^T, never materialising J in the
training loop. `ModuleFamily` serves any nn.Module through torch.func, member by member
(the reference); sgdclaims.models.lenet.LeNetGroup writes the maps of LeNet-5 out."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Protocol

import torch
from torch import nn
from torch.func import jacrev, jvp, vjp

from sgdclaims.linearise.maps import Params, check_linearisable, member, model_fn, stack


class Point(Protocol):
    """A family at one point on one input batch: its logits (R, N, classes) and whatever the
    linear maps around the point need."""

    logits: torch.Tensor


class Family(Protocol):
    """The maps of a family of networks (all stacked over members)."""

    def prepare(self, x: torch.Tensor) -> Any:
        """Inputs as the family takes them (computed once per data set)."""

    def primal(self, params: Params, inputs: Any) -> Point:
        """The logits at `params` and the point the maps around it need."""

    def tangent(self, point: Point, delta: Params) -> torch.Tensor:
        """J delta: the logits' change for a parameter change (R, N, classes)."""

    def pullback(self, point: Point, u: torch.Tensor) -> Params:
        """J^T u: the parameter gradient of <u, logits>."""


def has_kernel(family: Any) -> bool:
    """Whether the family gives the tangent kernel J J^T (function-space training)."""
    return callable(getattr(family, "kernel", None))


@dataclasses.dataclass
class ModulePoint:
    """A module family at a point: the logits and, per member, its parameters and the
    reverse-mode map."""

    logits: torch.Tensor
    members: list[Params]
    pullbacks: list[Callable]
    x: torch.Tensor


class ModuleFamily:
    """Any nn.Module (without BatchNorm or dropout) as a family, through torch.func, one member
    at a time: the reference the written-out families are tested against."""

    def __init__(self, model: nn.Module):
        check_linearisable(model)
        self.model = model

    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        """The images themselves."""
        return x

    def primal(self, params: Params, inputs: torch.Tensor) -> ModulePoint:
        """The logits at each member's parameters and its reverse-mode map (torch.func.vjp)."""
        members = [member(params, i) for i in range(len(next(iter(params.values()))))]
        pairs = [vjp(model_fn(self.model, inputs), p) for p in members]
        logits = torch.stack([out.detach() for out, _ in pairs])
        return ModulePoint(logits, members, [fn for _, fn in pairs], inputs)

    def tangent(self, point: ModulePoint, delta: Params) -> torch.Tensor:
        """J delta, member by member (torch.func.jvp)."""
        fn = model_fn(self.model, point.x)
        return torch.stack(
            [jvp(fn, (p,), ({k: delta[k][i] for k in p},))[1] for i, p in enumerate(point.members)]
        )

    def pullback(self, point: ModulePoint, u: torch.Tensor) -> Params:
        """J^T u, member by member (torch.func.vjp)."""
        return stack([fn(u[i])[0] for i, fn in enumerate(point.pullbacks)])

    def kernel(self, point: ModulePoint) -> torch.Tensor:
        """J J^T from the materialised Jacobian (torch.func.jacrev): small models only."""
        fn = model_fn(self.model, point.x)
        out = []
        for p in point.members:
            jac = jacrev(fn)(p)
            flat = torch.cat([j.reshape(point.logits[0].numel(), -1) for j in jac.values()], 1)
            out.append(flat @ flat.T)
        return torch.stack(out)
