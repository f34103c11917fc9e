"""linear_early's experiment (Nakkiran et al. 2019, Sec. 3, Fig. 4).

L is logistic regression on raw inputs, trained to convergence (full-batch L-BFGS) on the
training split first and then fixed. F is the paper's CNN (an MLP on the synthetic Fig. 1
task) trained with plain SGD; its test predictions are recorded at checkpoints, dense in
the early phase. Per checkpoint we store I(F_t;Y), mu_Y(F_t;X) = I(F_t;Y) - I(F_t;Y|X)
(their eq. 1) for X = L, a control C with L's per-class accuracy and random errors, and a
k-NN with L's test accuracy; I(L;Y|F_t), H(Y|F_t); and I(S_t;Y|L) for a linear model S
trained by the same SGD as F. Seeds vary initialisation and data order; each seed is cached alone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from sgdclaims.claims.linear_early.config import MIN_TEST, WINDOW, LinearEarlyConfig
from sgdclaims.controls import control_predictions, matched_knn
from sgdclaims.curves import final_mask
from sgdclaims.data import Dataset, binary_task, load, subsample
from sgdclaims.data.tasks import check_groups, require_usable_splits, stratified_test
from sgdclaims.info import Contingency, performance_correlation
from sgdclaims.models import MLP, LinearClassifier, PaperCNN, seeded
from sgdclaims.runner import Result, RunContext, UnitResult, run_units
from sgdclaims.streams import Streams
from sgdclaims.training import (
    Trajectory,
    checkpoint_steps,
    epoch_steps,
    fit_logistic,
    predict,
    train_sgd,
)

#: random draws other than a seed's own
STREAMS = Streams({"train_sample": 101})


@dataclasses.dataclass
class Fixed:
    """What every seed shares: the task and the fixed classifiers' test predictions."""

    data: Dataset
    fixed: dict[str, torch.Tensor]
    scalars: dict[str, float]
    provenance: dict[str, Any]


def load_task(cfg: LinearEarlyConfig, data_root: Any = None) -> Dataset:
    """The binary task of the config: a class-stratified test subset (of the classes
    before grouping), a training subset; checked to be usable before training."""
    ds = load(cfg.dataset, data_root, require_full=cfg.require_full)
    check_groups(cfg.groups, ds.num_classes)
    ds = binary_task(stratified_test(ds, cfg.n_test, cfg.subset_seed), cfg.groups)
    ds = subsample(ds, cfg.n_train, None, cfg.subset_seed)
    require_usable_splits(ds, min_test=MIN_TEST, num_classes=2)
    epoch_steps(cfg.epochs, len(ds.x_train), cfg.batch_size)
    return ds


def prepare(cfg: LinearEarlyConfig, context: RunContext) -> Fixed:
    """Load the task, fit L to convergence and fix it, draw the control C from its seed, and
    find the k-NN whose test accuracy is closest to L's."""
    data = load_task(cfg, context.data_root).to(context.device)
    model = LinearClassifier(data.info.shape, data.num_classes).to(context.device)
    fit = fit_logistic(
        model, data.x_train, data.y_train, weight_decay=cfg.l_weight_decay, max_iter=cfg.l_max_iter
    )
    y = data.y_test
    l_test = predict(model, data.x_test)
    l_acc = (l_test == y).float().mean().item()
    knn, chosen = matched_knn(
        data.x_train, data.y_train, data.x_test, y, l_acc, seed=cfg.control_seed
    )
    fixed = {"L": l_test, "control": control_predictions(y, l_test, cfg.control_seed), "knn": knn}
    scalars = {
        **fit,
        **chosen,
        "l_acc": l_acc,
        "I_LY": float(Contingency.from_labels(l_test, y).mutual_information()),
        "n_test": float(len(y)),
    }
    provenance = {
        "dataset": data.info.display,
        "source": data.info.source,
        "subset": data.info.subset,
        "synthetic": data.info.synthetic,
        "n_train": len(data.x_train),
        "n_test": len(data.x_test),
        "classes": " vs ".join(data.info.classes),
        "L": f"logistic regression on raw inputs, L-BFGS ({int(fit['l_iterations'])} "
        f"iterations, weight decay {cfg.l_weight_decay:g}), test accuracy {l_acc:.4f}",
        "nonlinear control": f"{int(chosen['knn_k'])}-NN on {int(chosen['knn_references'])} "
        f"training images, test accuracy {chosen['knn_acc']:.4f}",
    }
    return Fixed(data, fixed, scalars, provenance)


def make_model(cfg: LinearEarlyConfig, shape: tuple[int, ...], seed: int) -> nn.Module:
    """F at initialisation from `seed`: the paper's CNN, or an MLP on the disc task."""
    if cfg.model == "cnn":
        return seeded(lambda: PaperCNN(shape, 2), seed)  # type: ignore[arg-type]
    return seeded(lambda: MLP(shape, 2, cfg.mlp_hidden), seed)


def curves(preds: torch.Tensor, y: torch.Tensor, fixed: dict[str, torch.Tensor]):
    """Per checkpoint (rows of preds, (T, n)), in bits: I(F_t;Y); mu_Y(F_t;X) for X = L, the
    control C and the k-NN; I(L;Y|F_t) and H(Y|F_t). Float64 numpy arrays."""
    with_l = Contingency.from_labels(preds, y, fixed["L"])
    return {
        "I_FY": np.asarray(with_l.mutual_information()),
        "mu_L": np.asarray(with_l.performance_correlation()),
        "mu_control": np.asarray(performance_correlation(preds, y, fixed["control"])),
        "mu_knn": np.asarray(performance_correlation(preds, y, fixed["knn"])),
        "I_LY_given_F": np.asarray(
            Contingency.from_labels(fixed["L"], y, preds).conditional_mutual_information()
        ),
        "H_Y_given_F": np.asarray(with_l.entropy("y", "f")),
    }


def train_sample(data: Dataset, cfg: LinearEarlyConfig) -> torch.Tensor:
    """The seeded training examples on which F's training accuracy is measured."""
    gen = torch.Generator().manual_seed(STREAMS.seed("train_sample", cfg.subset_seed))
    order = torch.randperm(len(data.x_train), generator=gen)[: cfg.train_sample]
    return order.to(data.x_train.device)


def train_seed(cfg: LinearEarlyConfig, shared: Fixed, seed: int, device: str) -> UnitResult:
    """Train F for one seed (init and data order), and beside it a linear model S with the
    same SGD (init seed, data order, lr, steps); measure both against the fixed classifiers.
    F's training accuracy is measured at the checkpoints of the last 5% of the run."""
    data = shared.data
    steps = epoch_steps(cfg.epochs, len(data.x_train), cfg.batch_size)
    marks = cfg.checkpoints(steps)
    final = set(marks[final_mask(marks)].tolist())
    sample = train_sample(data, cfg)
    train_acc: dict[int, float] = {}

    def measure_train(step: int, model: nn.Module) -> None:
        if step in final:
            hits = predict(model, data.x_train[sample]) == data.y_train[sample]
            train_acc[step] = hits.float().mean().item()

    run = {
        "steps": steps,
        "lr": cfg.lr,
        "checkpoints": marks,
        "data_seed": seed,
        "batch_size": cfg.batch_size,
        "device": device,
    }
    traj = train_sgd(
        make_model(cfg, data.info.shape, seed), data, on_checkpoint=measure_train, **run
    )
    linear = seeded(lambda: LinearClassifier(data.info.shape, 2), seed)
    s_traj = train_sgd(linear, data, **run)
    cpu = {k: v.cpu() for k, v in shared.fixed.items()}
    y = data.y_test.cpu()
    s_given_l = Contingency.from_labels(s_traj.test_preds, y, cpu["L"])
    frame = pd.DataFrame(
        {
            "step": traj.steps,
            "epoch": traj.steps / (len(data.x_train) // cfg.batch_size),
            "test_acc": traj.test_acc,
            "train_loss": traj.train_loss,
            "n_predicted": traj.n_predicted,
            "train_acc": [train_acc.get(int(t), np.nan) for t in traj.steps],
            **curves(traj.test_preds, y, cpu),
            "I_SY_given_L": np.asarray(s_given_l.conditional_mutual_information()),
            "s_test_acc": s_traj.test_acc,
            "s_n_predicted": s_traj.n_predicted,
        }
    )
    scalars = {
        **shared.scalars,
        "steps": float(steps),
        "f_diverged_at": float(traj.diverged_at),
        "s_diverged_at": float(s_traj.diverged_at),
    }
    provenance = {**shared.provenance, **diverged_note(seed, traj, s_traj)}
    return UnitResult(frames={"curves": frame}, scalars=scalars, provenance=provenance)


def diverged_note(seed: int, *trajectories: Trajectory) -> dict[str, str]:
    """The divergence rules that fired, for the provenance ('' where none did)."""
    fired = [f"{name}: {t.diverged} at step {t.diverged_at}" for name, t in zip("FS", trajectories)]
    fired = [f for f, t in zip(fired, trajectories) if t.diverged]
    return {f"divergence seed {seed}": "; ".join(fired)} if fired else {}


def lr_unit(factor: float, seed: int) -> str:
    """The unit of an lr_sensitivity run: 'lr2x-seed0'."""
    return f"lr{factor:g}x-seed{seed}"


def train_lr_seed(cfg: LinearEarlyConfig, shared: Fixed, factor: float, seed: int, device: str):
    """lr_sensitivity: F at lr x factor for at most steps / factor steps, checkpoints
    early_every / factor apart, stopped at the first checkpoint past the early window
    (I(F_t;Y) > 0.8 I(L;Y)): only the early window matters (CLAIMS.md, linear_early)."""
    data = shared.data
    y, end = data.y_test.cpu(), WINDOW[1] * shared.scalars["I_LY"]

    def past_window(step: int, preds: torch.Tensor) -> bool:
        return float(Contingency.from_labels(preds[None], y).mutual_information()[0]) > end

    steps = max(1, round(epoch_steps(cfg.epochs, len(data.x_train), cfg.batch_size) / factor))
    every = max(1, round(cfg.early_every / factor))
    marks = checkpoint_steps(steps, dense_until=steps, n_dense=0, every=every)
    traj = train_sgd(
        make_model(cfg, data.info.shape, seed),
        data,
        steps=steps,
        lr=cfg.lr * factor,
        checkpoints=marks,
        data_seed=seed,
        batch_size=cfg.batch_size,
        device=device,
        until=past_window,
    )
    cpu = {k: v.cpu() for k, v in shared.fixed.items()}
    frame = pd.DataFrame(
        {
            "step": traj.steps,
            "factor": factor,
            "seed": seed,
            "test_acc": traj.test_acc,
            "n_predicted": traj.n_predicted,
            **curves(traj.test_preds, data.y_test.cpu(), cpu),
        }
    )
    scalars = {**shared.scalars, "f_diverged_at": float(traj.diverged_at)}
    return UnitResult(frames={"lr_curves": frame}, scalars=scalars, provenance=shared.provenance)


def run(cfg: LinearEarlyConfig, context: RunContext) -> Result:
    """All seeds of a config (and its lr_sensitivity runs), cached per unit; the task and L
    are built once, only when a unit has to be computed."""
    shared: list[Fixed] = []
    lr_units = {lr_unit(f, s): (f, s) for f in cfg.lr_factors for s in cfg.seeds}

    def compute(unit: Hashable) -> UnitResult:
        if not shared:
            shared.append(prepare(cfg, context))
        if unit in lr_units:
            return train_lr_seed(cfg, shared[0], *lr_units[unit], context.device)
        return train_seed(cfg, shared[0], int(unit), context.device)  # type: ignore[arg-type]

    units = [*cfg.seeds, *lr_units]
    return run_units(cfg, units, compute, context, label=f"linear_early {cfg.dataset}")
