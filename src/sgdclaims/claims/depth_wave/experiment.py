"""depth_wave's experiment (Pinson et al., Sec. 2-3, App. A): the main BaseNet and its
partly-linear variants (first k activations identity) from identical initial weights and data
order, as members of one grouped model trained in one batched SGD run per seed
(sgdclaims.depth); test accuracy, validation loss and mean preactivations per layer at regular
evaluations; logistic regression on the same inputs (`headroom`)."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch

from sgdclaims import depth
from sgdclaims.claims.depth_wave.config import DepthWaveConfig
from sgdclaims.data import Dataset, load, multiclass_task, subsample
from sgdclaims.models import BaseNet, LinearClassifier, partly_linear_mask
from sgdclaims.runner import Result, RunContext, UnitResult, run_units
from sgdclaims.training import checkpoint_steps, fit_logistic, predict

Task = tuple[Dataset, torch.Tensor, torch.Tensor]  # training/test data, validation x and y


def load_task(cfg: DepthWaveConfig, data_root: Any = None) -> Task:
    """The (sub)task of cfg: classes, a validation split, subsets, the image side,
    standardised (sgdclaims.depth.image_splits); checked before any training."""
    ds = multiclass_task(load(cfg.dataset, data_root), cfg.classes)
    present = int(torch.unique(ds.y_train).numel())
    if ds.num_classes < 2 or present < 2:
        raise ValueError(
            f"{ds.info.display} has {present} class(es) in its training split; "
            "depth_wave needs at least 2"
        )
    ds, x_val, y_val = depth.image_splits(
        ds, cfg.n_val, cfg.n_test, cfg.image_side, cfg.subset_seed
    )
    return subsample(ds, cfg.n_train, None, cfg.subset_seed), x_val, y_val


def train_seed(cfg: DepthWaveConfig, task: Task, seed: int) -> dict[str, Any]:
    """One seed: every k as a member of one grouped BaseNet from the same initial weights."""
    data, x_val, y_val = task
    model = BaseNet(cfg.layer_specs(), data.info.shape, data.num_classes, members=len(cfg.ks))
    model.init_members([seed] * len(cfg.ks))
    model.set_relu(partly_linear_mask(model.num_layers, cfg.ks))
    # checkpoints every eval_every steps (3 of them in the last 5%: CLAIMS.md's final value)
    marks = checkpoint_steps(cfg.steps, dense_until=1, n_dense=0, every=cfg.eval_every)
    plan = depth.MemberSchedule(
        cfg.steps,
        cfg.batch_size,
        cfg.lr,
        cfg.momentum,
        cfg.plateau_patience,
        cfg.plateau_factor,
        cfg.augment,
        marks,
        cfg.n_preact,
    )
    return depth.train_members(
        model.to(data.x_train.device),
        (data.x_train, data.y_train),
        (x_val, y_val),
        (data.x_test, data.y_test),
        plan,
        seed,
    )


def logistic(cfg: DepthWaveConfig, data: Dataset) -> float:
    """Test accuracy of logistic regression on the same inputs (L-BFGS to convergence)."""
    model = LinearClassifier(data.info.shape, data.num_classes).to(data.x_train.device)
    fit_logistic(model, data.x_train, data.y_train, weight_decay=1e-4, max_iter=cfg.l_max_iter)
    return (predict(model, data.x_test) == data.y_test).float().mean().item()


def member_frames(labels: Sequence[str], out: dict[str, np.ndarray]) -> dict[str, pd.DataFrame]:
    """train_members' output as the claim's tidy frames: `curves` (variant, step, acc,
    train_loss, val_loss, lr) and `preact` (variant, layer, step, mean)."""
    steps, layers = out["steps"], range(out["preact"].shape[1])
    index = pd.MultiIndex.from_product([labels, steps], names=["variant", "step"])
    columns = {c: out[c].ravel() for c in ("acc", "train_loss", "val_loss", "lr")}
    index3 = pd.MultiIndex.from_product([labels, layers, steps], names=["variant", "layer", "step"])
    return {
        "curves": pd.DataFrame(columns, index=index).reset_index(),
        "preact": pd.DataFrame({"mean": out["preact"].ravel()}, index=index3).reset_index(),
    }


def run(cfg: DepthWaveConfig, context: RunContext) -> Result:
    """Every seed (cached per seed); the data (on the context's device) and logistic
    regression are prepared once, only when a seed has to be computed."""
    shared: list[tuple[Task, float]] = []
    labels = ["all" if k is None else str(k) for k in cfg.ks]  # None: all layers linear

    def compute(seed: Hashable) -> UnitResult:
        if not shared:
            data, x_val, y_val = load_task(cfg, context.data_root)
            task = (data.to(context.device), x_val.to(context.device), y_val.to(context.device))
            shared.append((task, logistic(cfg, task[0])))
        (data, x_val, _), acc_l = shared[0]
        out = train_seed(cfg, shared[0][0], int(seed))  # type: ignore[arg-type]
        return UnitResult(
            frames=member_frames(labels, out),
            scalars={"acc_logistic": acc_l},
            arrays={"preds": out["preds"], "y_test": data.y_test.cpu().numpy()},
            provenance={
                "dataset": data.info.display,
                "source": data.info.source,
                "synthetic": data.info.synthetic,
                "n_train": len(data.x_train),
                "n_val": len(x_val),
                "n_test": len(data.x_test),
                "num_classes": data.num_classes,
                "variants": labels,
                "layers": int(out["preact"].shape[1]),
            },
        )

    return run_units(cfg, list(cfg.seeds), compute, context, label=f"depth_wave {cfg.dataset}")
