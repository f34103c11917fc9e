"""One SGD training loop and one checkpoint recorder: argmax predictions on the whole test
set, test accuracy and the mean training loss at checkpoint steps.

Data sets are whole tensors on the device; mini-batches are index slices of a seeded
permutation per epoch, so the data order is a function of `data_seed` alone and two
models trained with the same `data_seed` see the same batches in the same order.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from sgdclaims.curves import tail_steps
from sgdclaims.data.dataset import Dataset


def checkpoint_steps(
    total: int, *, dense_until: int, n_dense: int = 40, every: int = 100, dense_every: int = 0
) -> np.ndarray:
    """Dense early, then linear: step 0, ~n_dense log-spaced steps in [1, dense_until] and,
    with dense_every, every dense_every steps up to dense_until; then every `every` steps,
    and 3 steps in the last 5% of the run ending at `total` (the final value of a curve is
    their mean, CLAIMS.md)."""
    if total < 1 or dense_until < 1 or every < 1 or n_dense < 0 or dense_every < 0:
        raise ValueError(
            f"total, dense_until and every must be >= 1 and n_dense, dense_every >= 0, got "
            f"{total}, {dense_until}, {every}, {n_dense}, {dense_every}"
        )
    end = min(dense_until, total)
    parts = [np.array([0]), np.arange(0, total + 1, every, dtype=np.int64), tail_steps(total)]
    if n_dense:
        parts.append(np.round(np.geomspace(1, end, n_dense)).astype(np.int64))
    if dense_every:
        parts.append(np.arange(0, end + 1, dense_every, dtype=np.int64))
    return np.unique(np.concatenate(parts)).astype(np.int64)


def epoch_steps(epochs: float, n_train: int, batch_size: int) -> int:
    """SGD steps for `epochs` passes over n_train examples (last partial batch dropped)."""
    per_epoch = n_train // batch_size
    if per_epoch < 1:
        raise ValueError(f"batch_size {batch_size} exceeds the {n_train} training examples")
    return max(1, round(epochs * per_epoch))


@dataclasses.dataclass
class Trajectory:
    """What a run recorded: at each checkpoint step, the test predictions (T, n_test), test
    accuracy, the number of distinct predicted classes and the mean training loss of the
    steps since the previous checkpoint; and the divergence rule that stopped the run ('' if
    none) with the step at which it fired (-1 if none)."""

    steps: np.ndarray
    test_preds: torch.Tensor
    test_acc: np.ndarray
    train_loss: np.ndarray
    n_predicted: np.ndarray
    diverged: str = ""
    diverged_at: int = -1


#: the divergence rule (shared/CLAIMS.md, Common ground): a training loss above this many
#: times its initial value, or NaN / inf, at any step stops the run
DIVERGENCE_FACTOR = 100.0
#: the rules, by the code Divergence keeps on the device
RULES = {1: "loss not finite", 2: f"loss above {DIVERGENCE_FACTOR:g}x its initial value"}


class Divergence:
    """The one divergence rule, checked at every step without a host sync: the first step
    whose training loss is NaN / inf or above 100x the first step's loss, and which rule
    fired. Training loops read `fired` at their checkpoints (where they sync anyway) and
    stop there."""

    def __init__(self, device: torch.device | str) -> None:
        self.initial: torch.Tensor | None = None
        self.first = torch.full((), -1, dtype=torch.long, device=device)
        self.code = torch.zeros((), dtype=torch.long, device=device)

    def update(self, step: int, loss: torch.Tensor) -> None:
        """Check one step's (scalar) training loss."""
        loss = loss.detach()
        if self.initial is None:
            self.initial = loss.clone()
        finite = torch.isfinite(loss)
        code = torch.where(
            ~finite, 1, torch.where(loss > DIVERGENCE_FACTOR * self.initial, 2, 0)
        ).to(torch.long)
        new = (self.first < 0) & (code > 0)
        self.first = torch.where(new, step, self.first)
        self.code = torch.where(new, code, self.code)

    @property
    def fired(self) -> bool:
        """True once a rule fired (a host sync)."""
        return bool(self.first.item() >= 0)

    @property
    def rule(self) -> str:
        """The rule that fired, '' if none."""
        return RULES.get(int(self.code.item()), "")

    @property
    def step(self) -> int:
        """The step at which it fired, -1 if none."""
        return int(self.first.item())


def batch_order(n: int, batch_size: int, steps: int, data_seed: int) -> torch.Tensor:
    """(steps, batch_size) example indices: seeded permutations per epoch, last partial
    batch of an epoch dropped, so every step has the same batch size."""
    if batch_size > n:
        raise ValueError(f"batch_size {batch_size} exceeds the {n} training examples")
    per_epoch = n // batch_size
    epochs = -(-steps // per_epoch)
    gen = torch.Generator().manual_seed(data_seed)
    perms = torch.stack([torch.randperm(n, generator=gen) for _ in range(epochs)])
    return perms[:, : per_epoch * batch_size].reshape(-1, batch_size)[:steps]


PREDICT_BATCH = 256  # cache-sized chunks: measured ~1.4x faster on CPU than 4096 at once


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, batch: int = PREDICT_BATCH) -> torch.Tensor:
    """Argmax class predictions of `model` on `x`, in eval mode, batched."""
    was_training = model.training
    model.eval()
    out = torch.cat([model(x[i : i + batch]).argmax(1) for i in range(0, len(x), batch)])
    model.train(was_training)
    return out


class CheckpointRecorder:
    """Records at checkpoint steps: argmax test predictions, test accuracy and the mean
    training loss of the steps since the previous checkpoint (the one recorder every
    training loop uses). `predict_fn(x)` gives predictions; `on_checkpoint(step)` runs after."""

    def __init__(
        self,
        checkpoints: Sequence[int] | np.ndarray,
        x_test: torch.Tensor,
        y_test: torch.Tensor,
        predict_fn: Callable[[torch.Tensor], torch.Tensor],
        on_checkpoint: Callable[[int], None] | None = None,
    ) -> None:
        self.marks = np.unique(np.asarray(checkpoints, dtype=np.int64))
        if len(self.marks) == 0 or self.marks[0] < 0:
            raise ValueError(f"checkpoints must be non-negative steps, got {self.marks[:3]}")
        self.marks_set = set(self.marks.tolist())
        self.x_test, self.y_test = x_test, y_test
        self.predict_fn, self.on_checkpoint = predict_fn, on_checkpoint
        self.preds: list[torch.Tensor] = []
        self.accs: list[float] = []
        self.losses: list[float] = []
        self.classes: list[int] = []
        self._running = torch.zeros((), device=y_test.device)
        self._count = 0

    def add_loss(self, loss: torch.Tensor) -> None:
        """Accumulate one step's training loss (no host sync)."""
        self._running = self._running + loss.detach()
        self._count += 1

    def at(self, step: int) -> None:
        """Record if `step` is a checkpoint."""
        if step not in self.marks_set:
            return
        p = self.predict_fn(self.x_test)
        self.preds.append(p.cpu())
        self.accs.append((p == self.y_test).float().mean().item())
        self.classes.append(int(torch.unique(p).numel()))
        self.losses.append((self._running / self._count).item() if self._count else float("nan"))
        self._running, self._count = torch.zeros((), device=self.y_test.device), 0
        if self.on_checkpoint is not None:
            self.on_checkpoint(step)

    def stop(self, step: int) -> None:
        """The run stopped after `step` (a divergence rule fired): every later checkpoint
        records the stopped model's predictions and a NaN training loss."""
        for mark in self.marks[self.marks > step]:
            self._running, self._count = torch.full((), float("nan")), 1
            self.at(int(mark))

    def trajectory(self, divergence: Divergence | None = None) -> Trajectory:
        """What was recorded (every checkpoint must have been reached)."""
        if len(self.preds) != len(self.marks):
            raise RuntimeError(f"recorded {len(self.preds)} of {len(self.marks)} checkpoints")
        fired = divergence is not None and divergence.fired
        return Trajectory(
            self.marks,
            torch.stack(self.preds),
            np.asarray(self.accs),
            np.asarray(self.losses),
            np.asarray(self.classes),
            divergence.rule if fired else "",
            divergence.step if fired else -1,
        )


def _check_args(steps: int, lr: float, batch_size: int, momentum: float) -> None:
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if not 0 <= momentum < 1:
        raise ValueError(f"momentum must be in [0, 1), got {momentum}")


def train_sgd(
    model: nn.Module,
    data: Dataset,
    *,
    steps: int,
    lr: float,
    checkpoints: Sequence[int] | np.ndarray,
    data_seed: int,
    batch_size: int = 64,
    momentum: float = 0.0,
    device: torch.device | str = "cpu",
    progress: bool = False,
    desc: str = "train",
    on_checkpoint: Callable[[int, nn.Module], None] | None = None,
    until: Callable[[int, torch.Tensor], bool] | None = None,
) -> Trajectory:
    """Train `model` in place with SGD (cross-entropy) for `steps` mini-batch steps and record
    test predictions at each step in `checkpoints` (0 = before training).

    on_checkpoint(step, model) is called at each checkpoint (e.g. to record activations).
    until(step, test_predictions), asked at each checkpoint, ends the run there when true
    (the trajectory then ends at that checkpoint): for runs that only need an early phase.
    """
    _check_args(steps, lr, batch_size, momentum)
    marks = np.unique(np.asarray(checkpoints, dtype=np.int64))
    if len(marks) == 0 or marks[0] < 0 or marks[-1] > steps:
        raise ValueError(f"checkpoints must lie in [0, {steps}], got {marks[:3]}...{marks[-3:]}")
    data = data.to(device)
    model.to(device).train()
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    order = batch_order(len(data.x_train), batch_size, steps, data_seed).to(device)
    hook = None if on_checkpoint is None else (lambda step: on_checkpoint(step, model))
    recorder = CheckpointRecorder(
        marks, data.x_test, data.y_test, lambda x: predict(model, x), on_checkpoint=hook
    )
    divergence = Divergence(device)
    recorder.at(0)
    for step in tqdm(range(1, steps + 1), desc=desc, disable=not progress, leave=False):
        idx = order[step - 1]
        loss = nn.functional.cross_entropy(model(data.x_train[idx]), data.y_train[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        recorder.add_loss(loss)
        divergence.update(step, loss)
        recorder.at(step)
        if step in recorder.marks_set and divergence.fired:
            recorder.stop(step)
            break
        if step in recorder.marks_set and until is not None and until(step, recorder.preds[-1]):
            recorder.marks = recorder.marks[recorder.marks <= step]
            break
    return recorder.trajectory(divergence)


#: function evaluations allowed per L-BFGS iteration (line search included)
LBFGS_EVALUATIONS = 25


def fit_logistic(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    weight_decay: float,
    max_iter: int,
) -> dict[str, float]:
    """Logistic regression to convergence: mean cross-entropy + weight_decay/2 |W|^2 by
    full-batch L-BFGS from zero (deterministic), on a model whose weight matrix is
    `model.fc.weight`; returns the final loss, the iterations and the training accuracy."""
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
    opt = torch.optim.LBFGS(
        model.parameters(),
        lr=1.0,
        max_iter=max_iter,
        # evaluations never end the fit first: it stops at the tolerances or at max_iter, so
        # an iteration count below the limit means converged (the harness check)
        max_eval=LBFGS_EVALUATIONS * max_iter,
        history_size=20,
        tolerance_grad=1e-6,
        tolerance_change=1e-10,
        line_search_fn="strong_wolfe",
    )

    def penalised() -> torch.Tensor:
        loss = nn.functional.cross_entropy(model(x), y)
        return loss + 0.5 * weight_decay * model.fc.weight.pow(2).sum()

    def objective() -> torch.Tensor:
        opt.zero_grad(set_to_none=True)
        loss = penalised()
        loss.backward()
        return loss

    opt.step(objective)
    with torch.no_grad():
        final = penalised().item()
    iters = opt.state[opt._params[0]].get("n_iter", 0)
    train_acc = (predict(model, x) == y).float().mean().item()
    return {"l_loss": final, "l_iterations": float(iters), "l_train_acc": train_acc}
