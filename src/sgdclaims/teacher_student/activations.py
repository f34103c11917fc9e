"""Activations g and their derivatives g' for the teacher-student networks (Goldt et al. Sec. 2)."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from sgdclaims.teacher_student.averages import ACTIVATIONS

_SQRT2 = math.sqrt(2.0)
_ERF_SLOPE = math.sqrt(2.0 / math.pi)


def _erf(x: Tensor) -> Tensor:
    return torch.erf(x / _SQRT2)


def _erf_prime(x: Tensor) -> Tensor:
    return _ERF_SLOPE * torch.exp(-0.5 * x * x)


def _linear_prime(x: Tensor) -> Tensor:
    return torch.ones_like(x)


def _relu_prime(x: Tensor) -> Tensor:
    return (x > 0).to(x.dtype)


_TABLE: dict[str, tuple[Callable[[Tensor], Tensor], Callable[[Tensor], Tensor]]] = {
    "erf": (_erf, _erf_prime),
    "linear": (lambda x: x, _linear_prime),
    "relu": (torch.relu, _relu_prime),
}


def activation_fn(name: str) -> tuple[Callable[[Tensor], Tensor], Callable[[Tensor], Tensor]]:
    """(g, g') for 'erf' (erf(x/sqrt 2)), 'linear' or 'relu'; ValueError naming the activation."""
    if name not in _TABLE:
        raise ValueError(f"activation must be one of {list(ACTIVATIONS)}, got {name!r}")
    return _TABLE[name]
