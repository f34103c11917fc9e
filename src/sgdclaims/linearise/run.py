"""Gradient descent on the iteratively linearised network (Goldwaser & Ge, Alg. 1, fixed
period K), recorded at checkpoints by the training module's CheckpointRecorder.

The whole loop stays on the device: the training loss of every step is written into a
device tensor, and the host reads it only at checkpoints (and every `check_every` steps) to
stop a diverged run.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from sgdclaims.data.dataset import Dataset
from sgdclaims.linearise.maps import (
    Linearisation,
    Params,
    TangentProgram,
    check_linearisable,
    check_period,
    cross_entropy_and_grad,
    ggn_sharpness,
    is_refresh,
    linearised_logits,
    model_fn,
    model_params,
    sub,
)
from sgdclaims.training import CheckpointRecorder, batch_order

#: power iterations for the sharpness at a checkpoint (warm-started from the previous one)
SHARPNESS_ITERS = 8


@dataclasses.dataclass
class LinearisedRun:
    """What one run recorded: the train loss before every step (NaN after a divergence), test
    accuracy at the checkpoints (NaN after a divergence), the sharpness of the linearised
    loss at the checkpoints (NaN where not measured), the final parameters and the step it
    diverged at (-1: never)."""

    train_loss: np.ndarray
    steps: np.ndarray
    test_acc: np.ndarray
    sharpness: np.ndarray
    params: Params
    diverged_at: int


class TangentPrograms:
    """Traced tangent programs by input shape, dtype and device, shared by every window of a
    run, and by the runs of one architecture when passed to train_linearised (tracing costs
    as much as tens of steps). Every model it serves must have the first one's architecture:
    parameter names and shapes are checked."""

    def __init__(self) -> None:
        self.by_key: dict[tuple, TangentProgram] = {}
        self.signature: tuple | None = None

    def __call__(self, model: nn.Module, point: Params, x: torch.Tensor) -> TangentProgram:
        signature = (type(model), tuple((k, tuple(v.shape)) for k, v in point.items()))
        if self.signature is None:
            self.signature = signature
        elif signature != self.signature:
            raise ValueError("TangentPrograms serves one architecture; got another model")
        key = (tuple(x.shape), x.dtype, str(x.device))
        if key not in self.by_key:
            self.by_key[key] = TangentProgram(model, point, x)
        return self.by_key[key]


class _Window:
    """One K-window: the anchor theta_s, the Jacobian's point (theta_s, or a random network's
    parameters for the control), the function offsets, the linearisation on the training set
    (full batch) and the test set's primal values (computed on first use, chunk by chunk)."""

    def __init__(self, base, programs, x_train, x_test, anchor, point, offsets, chunk):
        self.anchor, self.point, self.programs, self.base = anchor, point, programs, base
        self.x_test = [x_test[i : i + chunk] for i in range(0, len(x_test), chunk)]
        self.train = None
        if x_train is not None:
            self.train = Linearisation(base, point, x_train, programs(base, point, x_train))
        self.train_offset = self.train.output if self.train is not None else None
        self.test_offset = None
        if offsets is not None:
            self.train_offset, self.test_offset = offsets
        self._test_saved: list[list | None] = [None] * len(self.x_test)

    def train_logits(self, params: Params) -> torch.Tensor:
        """Linearised logits on the whole training set (the window's linearisation)."""
        if all(params[k] is self.anchor[k] for k in params):
            return self.train_offset
        return self.train_offset + self.train.tangent(sub(params, self.anchor))

    @torch.no_grad()
    def test_logits(self, params: Params) -> torch.Tensor:
        """Linearised logits on the test set (offset f(x; point) unless the control's)."""
        delta, parts = sub(params, self.anchor), []
        for i, xs in enumerate(self.x_test):
            program = self.programs(self.base, self.point, xs)
            if self._test_saved[i] is None:
                self._test_saved[i] = program.primal(self.point, xs)
            saved = self._test_saved[i]
            offset = program.output(saved) if self.test_offset is None else self.test_offset[i]
            parts.append(offset + program.tangent(saved, delta))
        return torch.cat(parts)

    def test_offsets_at(self, params: Params) -> list[torch.Tensor]:
        """The window's test logits at params, per chunk (the control's next offset)."""
        sizes = [len(xs) for xs in self.x_test]
        return list(torch.split(self.test_logits(params), sizes))


def _first_bad(losses: torch.Tensor, upto: int, blowup: float) -> int:
    """The first step < upto whose loss is non-finite or above blowup x the first (-1: none);
    one host sync."""
    seen = losses[:upto]
    bad = ~torch.isfinite(seen) | (seen > blowup * seen[0])
    return int(bad.nonzero()[0]) if bool(bad.any()) else -1


def train_linearised(
    model: nn.Module,
    data: Dataset,
    *,
    period: float,
    steps: int,
    lr: float,
    checkpoints: Sequence[int] | np.ndarray,
    batch_size: int | None = None,
    data_seed: int = 0,
    features: str = "own",
    control_factory: Callable[[int], nn.Module] | None = None,
    device: torch.device | str = "cpu",
    eval_chunk: int = 250,
    blowup: float = 100.0,
    check_every: int = 100,
    sharpness: bool = False,
    programs: TangentPrograms | None = None,
) -> LinearisedRun:
    """Gradient descent on the iteratively linearised network (Alg. 1, fixed period K).

    period: K (int >= 1, or math.inf for fixed features); batch_size None = full batch.
    features: "own" (Jacobian at theta_s, the algorithm) or "random" (the control: every
    refresh after the first takes the Jacobian of control_factory(window index), a different
    random network, and keeps the function learned so far as the offset).
    Test accuracy at step t is that of the model the t-th update produced, f_lin(.; theta_t)
    around the linearisation used for that update. The run stops (diverged) at the first
    checkpoint or check_every-th step that finds a training loss non-finite or above
    `blowup` times its initial value. sharpness: also measure the top eigenvalue of the
    linearised loss's Hessian at each checkpoint (full batch only).
    """
    check_period(period)
    check_linearisable(model)
    if steps < 1 or not lr > 0 or check_every < 1:
        raise ValueError(
            f"steps, check_every must be >= 1 and lr > 0, got {steps}, {check_every}, {lr}"
        )
    if features not in ("own", "random"):
        raise ValueError(f"features must be 'own' or 'random', got {features!r}")
    if features == "random" and control_factory is None:
        raise ValueError("features='random' needs control_factory(window) -> a random network")
    marks = np.unique(np.asarray(checkpoints, dtype=np.int64))
    if len(marks) == 0 or marks[0] < 0 or marks[-1] > steps:
        raise ValueError(f"checkpoints must lie in [0, {steps}]")
    data = data.to(device)
    base = copy.deepcopy(model).to(device)
    theta = model_params(base)
    programs = TangentPrograms() if programs is None else programs
    n = len(data.x_train)
    full = batch_size is None or batch_size >= n
    if not full and (features == "random" or sharpness):
        raise ValueError("the random-feature control and the sharpness are full-batch only")
    order = None if full else batch_order(n, batch_size, steps, data_seed).to(device)

    def point_for(window: int, anchor: Params) -> Params:
        if features == "own" or window == 0:
            return anchor
        return {k: v.to(device) for k, v in model_params(control_factory(window)).items()}

    dtype = next(iter(theta.values())).dtype
    losses = torch.full((steps,), math.nan, dtype=dtype, device=device)
    state: dict = {"win": None, "theta": theta, "v": None}
    sharp: dict[int, float] = {}

    def measure(step: int) -> None:
        if sharpness:
            win = state["win"]
            delta = sub(state["theta"], win.anchor)
            value, state["v"] = ggn_sharpness(win.train, delta, SHARPNESS_ITERS, state["v"])
            sharp[step] = float(value)

    recorder = CheckpointRecorder(
        marks,
        data.x_test,
        data.y_test,
        lambda _x: state["win"].test_logits(state["theta"]).argmax(1),
        on_checkpoint=measure,
    )
    window_index, diverged, mark_set = -1, -1, set(marks.tolist())
    for step in range(steps):
        win = state["win"]
        if win is None or is_refresh(step, period):
            window_index += 1
            offsets = None
            if features == "random" and win is not None:
                offsets = (win.train_logits(theta).detach(), win.test_offsets_at(theta))
            anchor = dict(theta)
            point = point_for(window_index, anchor)
            x_train = data.x_train if full else None
            win = _Window(base, programs, x_train, data.x_test, anchor, point, offsets, eval_chunk)
            state["win"], theta = win, anchor
            state["theta"] = theta
            if step == 0:
                recorder.at(0)
        if full:
            loss, u = cross_entropy_and_grad(win.train_logits(theta), data.y_train)
            grad = win.train.pullback(u)
        else:
            xb, yb = data.x_train[order[step]], data.y_train[order[step]]
            params = {k: v.detach().requires_grad_(True) for k, v in theta.items()}
            loss = F.cross_entropy(linearised_logits(model_fn(base, xb), win.point, params), yb)
            grad = dict(zip(params, torch.autograd.grad(loss, list(params.values()))))
            loss = loss.detach()
        losses[step] = loss
        recorder.add_loss(loss)
        with torch.no_grad():
            theta = {k: theta[k] - lr * grad[k] for k in theta}
        state["theta"] = theta
        if step + 1 in mark_set or (step + 1) % check_every == 0:
            diverged = _first_bad(losses, step + 1, blowup)
            if diverged >= 0:
                losses[diverged + 1 :] = math.nan
                break
            recorder.at(step + 1)
    acc = np.full(len(marks), np.nan)
    acc[: len(recorder.accs)] = recorder.accs
    sharp_curve = np.array([sharp.get(int(s), np.nan) for s in marks])
    return LinearisedRun(losses.cpu().numpy(), marks, acc, sharp_curve, theta, diverged)


def train_plain_gd(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, steps: int, lr: float
) -> Params:
    """Reference: plain full-batch gradient descent with autograd on the module itself."""
    net = copy.deepcopy(model)
    for _ in range(steps):
        loss = F.cross_entropy(net(x), y)
        grads = torch.autograd.grad(loss, list(net.parameters()))
        with torch.no_grad():
            for p, g in zip(net.parameters(), grads):
                p.sub_(lr * g)
    return model_params(net)


def rel_err(params: Mapping[str, torch.Tensor], ref: Mapping[str, torch.Tensor]) -> float:
    """||params - ref|| / ||ref|| over all parameters together (NaN if either is)."""
    num = math.sqrt(sum(float((params[k] - ref[k]).double().pow(2).sum()) for k in ref))
    return num / math.sqrt(sum(float(ref[k].double().pow(2).sum()) for k in ref))


def gd_agreement(
    model: nn.Module, data: Dataset, *, lr: float, steps: int, periods: Sequence[float] = (1, 2)
) -> dict[float, float]:
    """{K: ||theta_K - theta_GD|| / ||theta_GD||} after `steps` full-batch steps of the
    linearised run with period K and of plain autograd gradient descent, from `model`, in
    the model's dtype (K = 1 must agree to rounding; K = 2 must not)."""
    ref = train_plain_gd(model, data.x_train, data.y_train, steps=steps, lr=lr)
    out = {}
    for period in periods:
        run = train_linearised(
            model,
            data,
            period=period,
            steps=steps,
            lr=lr,
            checkpoints=[0],
            device=data.x_train.device,
        )
        out[float(period)] = rel_err(run.params, ref)
    return out
