"""Training the members of a grouped model on the same batches (Pinson et al., Sec. 2-3,
App. A): SGD with momentum at one learning rate for every member (decided by the lead
member's validation loss), the project's divergence rule per member (sgdclaims.training
.Divergence: a member whose rule fired is frozen at the next evaluation), and at every
evaluation each member's test predictions and accuracy (one CheckpointRecorder per member),
its train-mode mean preactivation per layer on fixed test samples, and at the plateau rule's
evaluations the validation loss. Everything in the step loop stays on the model's device; the
host reads numbers only at evaluations."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import torch
from torch import nn

from sgdclaims.depth.images import augment_batch
from sgdclaims.depth.members import (
    MemberSGD,
    evaluate_members,
    member_losses,
    train_mode_preactivations,
)
from sgdclaims.training import CheckpointRecorder, Divergence, batch_order


@dataclasses.dataclass(frozen=True)
class MemberSchedule:
    """How the members train: steps, batch, SGD, the plateau rule (observed at the
    `plateau_checkpoints`, a subset of the evaluation steps `checkpoints`), augmentation, the
    number of fixed test samples the preactivation means are taken over, the member whose
    validation loss decides the learning rate, and whether model and inputs are laid out
    channels-last (measured ~20% faster per step for the narrow fast net on one CPU core,
    ~35% slower for BaseNet18)."""

    steps: int
    batch_size: int
    lr: float
    momentum: float
    plateau_patience: int | None
    plateau_factor: float
    augment: bool
    checkpoints: np.ndarray
    plateau_checkpoints: np.ndarray
    n_preact: int
    lead: int = 0
    channels_last: bool = False


def train_members(
    model: nn.Module,
    train: tuple[torch.Tensor, torch.Tensor],
    val: tuple[torch.Tensor, torch.Tensor],
    test: tuple[torch.Tensor, torch.Tensor],
    schedule: MemberSchedule,
    data_seed: int,
) -> dict[str, Any]:
    """Train every member of `model` (on the data's device) on the same batches; return per
    evaluation: steps (T,), learning rate (T,), test accuracy, mean training loss, number of
    distinct predicted classes and validation loss (NaN off the plateau evaluations)
    (members, T), preactivation means (members, layers, T), argmax test predictions
    (members, T, n_test), and per member the divergence rule that fired ('' if none) and its
    step (-1)."""
    (x, y), (x_val, y_val), (x_test, y_test) = train, val, test
    layout = torch.channels_last if schedule.channels_last else torch.contiguous_format
    model = model.to(memory_format=layout)
    members, device = model.members, x.device
    opt = MemberSGD(
        list(model.parameters()),
        members,
        schedule.lr,
        schedule.momentum,
        schedule.plateau_patience,
        schedule.plateau_factor,
    )
    order = batch_order(len(x), schedule.batch_size, schedule.steps, data_seed).to(device)
    gen = torch.Generator(device=device).manual_seed(data_seed)
    x_test, x_val = x_test.contiguous(memory_format=layout), x_val.contiguous(memory_format=layout)
    x_preact = x_test[: schedule.n_preact]
    current: dict[str, torch.Tensor] = {}
    recorders = [
        CheckpointRecorder(schedule.checkpoints, x_test, y_test, lambda _, e=e: current["p"][:, e])
        for e in range(members)
    ]
    rules = [Divergence(device) for _ in range(members)]
    frozen = [False] * members
    marks, observed = set(recorders[0].marks.tolist()), set(schedule.plateau_checkpoints.tolist())
    extra: dict[str, list[Any]] = {"val_loss": [], "lr": [], "preact": []}
    nan = torch.full((), float("nan"), device=device)

    def record(step: int) -> None:
        current["p"] = evaluate_members(model, x_test).argmax(-1)
        for recorder in recorders:
            recorder.at(step)
        extra["preact"].append(train_mode_preactivations(model, x_preact))
        extra["lr"].append(opt.lr)
        val_loss = torch.full((members,), float("nan"), device=device)
        if step in observed:
            val_loss = member_losses(evaluate_members(model, x_val), y_val)
            if step > 0:
                opt.observe(float(val_loss[schedule.lead]))
        extra["val_loss"].append(val_loss)
        for e, rule in enumerate(rules):
            if not frozen[e] and step > 0 and rule.fired:
                frozen[e] = True
                opt.freeze(e)

    model.train()
    record(0)
    for step in range(1, schedule.steps + 1):
        idx = order[step - 1]
        inputs = augment_batch(x[idx], gen) if schedule.augment else x[idx]
        losses = member_losses(model(inputs.contiguous(memory_format=layout)), y[idx])
        losses.sum().backward()
        opt.step()
        for e, recorder in enumerate(recorders):
            recorder.add_loss(nan if frozen[e] else losses[e])
            rules[e].update(step, losses[e])
        if step in marks:
            record(step)
    runs = [r.trajectory(rule) for r, rule in zip(recorders, rules)]
    return {
        "steps": runs[0].steps,
        "lr": np.asarray(extra["lr"]),
        "acc": np.stack([r.test_acc for r in runs]),
        "train_loss": np.stack([r.train_loss for r in runs]),
        "n_predicted": np.stack([r.n_predicted for r in runs]),
        "val_loss": torch.stack(extra["val_loss"], 1).cpu().numpy(),
        "preact": torch.stack(extra["preact"], 2).cpu().numpy(),
        "preds": torch.stack([r.test_preds for r in runs]).to(torch.int16).numpy(),
        "diverged": [r.diverged for r in runs],
        "diverged_at": np.asarray([r.diverged_at for r in runs]),
    }
