"""depth_wave's experiment (Pinson et al., Sec. 2-3, App. A): per seed, the main BaseNet, its
partly-linear variants (first k activations identity), the specificity control's last-k
variants (from the same initial weights) and two twin runs of the main model (new init seeds),
all on the seed's data order as members of one grouped model trained in one batched SGD run at
one learning rate (sgdclaims.depth); test accuracy, predictions, validation loss and train-mode
mean preactivations per layer at every evaluation; logistic regression on the same inputs
(`headroom`)."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch

from sgdclaims import depth
from sgdclaims.claims.depth_wave.config import TWINS, DepthWaveConfig
from sgdclaims.data import Dataset, load, multiclass_task, subsample
from sgdclaims.models import BaseNet, LinearClassifier, partly_linear_mask
from sgdclaims.runner import Result, RunContext, UnitResult, run_units
from sgdclaims.streams import Streams
from sgdclaims.training import checkpoint_steps, fit_logistic, predict

Task = tuple[Dataset, torch.Tensor, torch.Tensor]  # training/test data, validation x and y
#: the init seeds of the twin runs of the main model, by name
STREAMS = Streams({TWINS[0]: 1_000, TWINS[1]: 2_000})


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


def evaluations(cfg: DepthWaveConfig) -> tuple[np.ndarray, np.ndarray]:
    """The evaluation steps (every early_every steps in the first 10% of the run, then every
    eval_every, and 3 in the last 5%) and the plateau rule's (every eval_every steps)."""
    marks = checkpoint_steps(
        cfg.steps,
        dense_until=cfg.steps // 10,
        n_dense=0,
        every=cfg.eval_every,
        dense_every=cfg.early_every,
    )
    return marks, marks[marks % cfg.eval_every == 0]


def grouped_model(cfg: DepthWaveConfig, data: Dataset, seed: int) -> BaseNet:
    """Every member of one seed: first-k and last-k variants from the seed's initial weights,
    the twins from their own (named streams)."""
    n_variants = len(cfg.ks) + len(cfg.last_ks)
    model = BaseNet(cfg.layer_specs(), data.info.shape, data.num_classes, members=n_variants + 2)
    model.init_members([seed] * n_variants + [STREAMS.seed(t, seed) for t in TWINS])
    layers = model.num_layers
    mask = torch.cat(
        [
            partly_linear_mask(layers, cfg.ks),
            partly_linear_mask(layers, cfg.last_ks, last=True),
            torch.ones(len(TWINS), layers),
        ]
    )
    model.set_relu(mask)
    return model.to(data.x_train.device)


def train_seed(cfg: DepthWaveConfig, task: Task, seed: int) -> dict[str, Any]:
    """One seed: every member on the seed's data order at the main model's lr schedule."""
    data, x_val, y_val = task
    marks, plateau = evaluations(cfg)
    plan = depth.MemberSchedule(
        cfg.steps,
        cfg.batch_size,
        cfg.lr,
        cfg.momentum,
        cfg.plateau_patience,
        cfg.plateau_factor,
        cfg.augment,
        marks,
        plateau,
        cfg.n_preact,
        channels_last=cfg.channels_last,
    )
    return depth.train_members(
        grouped_model(cfg, data, seed),
        (data.x_train, data.y_train),
        (x_val, y_val),
        (data.x_test, data.y_test),
        plan,
        seed,
    )


def logistic(cfg: DepthWaveConfig, data: Dataset) -> dict[str, float]:
    """Test accuracy of logistic regression on the same inputs (L-BFGS to convergence), its
    iteration count and limit."""
    model = LinearClassifier(data.info.shape, data.num_classes).to(data.x_train.device)
    fit = fit_logistic(
        model, data.x_train, data.y_train, weight_decay=1e-4, max_iter=cfg.l_max_iter
    )
    acc = (predict(model, data.x_test) == data.y_test).float().mean().item()
    return {"acc_logistic": acc, "l_iterations": fit["l_iterations"], "l_max_iter": cfg.l_max_iter}


def member_frames(labels: Sequence[str], out: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """train_members' output as the claim's tidy frames: `curves` (variant, step, acc,
    train_loss, val_loss, n_predicted, lr), `preact` (variant, layer, step, mean) and `runs`
    (variant, diverged, diverged_at)."""
    steps, layers = out["steps"], range(out["preact"].shape[1])
    index = pd.MultiIndex.from_product([labels, steps], names=["variant", "step"])
    columns = {c: out[c].ravel() for c in ("acc", "train_loss", "val_loss", "n_predicted")}
    columns["lr"] = np.tile(out["lr"], len(labels))
    index3 = pd.MultiIndex.from_product([labels, layers, steps], names=["variant", "layer", "step"])
    runs = {"variant": list(labels), "diverged": out["diverged"], "diverged_at": out["diverged_at"]}
    return {
        "curves": pd.DataFrame(columns, index=index).reset_index(),
        "preact": pd.DataFrame({"mean": out["preact"].ravel()}, index=index3).reset_index(),
        "runs": pd.DataFrame(runs),
    }


def run(cfg: DepthWaveConfig, context: RunContext) -> Result:
    """Every seed (cached per seed); the data (on the context's device) and logistic
    regression are prepared once, only when a seed has to be computed."""
    shared: list[tuple[Task, dict[str, float]]] = []
    labels = cfg.labels()

    def compute(seed: Hashable) -> UnitResult:
        if not shared:
            data, x_val, y_val = load_task(cfg, context.data_root)
            task = (data.to(context.device), x_val.to(context.device), y_val.to(context.device))
            shared.append((task, logistic(cfg, task[0])))
        (data, x_val, _), fit = shared[0]
        out = train_seed(cfg, shared[0][0], int(seed))  # type: ignore[arg-type]
        return UnitResult(
            frames=member_frames(labels, out),
            scalars=dict(fit),
            arrays={"preds": out["preds"], "y_test": data.y_test.cpu().numpy()},
            provenance={
                "dataset": data.info.display,
                "source": data.info.source,
                "synthetic": data.info.synthetic,
                "n_train": len(data.x_train),
                "n_val": len(x_val),
                "n_test": len(data.x_test),
                "num_classes": data.num_classes,
                "variants": list(labels),
                "first": list(labels[: len(cfg.ks)]),
                "last": [f"last{k}" for k in cfg.last_ks],
                "twins": list(TWINS),
                "layers": int(out["preact"].shape[1]),
                "steps": cfg.steps,
            },
        )

    return run_units(cfg, list(cfg.seeds), compute, context, label=f"depth_wave {cfg.dataset}")
