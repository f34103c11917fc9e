"""Partly-linear variants trained side by side (Pinson et al., Sec. 2-3, App. A): the members
of a grouped model (sgdclaims.models.basenet) on the same batches, and the curves they leave.

- `train_members`: every member on the same batches (SGD with momentum, a learning rate per
  member decayed 10x when that member's validation loss plateaus), recording at checkpoints
  test predictions and accuracy (one `CheckpointRecorder` per member), the validation loss,
  the learning rate and each layer's mean preactivation on fixed test samples (forward
  pre-hooks on the activation switches, `evaluate_members`);
- `smooth` (Savitzky-Golay), `divergence_step` (the divergence point d(k) of two accuracy
  curves), `first_negative_step` (t_neg(l)), `deep_first_correlation` and
  `shuffled_pass_fraction` (a shuffle control of a rank correlation);
- `image_splits`: a seeded validation split, test subset, image side and standardisation.
Everything in the step loop stays on the model's device; the host reads numbers only at
checkpoints.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable, Sequence

import numpy as np
import torch
from scipy.signal import savgol_filter
from torch import nn
from torch.nn import functional as F

from sgdclaims.data import Dataset, standardize
from sgdclaims.data.tasks import stratified_indices
from sgdclaims.ranking import spearman
from sgdclaims.training import CheckpointRecorder, batch_order

SAVGOL_WINDOW = 5
SAVGOL_ORDER = 2
DIVERGENCE_RATIO = 0.95
#: d(k) is looked for only where the smoothed main accuracy is at least this x chance
ABOVE_CHANCE = 2.0
NEGATIVE_MEAN = -0.05
EVAL_BATCH = 256  # measured fastest on one CPU core (500: 15% slower)


def _switches(model: nn.Module) -> list[nn.Module]:
    if not hasattr(model, "switches"):
        raise TypeError(f"{type(model).__name__} has no switches(); use a switchable model")
    return list(model.switches())


@torch.no_grad()
def evaluate_members(
    model: nn.Module, x: torch.Tensor, *, n_preact: int = 0, batch: int = EVAL_BATCH
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Eval-mode logits (n, members, classes) of `x`, and with n_preact > 0 the (members,
    layers) mean of each layer's preactivation (the BN output feeding its activation) over
    the first n_preact samples of `x`, channels and positions (their Fig. 2), in one pass."""
    switches = _switches(model)
    members = getattr(model, "members", 1)
    sums = torch.zeros(len(switches), members, device=x.device)
    counts = [0] * len(switches)
    limit = [0]

    def hook_for(layer: int):
        def hook(module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
            z = inputs[0][: limit[0]]
            if len(z):
                per_member = z.reshape(len(z), members, -1)
                sums[layer] += per_member.mean(dim=2).sum(dim=0).float()
                counts[layer] += len(z)

        return hook

    handles = [s.register_forward_pre_hook(hook_for(i)) for i, s in enumerate(switches)]
    was_training = model.training
    model.eval()
    try:
        logits = []
        for start in range(0, len(x), batch):
            limit[0] = max(0, min(n_preact - start, batch))
            logits.append(model(x[start : start + batch]))
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    preact = (sums / max(counts[0], 1)).T if n_preact > 0 else None
    return torch.cat(logits), preact


def preactivation_means(model: nn.Module, x: torch.Tensor) -> np.ndarray:
    """(members, layers) mean preactivation of each layer over all samples `x` (eval mode)."""
    _, preact = evaluate_members(model, x, n_preact=len(x))
    assert preact is not None
    return preact.cpu().numpy()


def augment_batch(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random crops (zero padding of 1/8 of the side, then a crop of the original size) and
    random horizontal flips of a batch of images, drawn on the batch's device."""
    b, c, h, w = x.shape
    pad = max(1, h // 8)
    padded = F.pad(x, (pad, pad, pad, pad))
    dev = x.device
    dy = torch.randint(0, 2 * pad + 1, (b,), device=dev, generator=generator)
    dx = torch.randint(0, 2 * pad + 1, (b,), device=dev, generator=generator)
    rows = (torch.arange(h, device=dev)[None, :] + dy[:, None])[:, None, :, None]
    cols = (torch.arange(w, device=dev)[None, :] + dx[:, None])[:, None, None, :]
    batch = torch.arange(b, device=dev)[:, None, None, None]
    chans = torch.arange(c, device=dev)[None, :, None, None]
    out = padded[batch, chans, rows, cols]
    flip = torch.rand(b, device=dev, generator=generator) < 0.5
    return torch.where(flip[:, None, None, None], out.flip(-1), out)


class MemberSGD:
    """SGD with momentum (torch's form: v <- mu v + g; p <- p - lr v) with a learning rate
    per member, each decayed by `factor` when that member's validation loss has not improved
    by a relative 1e-4 for more than `patience` evaluations (torch's ReduceLROnPlateau
    rule; patience None = never). State stays on the parameters' device."""

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
        device = self.params[0].device
        self.lr = torch.full((members,), float(lr), device=device)
        self.buffers = [torch.zeros_like(p) for p in self.params]
        self.patience, self.factor = patience, factor
        self.best = torch.full((members,), float("inf"), device=device)
        self.bad = torch.zeros(members, dtype=torch.long, device=device)

    @torch.no_grad()
    def step(self) -> None:
        lr = self.lr[:, None]
        for p, buf in zip(self.params, self.buffers):
            buf.mul_(self.momentum).add_(p.grad)
            p.view(self.members, -1).sub_(lr * buf.view(self.members, -1))
            p.grad = None

    @torch.no_grad()
    def observe(self, val_loss: torch.Tensor) -> None:
        """One evaluation's (members,) validation loss; decay the members on a plateau."""
        if self.patience is None:
            return
        improved = val_loss < self.best * (1 - 1e-4)
        self.best = torch.where(improved, val_loss, self.best)
        self.bad = torch.where(improved, torch.zeros_like(self.bad), self.bad + 1)
        decay = self.bad > self.patience
        self.lr = torch.where(decay, self.lr * self.factor, self.lr)
        self.bad = torch.where(decay, torch.zeros_like(self.bad), self.bad)


@dataclasses.dataclass(frozen=True)
class MemberSchedule:
    """How the members train: steps, batch, SGD, plateau decay, augmentation, checkpoints,
    and the number of fixed test samples the preactivation means are taken over."""

    steps: int
    batch_size: int
    lr: float
    momentum: float
    plateau_patience: int | None
    plateau_factor: float
    augment: bool
    checkpoints: np.ndarray
    n_preact: int


def member_losses(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(members,) mean cross-entropy of logits (B, members, classes) against labels (B,)."""
    members = logits.shape[1]
    target = y[:, None].expand(-1, members)
    return F.cross_entropy(logits.permute(0, 2, 1), target, reduction="none").mean(0)


def train_members(
    model: nn.Module,
    train: tuple[torch.Tensor, torch.Tensor],
    val: tuple[torch.Tensor, torch.Tensor],
    test: tuple[torch.Tensor, torch.Tensor],
    schedule: MemberSchedule,
    data_seed: int,
) -> dict[str, np.ndarray]:
    """Train every member of `model` (already on the data's device) on the same batches and
    return per checkpoint: steps (T,), test accuracy, mean training loss, validation loss and
    learning rate (members, T), preactivation means (members, layers, T) and the argmax
    test predictions (members, T, n_test)."""
    (x, y), (x_val, y_val), (x_test, y_test) = train, val, test
    device, members = x.device, model.members
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
    current: dict[str, torch.Tensor] = {}
    recorders = [
        CheckpointRecorder(schedule.checkpoints, x_test, y_test, lambda _, e=e: current["p"][:, e])
        for e in range(members)
    ]
    marks = set(recorders[0].marks.tolist())
    extra: dict[str, list[torch.Tensor]] = {"val_loss": [], "lr": [], "preact": []}

    def record(step: int) -> None:
        logits, preact = evaluate_members(model, x_test, n_preact=schedule.n_preact)
        current["p"] = logits.argmax(-1)
        for recorder in recorders:
            recorder.at(step)
        val_logits, _ = evaluate_members(model, x_val)
        val_loss = member_losses(val_logits, y_val)
        extra["val_loss"].append(val_loss)
        extra["lr"].append(opt.lr.clone())
        extra["preact"].append(preact)
        if step > 0:
            opt.observe(val_loss)

    model.train()
    record(0)
    for step in range(1, schedule.steps + 1):
        idx = order[step - 1]
        inputs = augment_batch(x[idx], gen) if schedule.augment else x[idx]
        losses = member_losses(model(inputs), y[idx])
        losses.sum().backward()
        opt.step()
        for e, recorder in enumerate(recorders):
            recorder.add_loss(losses[e])
        if step in marks:
            record(step)
    runs = [r.trajectory() for r in recorders]
    return {
        "steps": runs[0].steps,
        "acc": np.stack([r.test_acc for r in runs]),
        "train_loss": np.stack([r.train_loss for r in runs]),
        "val_loss": torch.stack(extra["val_loss"], 1).cpu().numpy(),
        "lr": torch.stack(extra["lr"], 1).cpu().numpy(),
        "preact": torch.stack(extra["preact"], 2).cpu().numpy(),
        "preds": torch.stack([r.test_preds for r in runs]).to(torch.int16).numpy(),
    }


def smooth(curve: np.ndarray, window: int = SAVGOL_WINDOW, order: int = SAVGOL_ORDER) -> np.ndarray:
    """Savitzky-Golay smoothing along the last axis (window 5, order 2, as the paper)."""
    curve = np.asarray(curve, dtype=float)
    if curve.shape[-1] < window:
        raise ValueError(f"need at least {window} evaluations to smooth, got {curve.shape[-1]}")
    return savgol_filter(curve, window, order, axis=-1)


def divergence_step(
    steps: np.ndarray,
    acc_main: np.ndarray,
    acc_variant: np.ndarray,
    chance: float,
    *,
    ratio: float = DIVERGENCE_RATIO,
) -> float:
    """d(k): the first evaluation step, among those where the smoothed main accuracy is at
    least 2 x chance, at which the smoothed variant accuracy is below ratio x main; inf if
    never (Pinson et al., Fig. 1). The curves are smoothed here; NaN in either gives NaN."""
    steps = np.asarray(steps)
    if not (len(steps) == np.shape(acc_main)[-1] == np.shape(acc_variant)[-1]):
        raise ValueError("steps, acc_main and acc_variant must have the same length")
    if not 0 < chance < 1:
        raise ValueError(f"chance must be in (0, 1), got {chance}")
    if np.isnan(acc_main).any() or np.isnan(acc_variant).any():
        return float("nan")
    main, variant = smooth(acc_main), smooth(acc_variant)
    hit = (main >= ABOVE_CHANCE * chance) & (variant < ratio * main)
    return float(steps[np.argmax(hit)]) if hit.any() else float("inf")


def first_negative_step(
    steps: np.ndarray, preact: np.ndarray, threshold: float = NEGATIVE_MEAN
) -> np.ndarray:
    """t_neg(l) per layer: first evaluation step where the mean preactivation (layers, T) is
    below threshold; inf for a layer that never goes below it."""
    preact = np.atleast_2d(np.asarray(preact, dtype=float))
    if preact.shape[-1] != len(steps):
        raise ValueError(f"preact has {preact.shape[-1]} evaluations, steps has {len(steps)}")
    below = preact < threshold
    first = np.asarray(steps, dtype=float)[np.argmax(below, axis=-1)]
    return np.where(below.any(axis=-1), first, np.inf)


def deep_first_correlation(steps: np.ndarray, preact: np.ndarray) -> tuple[float, np.ndarray]:
    """Spearman rho(l, t_neg(l)) over the layers that do go negative (NaN if fewer than two
    do), and t_neg per layer; preact (layers, T) over evaluations after step 0."""
    t_neg = first_negative_step(steps, preact)
    layers = np.flatnonzero(np.isfinite(t_neg))
    if len(layers) < 2:
        return float("nan"), t_neg
    return spearman(layers, t_neg[layers]), t_neg


#: shuffles of the controls that shuffle labels (all permutations when fewer exist)
SHUFFLES = 1000


def shuffled_pass_fraction(
    values: Sequence[np.ndarray],
    rho: Callable[[int, np.ndarray], float],
    threshold: float,
    seed: int = 0,
) -> tuple[float, int]:
    """The share of shuffles whose seed-mean rho(s, values[s] permuted) is <= threshold: one
    seed's values under every permutation when there are at most SHUFFLES of them, else
    SHUFFLES seeded draws that permute each seed's values independently. NaN never passes."""
    rng = np.random.default_rng(seed)
    if len(values) == 1 and math.factorial(len(values[0])) <= SHUFFLES:
        perms = itertools.permutations(range(len(values[0])))
        draws = [[np.asarray(values[0])[list(p)]] for p in perms]
    else:
        draws = [[rng.permutation(v) for v in values] for _ in range(SHUFFLES)]
    passed = [np.mean([rho(s, v) for s, v in enumerate(d)]) <= threshold for d in draws]
    return float(np.mean(passed)), len(draws)


def image_splits(
    ds: Dataset, n_val: int, n_test: int | None, side: int | None, seed: int
) -> tuple[Dataset, torch.Tensor, torch.Tensor]:
    """A seeded validation split of n_val training images (held out of training), a seeded
    class-stratified test subset, images resized to side x side (area when shrinking) and
    standardised with the remaining training images' statistics: (data, x_val, y_val)."""
    if n_val >= len(ds.x_train):
        raise ValueError(f"n_val {n_val} leaves no training images of {len(ds.x_train)}")
    order = torch.randperm(len(ds.x_train), generator=torch.Generator().manual_seed(seed))
    val, rest = order[:n_val].sort().values, order[n_val:].sort().values
    keep = stratified_indices(ds.y_test, n_test, seed) if n_test else torch.arange(len(ds.y_test))
    x_test, y_test = ds.x_test[keep], ds.y_test[keep]
    x_eval, y_eval = torch.cat([ds.x_train[val], x_test]), torch.cat([ds.y_train[val], y_test])
    ds = dataclasses.replace(
        ds, x_train=ds.x_train[rest], y_train=ds.y_train[rest], x_test=x_eval, y_test=y_eval
    )
    if side is not None and side != ds.x_train.shape[-1]:
        mode = "area" if side < ds.x_train.shape[-1] else "bilinear"
        ds = dataclasses.replace(
            ds,
            x_train=F.interpolate(ds.x_train, size=(side, side), mode=mode),
            x_test=F.interpolate(ds.x_test, size=(side, side), mode=mode),
            info=dataclasses.replace(
                ds.info,
                shape=(ds.info.shape[0], side, side),
                display=f"{ds.info.display} @ {side}px",
            ),
        )
    ds = standardize(ds)
    x_val, y_val = ds.x_test[:n_val], ds.y_test[:n_val]
    ds = dataclasses.replace(ds, x_test=ds.x_test[n_val:], y_test=ds.y_test[n_val:])
    return ds, x_val, y_val
