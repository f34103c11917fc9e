"""The cost of a linearised step of a group against a plain gradient-descent step of one
network (the claim's batched-step cost ratio): CPU process time on the CPU, synchronised
wall time on a GPU; timings, so not reproducible exactly."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from sgdclaims.linearise.family import Family, has_kernel
from sgdclaims.linearise.maps import Params, cross_entropy_and_grad, stack, sub


def _clock(x: torch.Tensor) -> float:
    if x.is_cuda:
        torch.cuda.synchronize(x.device)
        return time.perf_counter()
    return time.process_time()


def _median(step: Callable[[], object], x: torch.Tensor, reps: int) -> float:
    step()
    times = []
    for _ in range(reps):
        t0 = _clock(x)
        step()
        times.append(_clock(x) - t0)
    return float(np.median(times))


def step_costs(
    family: Family,
    model: nn.Module,
    members: Sequence[Params],
    x: torch.Tensor,
    y: torch.Tensor,
    reps: int = 3,
) -> dict[str, float]:
    """Seconds per step (median of reps), all on the same full batch: a plain autograd GD
    step of `model` alone; for the group of `members` a step between refreshes (J delta,
    cross-entropy gradient, J^T u) and a refresh step (the point rebuilt, then J^T u); and
    the number of members; for a family with a tangent kernel also building it ('kernel') and
    a function-space step's kernel product ('kernel_step')."""
    if reps < 1 or not members:
        raise ValueError(f"reps must be >= 1 and members non-empty, got {reps}, {len(members)}")
    params = list(model.parameters())
    inputs, theta = family.prepare(x), stack(list(members))
    moved = {k: v + 1e-3 for k, v in theta.items()}
    point = family.primal(theta, inputs)

    def plain() -> None:
        torch.autograd.grad(F.cross_entropy(model(x), y), params)

    def between() -> None:
        logits = point.logits + family.tangent(point, sub(moved, theta))
        family.pullback(point, cross_entropy_and_grad(logits, y)[1])

    def refresh() -> None:
        at = family.primal(moved, inputs)
        family.pullback(at, cross_entropy_and_grad(at.logits, y)[1])

    timed: dict[str, Callable[[], object]] = {
        "plain": plain,
        "between": between,
        "refresh": refresh,
    }
    if has_kernel(family):
        kernel = family.kernel(point)  # type: ignore[attr-defined]
        u = torch.randn(*point.logits.shape, 1, dtype=kernel.dtype, device=kernel.device)
        timed["kernel"] = lambda: family.kernel(point)  # type: ignore[attr-defined]
        timed["kernel_step"] = lambda: torch.bmm(kernel, u.view(len(kernel), -1, 1))
    out = {name: _median(fn, x, reps) for name, fn in timed.items()}
    return {**out, "members": float(len(members))}
