"""class_order's measurement (Schouten & Toonen 2023, eq. 3-4; shared/CLAIMS.md, class_order):
from each model's test predictions at every checkpoint, the per-class terms and recall, the
totals, what `alive` needs, and the class-blind surrogate of the CNN and of the ViT, passed
through the same estimator on the same test set and checkpoints."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from sgdclaims import info
from sgdclaims.claims.class_order.config import NUM_CLASSES
from sgdclaims.streams import Streams
from sgdclaims.training import Trajectory

#: the per-class columns of info.per_class_curves stored per checkpoint and class
PER_CLASS = ("mi", "cmi", "cmi_mm", "mu", "recall")
#: the models whose class-blind surrogate is measured, and the surrogate's name
SURROGATES = {"cnn": "cnn_surrogate", "vit": "vit_surrogate"}
#: the surrogates' random draws, added to the unit's seed
STREAMS = Streams({"surrogate cnn": 1_000_000, "surrogate vit": 2_000_000})


def surrogate_predictions(
    y: torch.Tensor, accuracy: np.ndarray, num_classes: int, seed: int
) -> torch.Tensor:
    """(T, n) predictions of the class-blind surrogate (CLAIMS.md): at checkpoint t it is right
    on a random round(a_t n_c) of the n_c test images of every class c (equal recall a_t) and
    otherwise predicts one of the other classes uniformly."""
    labels = y.cpu().numpy()
    acc = np.asarray(accuracy, dtype=np.float64)
    rng = np.random.default_rng(seed)
    right = np.zeros((len(acc), len(labels)), dtype=bool)
    for c in range(num_classes):
        members = np.flatnonzero(labels == c)
        rank = np.argsort(np.argsort(rng.random((len(acc), len(members))), axis=1), axis=1)
        right[:, members] = rank < np.round(acc * len(members))[:, None]
    wrong = (labels + rng.integers(1, num_classes, right.shape)) % num_classes
    return torch.from_numpy(np.where(right, labels, wrong))


def _tables(
    name: str, preds: torch.Tensor, steps: np.ndarray, y: torch.Tensor, l_pred: torch.Tensor
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per-class rows, total rows) of one model's predictions (T, n) at `steps`."""
    k = NUM_CLASSES
    c = info.per_class_curves(preds, y, l_pred, k)
    per_class = pd.DataFrame(
        {
            "model": name,
            "step": np.repeat(steps, k),
            "class": np.tile(np.arange(k), len(steps)),
            **{q: c[q].reshape(-1) for q in PER_CLASS},
        }
    )
    totals = pd.DataFrame(
        {
            "model": name,
            "step": steps,
            "test_acc": (preds == y.cpu()).double().mean(dim=1).numpy(),
            "n_predicted": [int(torch.unique(p).numel()) for p in preds],
            "I_FY": c["I_FY"],
            "mu_FY": c["mu_FY"],
        }
    )
    return per_class, totals


def measure(
    trajectories: dict[str, Trajectory], y: torch.Tensor, seed: int, per_epoch: int
) -> dict[str, pd.DataFrame]:
    """The frames of one seed from its models' trajectories (linear first: L is its final
    prediction): per_class, totals (models and surrogates), runs (the divergence rule that
    fired, per model) and test_classes (test images per class, for the level p(c))."""
    y = y.cpu()
    l_pred = trajectories["linear"].test_preds[-1]
    classes, totals = [], []
    for name, traj in trajectories.items():
        per_class, total = _tables(name, traj.test_preds, traj.steps, y, l_pred)
        classes.append(per_class)
        totals.append(total.assign(train_loss=traj.train_loss))
    for model, name in SURROGATES.items():
        traj = trajectories[model]
        stream = STREAMS.seed(f"surrogate {model}", seed)
        preds = surrogate_predictions(y, traj.test_acc, NUM_CLASSES, stream)
        per_class, total = _tables(name, preds, traj.steps, y, l_pred)
        classes.append(per_class)
        totals.append(total.assign(train_loss=np.nan))
    runs = pd.DataFrame(
        {
            "model": list(trajectories),
            "diverged": [t.diverged for t in trajectories.values()],
            "diverged_at": [t.diverged_at for t in trajectories.values()],
        }
    )
    counts = np.bincount(y.numpy(), minlength=NUM_CLASSES)
    frame = pd.concat(totals, ignore_index=True)
    return {
        "per_class": pd.concat(classes, ignore_index=True),
        "totals": frame.assign(epoch=frame["step"] / per_epoch),
        "runs": runs,
        "test_classes": pd.DataFrame({"class": np.arange(NUM_CLASSES), "count": counts}),
    }
