"""Helpers for teacher-student runs (Goldt et al. 2020): seeded generators, the checkpoint
steps of an SGD run (its final value is the mean over the last 5%), and certified ODE
asymptotes from order parameters, one table row per start.

Random starts are drawn on the CPU from seeded generators, so a seed gives the same start
on every device.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch

from sgdclaims.curves import tail_steps
from sgdclaims.teacher_student.asymptote import Asymptote, certified_asymptote
from sgdclaims.teacher_student.ode import ODE
from sgdclaims.teacher_student.state import OrderParameters


def generator(*key: int, device: str | torch.device = "cpu") -> torch.Generator:
    """A generator on `device` seeded from integers (part id, seed, ...)."""
    seed = int(np.random.SeedSequence(key).generate_state(1)[0])
    return torch.Generator(device=device).manual_seed(seed)


def sgd_steps(alpha: float, n: int, coarse: int = 60, tail: int = 20) -> np.ndarray:
    """Checkpoint steps of an SGD run of alpha * n steps: `coarse` evenly spaced ones and
    `tail` in the last 5% of the run (its final value, shared/CLAIMS.md)."""
    total = round(alpha * n)
    even = np.linspace(total / coarse, total, coarse).round()
    return np.unique(np.concatenate([even, tail_steps(total, tail)])).astype(np.int64)


def certify(ode: ODE, state: OrderParameters, **kwargs: Any) -> Asymptote:
    """certified_asymptote from the order parameters `state` (restarts up to alpha_max unless
    restart_alpha_max is given)."""
    kwargs.setdefault("restart_alpha_max", kwargs["alpha_max"])
    return certified_asymptote(ode, ode.packing.pack(state), **kwargs)


def asymptote_frame(res: Asymptote, columns: dict[str, list]) -> pd.DataFrame:
    """One row per start: the given columns (K, start, ...) and everything `res` recorded."""
    rows = [res.element(i) for i in range(len(res.eps_star))]
    frame = pd.DataFrame(rows)
    for j, (name, values) in enumerate(columns.items()):
        frame.insert(j, name, values)
    return frame
