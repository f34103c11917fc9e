"""depth_wave (Pinson et al., Sec. 2-3, App. A): the main BaseNet and its partly-linear
variants (first k activations identity), trained from identical initial weights on one data
order per seed; test accuracy and per-layer mean preactivations at regular evaluations.

All variants of one seed are members of one grouped model (sgdclaims.models.basenet), so a
seed is one batched SGD run; ResNet50 variants train one after another (full scale only).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.nn import functional as F
from tqdm.auto import tqdm

from sgdclaims.config import (
    Config,
    require_choice,
    require_non_negative,
    require_positive,
    require_seeds,
)
from sgdclaims.data import Dataset, load, multiclass_task, standardize, subsample
from sgdclaims.depth import divergence_step, preactivation_means
from sgdclaims.models.basenet import (
    BaseNet,
    basenet18_layers,
    min_side,
    narrow_layers,
    partly_linear_mask,
)
from sgdclaims.models.resnet import SwitchResNet50, resnet50_subset
from sgdclaims.models.seeding import seeded
from sgdclaims.runner import Result, UnitResult, run_units
from sgdclaims.training import batch_order

ARCHS = ("basenet18", "narrow", "resnet50")
DATASETS = ("imagenet", "cifar10", "fashion_mnist", "mnist")


def k_label(k: int | None) -> str:
    """'all' for the fully linear variant, else str(k)."""
    return "all" if k is None else str(k)


@dataclasses.dataclass(frozen=True)
class DepthWaveConfig(Config):
    """Main model and partly-linear variants; defaults are the paper's ImageNet setting."""

    claim: ClassVar[str] = "depth_wave"
    WHY: ClassVar[dict[str, str]] = {
        "dataset": "Fashion-MNIST is offline here; ImageNet / CIFAR-10 runs need a GPU",
        "classes": "a hard class subset where a linear model stays far below the CNN",
        "image_side": "downsampled images make all runs fit the CPU budget",
        "n_train": "a subset keeps the data in memory and the claim within 6 minutes",
        "n_test": "fewer test images per evaluation (many evaluations x variants x seeds)",
        "arch": "a narrow ~10-layer BaseNet instead of BaseNet18 on a CPU",
        "stem": "3x3 stem for small images (no 7x7/2 + max-pool)",
        "ks": "k in {0,2,4,6,8,all} for the 10-layer model (CLAIMS.md fast scale)",
        "seeds": "3 seeds (CLAIMS.md fast scale)",
        "steps": "a short run that fits the CPU budget",
        "batch_size": "smaller batches: more, smaller steps in the budget",
        "lr": "the paper's lr per example (0.1 / 256) at batch 64, so early steps stay small",
        "eval_every": "evaluations at the same relative density as the full run",
        "plateau_patience": "no decay within the short run (0 = off)",
    }

    dataset: str = "imagenet"
    classes: tuple[int, ...] | None = None
    image_side: int | None = None
    n_train: int | None = None
    n_test: int | None = None
    arch: str = "basenet18"
    stem: str = "imagenet"
    width: int = 8
    convs_per_stage: tuple[int, ...] = (3, 3, 3)
    ks: tuple[int | None, ...] = (0, 3, 5, 7, 9, 11, 13, 15, None)
    resnet50_subsets: tuple[str, ...] = ("first20", "first40", "last20", "positive")
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    steps: int = 40_000
    batch_size: int = 256
    lr: float = 0.1
    momentum: float = 0.9
    plateau_patience: int = 10
    plateau_factor: float = 0.1
    eval_every: int = 500
    n_preact: int = 500

    def validate(self) -> None:
        require_choice("dataset", self.dataset, DATASETS)
        require_choice("arch", self.arch, ARCHS)
        require_choice("stem", self.stem, ("imagenet", "cifar", "small"))
        require_seeds("seeds", self.seeds)
        for name in ("steps", "batch_size", "eval_every", "n_preact", "width"):
            require_positive(name, getattr(self, name))
        require_positive("lr", self.lr)
        require_non_negative("plateau_patience", self.plateau_patience)
        if not 0 <= self.momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {self.momentum}")
        if not 0 < self.plateau_factor <= 1:
            raise ValueError(f"plateau_factor must be in (0, 1], got {self.plateau_factor}")
        if self.eval_every > self.steps or self.steps // self.eval_every < 5:
            raise ValueError(
                f"eval_every {self.eval_every} leaves fewer than 5 evaluations in "
                f"{self.steps} steps (Savitzky-Golay needs a window of 5)"
            )
        if self.arch == "resnet50" and self.ks != (0,):
            raise ValueError(
                f"ks must be (0,) for resnet50 (it uses resnet50_subsets), got {self.ks}"
            )
        need = 32 if self.arch == "resnet50" else min_side(self.layer_specs())
        if self.image_side is not None and self.image_side < need:
            raise ValueError(
                f"image_side {self.image_side} is too small for the {self.arch} stem "
                f"(needs >= {need})"
            )
        if self.arch != "resnet50":
            if len(self.ks) < 2 or 0 not in self.ks or len(set(self.ks)) != len(self.ks):
                raise ValueError(f"ks must be distinct, hold 0 (the main model), got {self.ks}")
            n_layers = len(self.layer_specs())
            too_big = [k for k in self.ks if k is not None and not 0 <= k <= n_layers]
            if too_big:
                raise ValueError(f"ks {too_big} outside 0..{n_layers} (the model's layers)")
        for name in self.resnet50_subsets:
            require_choice("resnet50_subsets", name, ("first20", "first40", "last20", "positive"))

    def layer_specs(self):
        """The BaseNet layer list of this config."""
        if self.arch == "narrow":
            return narrow_layers(self.width, self.convs_per_stage)
        return basenet18_layers(self.stem)

    def smoke(self) -> DepthWaveConfig:
        """The same architecture on the smallest images its stem takes, 3 variants (main,
        one partly-linear, all linear; ResNet50: first20 and positive), 10 steps."""
        side = 32 if self.arch == "resnet50" else min_side(self.layer_specs())
        ks = self.ks if self.arch == "resnet50" else (0, self.ks[len(self.ks) // 2], None)
        return self.replace(
            n_train=64, n_test=16, image_side=side, steps=10, batch_size=4, eval_every=2,
            n_preact=8, seeds=self.seeds[:2], plateau_patience=1, ks=ks,
            resnet50_subsets=("first20", "positive"),
        )  # fmt: skip


def config(scale: str, dataset: str) -> DepthWaveConfig:
    """The full config (BaseNet18 on CIFAR-10 or ImageNet) or the fast one (narrow BaseNet)."""
    require_choice("scale", scale, ("fast", "full"))
    if scale == "full":
        require_choice("dataset", dataset, ("cifar10", "imagenet"))
        if dataset == "cifar10":
            return DepthWaveConfig(dataset="cifar10", stem="cifar", steps=20_000, eval_every=250)
        return DepthWaveConfig()
    require_choice("dataset", dataset, ("fashion_mnist",))
    fast = DepthWaveConfig(
        dataset="fashion_mnist",
        classes=(0, 2, 4, 6),
        image_side=14,
        n_train=12_000,
        n_test=1_000,
        arch="narrow",
        stem="small",
        width=8,
        ks=(0, 2, 4, 6, 8, None),
        seeds=(0, 1, 2),
        steps=800,
        batch_size=64,
        lr=0.025,
        eval_every=20,
        plateau_patience=0,
    )
    return fast


def resnet50_config(dataset: str) -> DepthWaveConfig:
    """Full scale: ResNet50 with the first 20, first 40, last 20 or the positive-mean
    activations linear (their Sec. 3), on CIFAR-10 or ImageNet."""
    require_choice("dataset", dataset, ("cifar10", "imagenet"))
    base = config("full", dataset)
    return base.replace(arch="resnet50", ks=(0,))


def prepare_data(cfg: DepthWaveConfig, data_root: str | Path | None) -> Dataset:
    """The (sub)task of cfg: classes, subsets, downsampled side, standardised."""
    ds = load(cfg.dataset, data_root)
    ds = multiclass_task(ds, cfg.classes)
    ds = subsample(ds, cfg.n_train, cfg.n_test, seed=0)
    if cfg.image_side is not None and cfg.image_side != ds.x_train.shape[-1]:
        side = cfg.image_side

        def resize(x: torch.Tensor) -> torch.Tensor:
            return F.interpolate(x, size=(side, side), mode="area")

        shape = (ds.x_train.shape[1], side, side)
        info = dataclasses.replace(ds.info, shape=shape, display=f"{ds.info.display} @ {side}px")
        ds = Dataset(resize(ds.x_train), ds.y_train, resize(ds.x_test), ds.y_test, info)
    return standardize(ds)


class MemberSGD:
    """SGD with momentum (torch's form, v <- mu v + g; p <- p - lr v) and a learning rate per
    member, decayed by `factor` when that member's training loss has not improved for
    `patience` evaluations (the paper's decay on plateau; patience 0 = never)."""

    def __init__(
        self, params: Sequence[nn.Parameter], members: int, lr: float, momentum: float,
        patience: int, factor: float,
    ):  # fmt: skip
        self.params, self.members, self.momentum = list(params), members, momentum
        self.lr = torch.full((members,), float(lr))
        self.buffers = [torch.zeros_like(p) for p in self.params]
        self.patience, self.factor = patience, factor
        self.best = torch.full((members,), float("inf"))
        self.stale = torch.zeros(members, dtype=torch.long)

    @torch.no_grad()
    def step(self) -> None:
        for p, buf in zip(self.params, self.buffers):
            buf.mul_(self.momentum).add_(p.grad)
            lr = self.lr.to(p.device).view(self.members, *([1] * p.ndim))
            p.view(self.members, -1, *p.shape[1:]).sub_(
                lr * buf.view(self.members, -1, *p.shape[1:])
            )
            p.grad = None

    def observe(self, member_loss: torch.Tensor) -> None:
        """Count evaluations without a 0.01% improvement of the loss; decay after patience."""
        if self.patience == 0:
            return
        improved = member_loss < self.best * (1 - 1e-4)
        self.best = torch.where(improved, member_loss, self.best)
        self.stale = torch.where(improved, torch.zeros_like(self.stale), self.stale + 1)
        decay = self.stale >= self.patience
        self.lr = torch.where(decay, self.lr * self.factor, self.lr)
        self.stale = torch.where(decay, torch.zeros_like(self.stale), self.stale)


@torch.no_grad()
def member_accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int = 1024):
    """(members,) test accuracy and (members, n) predictions, in eval mode."""
    was_training = model.training
    model.eval()
    preds = torch.cat([model(x[i : i + batch]).argmax(-1) for i in range(0, len(x), batch)])
    model.train(was_training)
    preds = preds.T
    return (preds == y).float().mean(1).cpu().numpy(), preds.cpu()


def train_members(
    model: nn.Module,
    data: Dataset,
    cfg: DepthWaveConfig,
    data_seed: int,
    *,
    device: torch.device | str = "cpu",
    progress: bool = False,
) -> dict[str, Any]:
    """Train every member of `model` on the same batches (SGD momentum, per-member plateau
    decay) and record at every `eval_every` steps: test accuracy, mean training loss, and
    the mean preactivation per layer on `n_preact` fixed test samples."""
    data = data.to(device)
    model.to(device).train()
    members = model.members
    opt = MemberSGD(
        list(model.parameters()), members, cfg.lr, cfg.momentum,
        cfg.plateau_patience, cfg.plateau_factor,
    )  # fmt: skip
    order = batch_order(len(data.x_train), cfg.batch_size, cfg.steps, data_seed).to(device)
    x_pre = data.x_test[: cfg.n_preact]
    steps, accs, losses, preacts, lrs, last_preds = [], [], [], [], [], None
    running = torch.zeros(members, device=device)
    count = 0

    def record(step: int) -> None:
        nonlocal running, count, last_preds
        acc, last_preds = member_accuracy(model, data.x_test, data.y_test)
        loss = (running / count).cpu() if count else torch.full((members,), float("nan"))
        steps.append(step)
        accs.append(acc)
        losses.append(loss.numpy())
        preacts.append(preactivation_means(model, x_pre))
        lrs.append(opt.lr.numpy().copy())
        if count:
            opt.observe(loss)
        running, count = torch.zeros(members, device=device), 0

    record(0)
    for step in tqdm(range(1, cfg.steps + 1), disable=not progress, leave=False, desc="train"):
        idx = order[step - 1]
        logits = model(data.x_train[idx])  # (B, E, K)
        y = data.y_train[idx]
        per_member = F.cross_entropy(
            logits.permute(0, 2, 1), y[:, None].expand(-1, members), reduction="none"
        ).mean(0)
        per_member.sum().backward()
        opt.step()
        running, count = running + per_member.detach(), count + 1
        if step % cfg.eval_every == 0:
            record(step)
    return {
        "steps": np.asarray(steps),
        "acc": np.stack(accs, axis=1),  # (E, T)
        "loss": np.stack(losses, axis=1),
        "lr": np.stack(lrs, axis=1),
        "preact": np.stack(preacts, axis=2),  # (E, L, T)
        "final_preds": last_preds.numpy(),  # (E, n_test)
    }


def _basenet_unit(cfg: DepthWaveConfig, data: Dataset, seed: int, device, progress) -> dict:
    """One seed: all ks as members of one grouped BaseNet from the same initial weights."""
    model = BaseNet(
        cfg.layer_specs(), tuple(data.x_train.shape[1:]), data.num_classes, members=len(cfg.ks)
    )
    model.init_members([seed] * len(cfg.ks))
    model.set_relu(partly_linear_mask(model.num_layers, cfg.ks))
    out = train_members(model, data, cfg, data_seed=seed, device=device, progress=progress)
    out["labels"] = [k_label(k) for k in cfg.ks]
    return out


def _resnet50_unit(cfg: DepthWaveConfig, data: Dataset, seed: int, device, progress) -> dict:
    """One seed of the ResNet50 variants, trained one after another from the same initial
    weights: the main model first (its final means pick the 'positive' subset)."""
    shape = tuple(data.x_train.shape[1:])

    def train(linear: list[int]) -> dict:
        model = seeded(lambda: SwitchResNet50(shape, data.num_classes), seed)
        model.set_linear(linear)
        return train_members(model, data, cfg, data_seed=seed, device=device, progress=progress)

    runs = [train([])]
    final = runs[0]["preact"][0, :, -1]
    runs += [train(resnet50_subset(name, final)) for name in cfg.resnet50_subsets]
    out = {key: np.concatenate([r[key] for r in runs]) for key in ("acc", "loss", "lr", "preact")}
    out["final_preds"] = np.concatenate([r["final_preds"] for r in runs])
    out["steps"] = runs[0]["steps"]
    out["labels"] = ["0", *cfg.resnet50_subsets]
    return out


def run(
    cfg: DepthWaveConfig,
    *,
    data_root: str | Path | None = None,
    device: torch.device | str = "cpu",
    cache_root: Path | None = None,
    progress: bool = True,
) -> Result:
    """Train every variant for every seed (cached per seed) and return tidy frames:
    `curves` (variant, step, acc, loss, lr), `preact` (variant, layer, step, mean)."""
    data = prepare_data(cfg, data_root)

    def compute(seed: int) -> UnitResult:
        if cfg.arch == "resnet50":
            out = _resnet50_unit(cfg, data, seed, device, progress)
        else:
            out = _basenet_unit(cfg, data, seed, device, progress)
        steps, labels = out["steps"], out["labels"]
        curves = pd.DataFrame(
            [
                {"variant": lab, "step": int(s), "acc": float(out["acc"][e, t]),
                 "loss": float(out["loss"][e, t]), "lr": float(out["lr"][e, t])}
                for e, lab in enumerate(labels) for t, s in enumerate(steps)
            ]
        )  # fmt: skip
        n_layers = out["preact"].shape[1]
        preact = pd.DataFrame(
            [
                {"variant": lab, "layer": layer, "step": int(s),
                 "mean": float(out["preact"][e, layer, t])}
                for e, lab in enumerate(labels) for layer in range(n_layers)
                for t, s in enumerate(steps)
            ]
        )  # fmt: skip
        return UnitResult(
            frames={"curves": curves, "preact": preact},
            scalars={f"final_acc_{lab}": float(out["acc"][e, -1]) for e, lab in enumerate(labels)},
            arrays={"final_preds": out["final_preds"], "y_test": data.y_test.cpu().numpy()},
            provenance={
                "dataset": data.info.display,
                "source": data.info.source,
                "n_train": data.info.n_train,
                "n_test": data.info.n_test,
                "num_classes": data.num_classes,
                "variants": list(labels),
            },
        )

    return run_units(cfg, list(cfg.seeds), compute, cache_root=cache_root, progress=progress)


def variant_depth(label: str, num_layers: int) -> int:
    """Number of identity layers of a variant label ('all' = every layer)."""
    return num_layers if label == "all" else int(label)


def accuracy_curves(result: Result) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Evaluation steps, variant labels (config order) and accuracy (seeds, variants, T)."""
    curves = result.frame("curves")
    labels = list(result.provenance["variants"])
    table = curves.pivot_table(index=["unit", "variant"], columns="step", values="acc")
    steps = table.columns.to_numpy()
    acc = np.stack(
        [np.stack([table.loc[(u, lab)].to_numpy() for lab in labels]) for u in result.units]
    )
    return steps, labels, acc


def preactivation_curves(result: Result, variant: str) -> tuple[np.ndarray, np.ndarray]:
    """Evaluation steps and mean preactivations (seeds, layers, T) of one variant."""
    pre = result.frame("preact")
    pre = pre[pre["variant"] == variant]
    table = pre.pivot_table(index=["unit", "layer"], columns="step", values="mean")
    layers = sorted(pre["layer"].unique())
    arr = np.stack(
        [np.stack([table.loc[(u, layer)].to_numpy() for layer in layers]) for u in result.units]
    )
    return table.columns.to_numpy(), arr


def divergence_steps(result: Result, acc: np.ndarray | None = None) -> dict[str, float]:
    """d(k) per variant label from the seed-mean accuracy (or from `acc`, (variants, T))."""
    steps, labels, per_seed = accuracy_curves(result)
    mean = per_seed.mean(axis=0) if acc is None else acc
    chance = 1.0 / int(result.provenance["num_classes"])
    return {lab: divergence_step(steps, mean[0], mean[i], chance) for i, lab in enumerate(labels)}
