"""linear_early's experiment (Nakkiran et al. 2019, Sec. 3, Fig. 4).

L is logistic regression on raw inputs, trained to convergence (full-batch L-BFGS) on the
training split first and then fixed. F is the paper's CNN (an MLP on the synthetic Fig. 1
task) trained with plain SGD; its test predictions are recorded at checkpoints, dense in
the early phase. Per checkpoint we store I(F_t;Y), mu_Y(F_t;X) = I(F_t;Y) - I(F_t;Y|X)
(their eq. 1) for X = L, a control C with L's per-class accuracy and random errors, and a
k-NN with L's test accuracy; I(L;Y|F_t), H(Y|F_t); mu_Y(F'_t;L), mu_Y(F'_t;C) for F'_t,
F_t's per-class accuracy with random errors; and I(S_t;Y|L) for a linear model S trained by
the same SGD as F. Seeds vary initialisation and data order; each seed is cached alone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from sgdclaims.claims.linear_early.config import MIN_TEST, LinearEarlyConfig
from sgdclaims.controls import accuracy_matched, control_predictions, matched_knn
from sgdclaims.data import Dataset, binary_task, load, subsample
from sgdclaims.data.tasks import check_groups, require_usable_splits, stratified_test
from sgdclaims.info import Contingency, performance_correlation
from sgdclaims.models import MLP, LinearClassifier, PaperCNN, seeded
from sgdclaims.runner import Result, RunContext, UnitResult, run_units
from sgdclaims.training import epoch_steps, fit_logistic, predict, train_sgd


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


def curves(preds: torch.Tensor, y: torch.Tensor, fixed: dict[str, torch.Tensor], seed: int):
    """Per checkpoint (rows of preds, (T, n)), in bits: I(F_t;Y); mu_Y(F_t;X) for X = L, the
    control C and the k-NN; I(L;Y|F_t), H(Y|F_t); and for F'_t, F_t's per-class accuracy
    with random errors, mu_Y(F'_t;L) and mu_Y(F'_t;C). Float64 numpy arrays."""
    with_l = Contingency.from_labels(preds, y, fixed["L"])
    surrogate = accuracy_matched(y, preds, seed)
    return {
        "I_FY": np.asarray(with_l.mutual_information()),
        "mu_L": np.asarray(with_l.performance_correlation()),
        "mu_control": np.asarray(performance_correlation(preds, y, fixed["control"])),
        "mu_knn": np.asarray(performance_correlation(preds, y, fixed["knn"])),
        "I_LY_given_F": np.asarray(
            Contingency.from_labels(fixed["L"], y, preds).conditional_mutual_information()
        ),
        "H_Y_given_F": np.asarray(with_l.entropy("y", "f")),
        "mu_surrogate_L": np.asarray(performance_correlation(surrogate, y, fixed["L"])),
        "mu_surrogate_control": np.asarray(performance_correlation(surrogate, y, fixed["control"])),
    }


def train_seed(cfg: LinearEarlyConfig, shared: Fixed, seed: int, device: str) -> UnitResult:
    """Train F for one seed (init and data order), and beside it a linear model S with the
    same SGD (init seed, data order, lr, steps); measure both against the fixed classifiers."""
    data = shared.data
    steps = epoch_steps(cfg.epochs, len(data.x_train), cfg.batch_size)
    marks = cfg.checkpoints(steps)
    run = {
        "steps": steps,
        "lr": cfg.lr,
        "checkpoints": marks,
        "data_seed": seed,
        "batch_size": cfg.batch_size,
        "device": device,
    }
    traj = train_sgd(make_model(cfg, data.info.shape, seed), data, **run)
    linear = seeded(lambda: LinearClassifier(data.info.shape, 2), seed)
    sgd_linear = train_sgd(linear, data, **run).test_preds
    cpu = {k: v.cpu() for k, v in shared.fixed.items()}
    y = data.y_test.cpu()
    measured = curves(traj.test_preds, y, cpu, cfg.control_seed + 1000 * (seed + 1))
    s_given_l = Contingency.from_labels(sgd_linear, y, cpu["L"]).conditional_mutual_information()
    frame = pd.DataFrame(
        {
            "step": traj.steps,
            "epoch": traj.steps / (len(data.x_train) // cfg.batch_size),
            "test_acc": traj.test_acc,
            "train_loss": traj.train_loss,
            **measured,
            "I_SY_given_L": np.asarray(s_given_l),
        }
    )
    return UnitResult(
        frames={"curves": frame},
        scalars={**shared.scalars, "steps": float(steps)},
        provenance=shared.provenance,
    )


def run(cfg: LinearEarlyConfig, context: RunContext) -> Result:
    """All seeds of a config, cached per seed; the task and L are built once, only when a
    seed has to be computed."""
    shared: list[Fixed] = []

    def compute(seed: Hashable) -> UnitResult:
        if not shared:
            shared.append(prepare(cfg, context))
        return train_seed(cfg, shared[0], int(seed), context.device)  # type: ignore[arg-type]

    return run_units(cfg, list(cfg.seeds), compute, context, label=f"linear_early {cfg.dataset}")
