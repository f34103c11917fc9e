"""The members of a grouped model (sgdclaims.models.basenet) side by side (Pinson et al.,
Sec. 2-3, App. A): one SGD with momentum and ONE learning rate for every member, decayed when
the lead member's validation loss plateaus (CLAIMS.md: every member trains at the same lr at
every step); eval-mode logits and losses per member; and each layer's mean preactivation in
train mode (the BN output with the batch statistics of fixed samples, running statistics
untouched, so it does not lag the weights)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

EVAL_BATCH = 256  # measured fastest on one CPU core (500: 15% slower)
#: ReduceLROnPlateau's relative improvement threshold
PLATEAU_THRESHOLD = 1e-4


class MemberSGD:
    """SGD with momentum (torch's form: v <- mu v + g; p <- p - lr v) for E members whose
    parameters are laid out member-major, with one learning rate for all of them, decayed by
    `factor` when the observed (lead member's) validation loss has not improved by a relative
    1e-4 for more than `patience` observations (torch's ReduceLROnPlateau rule; None = never).
    A frozen member (its divergence rule fired) is no longer updated."""

    def __init__(
        self,
        params: Sequence[nn.Parameter],
        members: int,
        lr: float,
        momentum: float,
        patience: int | None,
        factor: float,
    ) -> None:
        self.params, self.members, self.momentum = list(params), members, momentum
        self.lr, self.patience, self.factor = float(lr), patience, factor
        self.buffers = [torch.zeros_like(p) for p in self.params]
        self.active = torch.ones(members, device=self.params[0].device)
        self.best, self.bad = float("inf"), 0

    @torch.no_grad()
    def step(self) -> None:
        for p, buf in zip(self.params, self.buffers):
            buf.mul_(self.momentum).add_(p.grad)
            member_major = p.unflatten(0, (self.members, -1))  # a view in any memory format
            active = self.active.view(-1, *[1] * (member_major.ndim - 1))
            member_major.addcmul_(active, buf.unflatten(0, (self.members, -1)), value=-self.lr)
            p.grad = None

    def freeze(self, member: int) -> None:
        """Stop updating one member (its weights stay as they are)."""
        self.active[member] = 0.0

    def observe(self, val_loss: float) -> None:
        """One evaluation's validation loss of the lead member; decay lr on a plateau."""
        if self.patience is None:
            return
        if val_loss < self.best * (1 - PLATEAU_THRESHOLD):
            self.best, self.bad = val_loss, 0
            return
        self.bad += 1
        if self.bad > self.patience:
            self.lr, self.bad = self.lr * self.factor, 0


def member_losses(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(members,) mean cross-entropy of logits (B, members, classes) against labels (B,)."""
    members = logits.shape[1]
    target = y[:, None].expand(-1, members)
    return F.cross_entropy(logits.permute(0, 2, 1), target, reduction="none").mean(0)


@torch.no_grad()
def evaluate_members(model: nn.Module, x: torch.Tensor, batch: int = EVAL_BATCH) -> torch.Tensor:
    """Eval-mode logits (n, members, classes) of `x`, in batches."""
    was_training = model.training
    model.eval()
    try:
        return torch.cat([model(x[i : i + batch]) for i in range(0, len(x), batch)])
    finally:
        model.train(was_training)


def _switches(model: nn.Module) -> list[nn.Module]:
    if not hasattr(model, "switches"):
        raise TypeError(f"{type(model).__name__} has no switches(); use a switchable model")
    return list(model.switches())


@torch.no_grad()
def train_mode_preactivations(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """(members, layers) mean of each layer's preactivation (the input of its activation
    switch) over `x`, channels and positions, in train mode: BatchNorm normalises with the
    batch statistics of `x` (one batch) and its running statistics are restored after."""
    switches = _switches(model)
    members = getattr(model, "members", 1)
    means = torch.zeros(len(switches), members, device=x.device)

    def hook_for(layer: int):
        def hook(module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
            means[layer] = inputs[0].reshape(len(x), members, -1).mean(dim=(0, 2)).float()

        return hook

    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [[b.clone() for b in m.buffers()] for m in norms]
    handles = [s.register_forward_pre_hook(hook_for(i)) for i, s in enumerate(switches)]
    was_training = model.training
    model.train()
    try:
        model(x)
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
        for m, state in zip(norms, saved):
            for buffer, value in zip(m.buffers(), state):
                buffer.copy_(value)
    return means.T
