"""Seeded model construction without touching the global RNG state."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import torch

M = TypeVar("M", bound=torch.nn.Module)


def seeded(factory: Callable[[], M], seed: int) -> M:
    """Build a module with torch's default init drawn from `seed`; the caller's RNG is unchanged."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return factory()
