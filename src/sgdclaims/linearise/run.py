"""Gradient descent on iteratively linearised networks (Goldwaser & Ge, Alg. 1, fixed period
K), a group of runs at once: each member has its own initial parameters, K, learning rate,
checkpoints and (for the control) a source of random networks whose Jacobians replace its
own after the first window. The group is one computation (sgdclaims.linearise.spaces), in
parameter space, or in function space where every K is at least a finite `kernel_from` and
the family gives its tangent kernel.

Every step's full-batch training loss goes through the one divergence rule
(sgdclaims.training.Divergence: NaN/inf, or above 100x the first step's loss, checked every
step on the device); a member whose rule fired stops at the next check (every `check_every`
steps and at its checkpoints): its later losses and accuracies are NaN.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence

import numpy as np
import torch

from sgdclaims.data.dataset import Dataset
from sgdclaims.linearise.family import Family, has_kernel
from sgdclaims.linearise.maps import Params, check_period, is_refresh, member
from sgdclaims.linearise.spaces import FunctionSpace, ParamSpace
from sgdclaims.training import RULES, Divergence


@dataclasses.dataclass(frozen=True)
class Member:
    """One run of a group: initial parameters, period K, learning rate (mean-loss units), the
    steps at which to measure the linearised model's test accuracy, the network's own test
    accuracy and the sharpness, and for the control `random_point(window)`: the parameters of
    the random network whose Jacobian window >= 1 uses."""

    params: Params
    period: float
    lr: float
    checkpoints: tuple[int, ...]
    network_checkpoints: tuple[int, ...] = ()
    sharpness_at: tuple[int, ...] = ()
    random_point: Callable[[int], Params] | None = None


@dataclasses.dataclass
class MemberRun:
    """What one member recorded: the training loss of theta_t for t < steps (NaN after it
    stopped), at its checkpoints the linearised model's test accuracy and distinct predicted
    classes, the network's own test accuracy (NaN where not measured), the sharpness at its
    requested steps, its final parameters and the divergence rule that fired ('' if none)
    with the step (-1 if none)."""

    train_loss: np.ndarray
    steps: np.ndarray
    test_acc: np.ndarray
    n_predicted: np.ndarray
    net_acc: np.ndarray
    sharpness: dict[int, float]
    params: Params
    diverged: str
    diverged_at: int


def _check(members: Sequence[Member], steps: int, check_every: int) -> None:
    if not members:
        raise ValueError("a group needs at least one member")
    if steps < 1 or check_every < 1:
        raise ValueError(f"steps and check_every must be >= 1, got {steps}, {check_every}")
    for m in members:
        check_period(m.period)
        if not m.lr > 0:
            raise ValueError(f"lr must be positive, got {m.lr}")
        marks = (*m.checkpoints, *m.network_checkpoints, *m.sharpness_at)
        if not m.checkpoints or min(marks) < 0 or max(marks) > steps:
            raise ValueError(f"checkpoints must be non-empty and lie in [0, {steps}]")
        if not set(m.network_checkpoints) <= set(m.checkpoints):
            raise ValueError("network_checkpoints must be among the checkpoints")


class _Records:
    """Per member: its checkpoints and what was measured at them."""

    def __init__(self, members: Sequence[Member], steps: int, like: torch.Tensor):
        self.marks = [np.unique(np.asarray(m.checkpoints, dtype=np.int64)) for m in members]
        self.members, n = members, len(members)
        self.acc = [np.full(len(s), np.nan) for s in self.marks]
        self.classes = [np.full(len(s), np.nan) for s in self.marks]
        self.net = [np.full(len(s), np.nan) for s in self.marks]
        self.sharp: list[dict[int, float]] = [{} for _ in members]
        self.losses = torch.full((n, steps), math.nan, dtype=like.dtype, device=like.device)
        self.rule, self.fired = [""] * n, [-1] * n
        self.params: list[Params | None] = [None] * n

    def at(self, space: ParamSpace, step: int, sharpness_iters: int) -> None:
        """Measure what the active members ask for at `step`."""
        ids = space.ids
        rows = [i for i, r in enumerate(ids) if step in self.marks[r]]
        if rows:
            for i, logits in zip(rows, _stitch(space.test_logits(rows))):
                self._accuracy(ids[i], step, logits, space, self.acc)
        own = [i for i, r in enumerate(ids) if step in self.members[r].network_checkpoints]
        if own:
            for i, logits in zip(own, _stitch(space.network_logits(own))):
                self._accuracy(ids[i], step, logits, space, self.net)
        sharp = [i for i, r in enumerate(ids) if step in self.members[r].sharpness_at]
        if sharp:
            for i, value in zip(sharp, space.sharpness(sharp, sharpness_iters).tolist()):
                self.sharp[ids[i]][step] = value

    def _accuracy(self, r: int, step: int, logits: torch.Tensor, space, into: list) -> None:
        pred = logits.argmax(-1)
        y = torch.cat([ys for _, ys in space.tests])
        k = int(np.searchsorted(self.marks[r], step))
        into[r][k] = (pred == y).double().mean().item()
        if into is self.acc:
            self.classes[r][k] = float(torch.unique(pred).numel())


def _stitch(chunks: list[torch.Tensor]) -> torch.Tensor:
    """Per-chunk logits (R, n_chunk, classes) joined along the images."""
    return torch.cat(chunks, dim=1)


def _stop_fired(space: ParamSpace, records: _Records, divergence: Divergence) -> None:
    """Drop the active members whose divergence rule fired; their later losses are NaN."""
    first, code = divergence.first.tolist(), divergence.code.tolist()
    fired = [i for i, r in enumerate(space.ids) if first[r] >= 0]
    if not fired:
        return
    theta = space.params()
    for i in fired:
        r = space.ids[i]
        records.rule[r], records.fired[r] = RULES[code[r]], first[r]
        records.losses[r, first[r] + 1 :] = math.nan
        records.params[r] = member(theta, i)
    space.keep([i for i in range(len(space.ids)) if i not in fired])


def train_group(
    family: Family,
    members: Sequence[Member],
    data: Dataset,
    *,
    steps: int,
    check_every: int = 10,
    kernel_from: float = math.inf,
    eval_chunk: int = 500,
    sharpness_iters: int = 20,
) -> list[MemberRun]:
    """Full-batch gradient descent on the iteratively linearised members (Alg. 1), in one
    computation. The test accuracy at step t is that of the model the t-th step produced
    (f_lin around the linearisation that step used); at step 0 that of the network."""
    _check(members, steps, check_every)
    device = data.x_train.device
    train = (family.prepare(data.x_train), data.y_train)
    tests = [
        (family.prepare(data.x_test[i : i + eval_chunk]), data.y_test[i : i + eval_chunk])
        for i in range(0, len(data.y_test), eval_chunk)
    ]
    periods = [m.period for m in members]
    in_function_space = math.isfinite(kernel_from) and min(periods) >= kernel_from
    kind = FunctionSpace if in_function_space and has_kernel(family) else ParamSpace
    space = kind(
        family,
        [m.params for m in members],
        [m.lr for m in members],
        [m.random_point for m in members],
        train,
        tests,
    )
    like = next(iter(members[0].params.values()))
    records, divergence = _Records(members, steps, like), Divergence(device)
    every = {int(s) for m in members for s in (*m.checkpoints, *m.sharpness_at)}
    for t in range(steps + 1):
        if t > 0 and (t % check_every == 0 or t in every or t == steps):
            _stop_fired(space, records, divergence)
        if not space.ids:
            break
        if t > 0:
            records.at(space, t, sharpness_iters)
        if t == steps:
            break
        rows = [i for i, r in enumerate(space.ids) if is_refresh(t, periods[r])]
        if rows:
            space.refresh(rows)
        if t == 0:
            records.at(space, 0, sharpness_iters)
        loss = space.step()
        full = torch.full((len(members),), math.nan, dtype=loss.dtype, device=device)
        full[space.ids] = loss
        records.losses[space.ids, t] = loss
        divergence.update(t, full)
    if space.ids:
        theta = space.params()
        for i, r in enumerate(space.ids):
            records.params[r] = member(theta, i)
    losses = records.losses.cpu().numpy()
    return [
        MemberRun(
            losses[r],
            records.marks[r],
            records.acc[r],
            records.classes[r],
            records.net[r],
            records.sharp[r],
            records.params[r],  # type: ignore[arg-type]
            records.rule[r],
            records.fired[r],
        )
        for r in range(len(members))
    ]
