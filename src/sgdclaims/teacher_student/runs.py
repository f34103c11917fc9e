"""Helpers for teacher-student runs (Goldt et al. 2020): seeded generators, and the
checkpoint steps of an SGD run (its final value is the mean over the last 5%, and the value
at half the horizon the mean over the last 5% of the first half).

Random starts are drawn on the CPU from seeded generators, so a seed gives the same start
on every device.
"""

from __future__ import annotations

import numpy as np
import torch

from sgdclaims.curves import final_value, tail_steps


def generator(*key: int, device: str | torch.device = "cpu") -> torch.Generator:
    """A generator on `device` seeded from integers (part id, seed, ...)."""
    seed = int(np.random.SeedSequence(key).generate_state(1)[0])
    return torch.Generator(device=device).manual_seed(seed)


def sgd_steps(alpha: float, n: int, coarse: int = 60, tail: int = 20) -> np.ndarray:
    """Checkpoint steps of an SGD run of alpha * n steps: `coarse` evenly spaced ones, `tail`
    in the last 5% of the run (its final value, shared/CLAIMS.md) and as many in the last 5%
    of its first half (the value at half the horizon)."""
    total = round(alpha * n)
    even = np.linspace(total / coarse, total, coarse).round()
    ends = [tail_steps(total, tail), tail_steps(max(1, total // 2), tail)]
    return np.unique(np.concatenate([even, *ends])).astype(np.int64)


def half_value(steps: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The value of curves (..., T) at half the horizon: the final value of the first half
    of the run (steps up to steps[-1] // 2)."""
    steps = np.asarray(steps)
    first = steps <= steps[-1] // 2
    return final_value(steps[first], np.asarray(values)[..., first])
