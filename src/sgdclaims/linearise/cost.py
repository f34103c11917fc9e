"""The cost of a linearised step against a plain gradient-descent step (the report's
step-cost ratios): CPU process time on the CPU, synchronised wall time on a GPU; timings,
so not reproducible exactly."""

from __future__ import annotations

import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from sgdclaims.linearise.maps import (
    Linearisation,
    TangentProgram,
    cross_entropy_and_grad,
    model_params,
    sub,
)


def step_costs(model: nn.Module, x: torch.Tensor, y: torch.Tensor, reps: int = 3) -> dict:
    """Seconds per step (CPU process time; on a GPU synchronised wall time), median of reps:
    a plain autograd GD step, a linearised step between refreshes, and a refresh step
    (re-linearising: vjp and jvp maps rebuilt), all on the same full batch."""
    if reps < 1:
        raise ValueError(f"reps must be >= 1, got {reps}")
    theta = model_params(model)
    moved = {k: v + 1e-3 for k, v in theta.items()}
    params = list(model.parameters())
    program = TangentProgram(model, theta, x)

    def plain() -> None:
        torch.autograd.grad(F.cross_entropy(model(x), y), params)

    def refresh() -> Linearisation:
        lin = Linearisation(model, theta, x, program)
        lin.pullback(cross_entropy_and_grad(lin.output, y)[1])
        lin.tangent(sub(moved, theta))
        return lin

    held = refresh()

    def between() -> None:
        logits = held.output + held.tangent(sub(moved, theta))
        held.pullback(cross_entropy_and_grad(logits, y)[1])

    def clock() -> float:
        if x.is_cuda:
            torch.cuda.synchronize(x.device)
            return time.perf_counter()
        return time.process_time()

    out = {}
    for name, step in (("plain", plain), ("between", between), ("refresh", refresh)):
        step()
        times = []
        for _ in range(reps):
            t0 = clock()
            step()
            times.append(clock() - t0)
        out[name] = float(np.median(times))
    return out
