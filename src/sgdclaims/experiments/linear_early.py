"""Claim linear_early (Nakkiran et al. 2019, Sec. 3, Fig. 4): early in SGD almost all of a
CNN's information on the label is explained by a linear classifier L, and it is retained.

L is logistic regression on raw inputs, trained to convergence (full-batch L-BFGS) on the
training split first and then fixed. F is the paper's CNN (an MLP on the synthetic Fig. 1
task) trained with plain SGD; its test predictions are recorded at checkpoints, dense in
the early phase. Per checkpoint we store I(F_t;Y), mu_Y(F_t;L) = I(F_t;Y) - I(F_t;Y|L)
(their eq. 1), the same mu with a control classifier C in place of L (L's per-class
accuracy, errors drawn independently of L's from a seed), I(L;Y|F_t) and H(Y|F_t).
Seeds vary F's initialisation and data order; each seed is cached on its own.
The claim statistics of CLAIMS.md are pure functions of the result at the end.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch
from torch import nn

from sgdclaims.config import (
    Config,
    require_choice,
    require_non_negative,
    require_positive,
    require_seeds,
)
from sgdclaims.data import Dataset, binary_task, load, subsample
from sgdclaims.data.tasks import FIRST_VS_LAST_HALF, require_usable_splits
from sgdclaims.info import Contingency
from sgdclaims.models import MLP, LinearClassifier, PaperCNN, seeded
from sgdclaims.runner import Result, UnitResult, run_units
from sgdclaims.training import checkpoint_steps, predict, train_sgd

#: classes per data set this claim knows (groups are checked against them)
NUM_CLASSES = {"mnist": 10, "fashion_mnist": 10, "cifar10": 10, "sinusoid_disc": 2}
#: the fewest test examples for which a plug-in MI estimate of a binary task means anything
MIN_TEST = 100
#: the early window of CLAIMS.md: 0.2 I(L;Y) <= I(F_t;Y) <= 0.8 I(L;Y)
WINDOW = (0.2, 0.8)


@dataclasses.dataclass(frozen=True)
class LinearEarlyConfig(Config):
    """Nakkiran et al. 2019 Sec. 3 on MNIST 0-4 vs 5-9; defaults are the paper's settings."""

    claim: ClassVar[str] = "linear_early"
    WHY: ClassVar[dict[str, str]] = {
        "lr": (
            "fast: 0.1 instead of the paper's 1e-3 for the CNN. At 1e-3 (and at 1e-2) the CNN "
            "predicts one class for thousands of steps on 8,000 images (the warm-up, measured); "
            "at 0.1 it leaves the warm-up within ~50 steps, so the early phase and the growth "
            "past L fit in two epochs. The disc MLP uses 0.05: at 0.1 it learns the linear part "
            "within ~5 steps (too fast to resolve the early window) and does not outgrow L in "
            "two epochs"
        ),
        "epochs": (
            "fast: 3 epochs (MNIST) / 2 epochs (Fashion-MNIST) on 8,000 images instead of 50: at "
            "lr 0.1 the CNN passes the early window within ~150 steps; after 2 epochs one MNIST "
            "seed still sat in an lr-0.1 excursion at the last checkpoint (87% accuracy). On "
            "Fashion-MNIST the CNN plateaus at L's accuracy (~88.6% vs 89.6%) from step 250 to "
            "500 (measured), so 4 epochs cost twice the CPU and changed no verdict. The disc MLP "
            "needs 10 epochs (1,250 cheap steps)"
        ),
        "seeds": "fast: 3 seeds instead of 10 (CPU time)",
        "require_full": "fast: the MNIST 10k subset (8,000 train / 2,000 test) is allowed",
        "n_train": "fast: a seeded 8,000-image Fashion-MNIST training subset (CPU time)",
        "n_test": (
            "fast: a seeded 2,000-image Fashion-MNIST test subset; every checkpoint predicts the "
            "whole test set, which costs as much as ~15 training steps on a CPU"
        ),
        "early_until": (
            "fast: the early phase lies within the first ~150 steps at lr 0.1 (CNN) and the "
            "first ~20 at lr 0.05 (disc MLP)"
        ),
        "early_every": (
            "fast: every 25 steps in the CNN's early phase (each checkpoint predicts 2,000 test "
            "images, ~1.4 s of CPU, as much as ~15 training steps); every step for the disc MLP, "
            "whose early phase is ~10 steps long"
        ),
        "n_log": "fast: no log-spaced checkpoints; early_every already covers the early phase",
        "every": "fast: after the early phase every 125 steps (an epoch for the disc MLP)",
        "model": "the synthetic Fig. 1 task has 2-d inputs: F is an MLP there, as in the paper",
        "dataset": "the fast scale adds the synthetic Fig. 1 disc and Fashion-MNIST",
        "groups": "the synthetic disc has two classes already: class 0 vs class 1",
        "l_max_iter": "smoke runs only",
    }

    dataset: str = "mnist"
    groups: tuple[tuple[int, ...], tuple[int, ...]] = FIRST_VS_LAST_HALF
    require_full: bool = True
    n_train: int | None = None
    n_test: int | None = None
    subset_seed: int = 0
    model: str = "cnn"
    mlp_hidden: tuple[int, ...] = (256, 256)
    lr: float = 1e-3
    batch_size: int = 64
    epochs: float = 50.0
    early_until: int = 10_000
    early_every: int = 100
    n_log: int = 40
    every: int = 500
    l_weight_decay: float = 1e-4
    l_max_iter: int = 500
    control_seed: int = 0
    seeds: tuple[int, ...] = tuple(range(10))

    def validate(self) -> None:
        """Raise ValueError naming the field for a config that cannot run."""
        require_choice("dataset", self.dataset, sorted(NUM_CLASSES))
        _check_groups(self.groups, NUM_CLASSES[self.dataset])
        for name in ("n_train", "n_test"):
            value = getattr(self, name)
            if value is not None:
                require_positive(name, value)
        if self.n_test is not None and self.n_test < MIN_TEST:
            raise ValueError(
                f"n_test must be >= {MIN_TEST} for a plug-in MI estimate, got {self.n_test}"
            )
        require_choice("model", self.model, ["cnn", "mlp"])
        if self.model == "cnn" and self.dataset == "sinusoid_disc":
            raise ValueError("model 'cnn' needs images; use model='mlp' for sinusoid_disc")
        if not self.mlp_hidden or any(int(h) != h or h < 1 for h in self.mlp_hidden):
            raise ValueError(f"mlp_hidden must be positive widths, got {self.mlp_hidden!r}")
        require_positive("lr", self.lr)
        require_positive("batch_size", self.batch_size)
        require_positive("epochs", self.epochs)
        for name in ("early_until", "early_every", "every", "l_max_iter"):
            require_positive(name, getattr(self, name))
        require_non_negative("n_log", self.n_log)
        require_non_negative("l_weight_decay", self.l_weight_decay)
        require_non_negative("subset_seed", self.subset_seed)
        require_non_negative("control_seed", self.control_seed)
        require_seeds("seeds", self.seeds)

    def steps(self, n_train: int) -> int:
        """SGD steps for `epochs` passes over n_train examples (last partial batch dropped)."""
        per_epoch = n_train // self.batch_size
        if per_epoch < 1:
            raise ValueError(
                f"batch_size {self.batch_size} exceeds the {n_train} training examples"
            )
        return max(1, round(self.epochs * per_epoch))

    def checkpoints(self, steps: int) -> np.ndarray:
        """Step 0, n_log log-spaced steps and every `early_every` up to early_until, then
        every `every` steps, and the last step (CLAIMS.md: dense early, then linear)."""
        early_end = min(self.early_until, steps)
        parts = [
            np.arange(0, early_end + 1, self.early_every),
            np.arange(0, steps + 1, self.every),
            np.array([0, steps]),
        ]
        if self.n_log:
            dense = checkpoint_steps(steps, dense_until=early_end, n_dense=self.n_log, every=steps)
            parts.append(dense)
        return np.unique(np.concatenate(parts)).astype(np.int64)

    def smoke(self) -> LinearEarlyConfig:
        """A copy that runs on a CPU in seconds: small subsets, a few steps, two seeds."""
        return self.replace(
            n_train=256,
            n_test=MIN_TEST * 2,
            epochs=2.0,
            early_until=4,
            early_every=2,
            n_log=2,
            every=4,
            l_max_iter=20,
            seeds=(0, 1),
        )


@dataclasses.dataclass(frozen=True)
class LinearEarlyCifarConfig(LinearEarlyConfig):
    """Nakkiran et al. 2019 Sec. 3 on CIFAR-10, first 5 vs last 5 classes, 100 epochs."""

    dataset: str = "cifar10"
    epochs: float = 100.0


def _check_groups(groups: Any, num_classes: int) -> None:
    """Two non-empty, disjoint groups of classes within 0..num_classes-1."""
    if not isinstance(groups, tuple) or len(groups) != 2:
        raise ValueError(f"groups must be two class groups, got {groups!r}")
    a, b = groups
    if not a or not b:
        raise ValueError(f"groups must both be non-empty (a side would be empty), got {groups!r}")
    if set(a) & set(b):
        raise ValueError(f"groups overlap in classes {sorted(set(a) & set(b))}")
    bad = sorted(c for c in (*a, *b) if isinstance(c, bool) or not isinstance(c, int))
    bad += sorted(c for c in (*a, *b) if isinstance(c, int) and not 0 <= c < num_classes)
    if bad:
        raise ValueError(f"groups name classes {bad} outside 0..{num_classes - 1}")


FAST: dict[str, dict[str, Any]] = {
    "sinusoid_disc": {
        "dataset": "sinusoid_disc",
        "groups": ((0,), (1,)),
        "model": "mlp",
        "lr": 0.05,
        "epochs": 10.0,
        "early_until": 20,
        "early_every": 1,
        "every": 125,
    },
    "mnist": {"dataset": "mnist", "require_full": False, "epochs": 3.0},
    "fashion_mnist": {"dataset": "fashion_mnist", "n_train": 8000, "n_test": 2000, "epochs": 2.0},
}
FAST_COMMON: dict[str, Any] = {
    "lr": 0.1,
    "early_until": 150,
    "early_every": 25,
    "n_log": 0,
    "every": 125,
    "seeds": (0, 1, 2),
}
FULL: dict[str, type[LinearEarlyConfig]] = {
    "mnist": LinearEarlyConfig,
    "cifar10": LinearEarlyCifarConfig,
}


def config(scale: str, dataset: str) -> LinearEarlyConfig:
    """The config of a (scale, data set) case: the paper's at full, the CPU one at fast."""
    require_choice("scale", scale, ["fast", "full"])
    if scale == "full":
        require_choice("dataset", dataset, sorted(FULL))
        return FULL[dataset]()
    require_choice("dataset", dataset, sorted(FAST))
    return LinearEarlyConfig(**{**FAST_COMMON, **FAST[dataset]})


# --- the fixed parts: task, L, control ----------------------------------------------------


@dataclasses.dataclass
class Fixed:
    """What every seed shares: the binary task, L's and the control's test predictions."""

    data: Dataset
    l_test: torch.Tensor
    control_test: torch.Tensor
    scalars: dict[str, float]
    provenance: dict[str, Any]


def load_task(cfg: LinearEarlyConfig, data_root: str | Path | None = None) -> Dataset:
    """The binary task of the config, subsampled, checked to be usable before training."""
    ds = load(cfg.dataset, data_root, require_full=cfg.require_full)
    ds = binary_task(ds, cfg.groups)
    ds = subsample(ds, cfg.n_train, cfg.n_test, cfg.subset_seed)
    require_usable_splits(ds, min_test=MIN_TEST, num_classes=2)
    cfg.steps(len(ds.x_train))
    return ds


def fit_linear(
    data: Dataset, *, weight_decay: float, max_iter: int, device: torch.device | str = "cpu"
) -> tuple[LinearClassifier, dict[str, float]]:
    """L: logistic regression on raw inputs (mean cross-entropy + weight_decay/2 |W|^2),
    full-batch L-BFGS from zero, deterministic; returns the model and its fit summary."""
    x, y = data.x_train.to(device), data.y_train.to(device)
    model = LinearClassifier(data.info.shape, data.num_classes).to(device)
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
    opt = torch.optim.LBFGS(
        model.parameters(),
        lr=1.0,
        max_iter=max_iter,
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
    return model, {"l_loss": final, "l_iterations": float(iters), "l_train_acc": train_acc}


def control_predictions(
    y: torch.Tensor, l_pred: torch.Tensor, seed: int, num_classes: int = 2
) -> torch.Tensor:
    """The control classifier: exactly L's number of correct predictions in each class, but
    which examples are correct is a seeded random draw, independent of L's errors; a wrong
    prediction is a uniformly drawn other class."""
    gen = torch.Generator().manual_seed(seed)
    y_cpu, l_cpu = y.cpu(), l_pred.cpu()
    out = y_cpu.clone()
    for c in range(num_classes):
        members = torch.nonzero(y_cpu == c).flatten()
        correct = int((l_cpu[members] == c).sum())
        wrong = members[torch.randperm(len(members), generator=gen)[correct:]]
        shift = torch.randint(1, num_classes, (len(wrong),), generator=gen)
        out[wrong] = (c + shift) % num_classes
    return out.to(y.device)


def prepare(
    cfg: LinearEarlyConfig, data_root: str | Path | None, device: torch.device | str
) -> Fixed:
    """Load the task, fit L to convergence and fix it, draw the control from its seed."""
    data = load_task(cfg, data_root).to(device)
    model, fit = fit_linear(
        data, weight_decay=cfg.l_weight_decay, max_iter=cfg.l_max_iter, device=device
    )
    l_test = predict(model, data.x_test)
    control = control_predictions(data.y_test, l_test, cfg.control_seed, data.num_classes)
    y = data.y_test
    scalars = {
        **fit,
        "l_acc": (l_test == y).float().mean().item(),
        "control_acc": (control == y).float().mean().item(),
        "I_LY": float(Contingency.from_labels(l_test, y).mutual_information()),
        "I_CY": float(Contingency.from_labels(control, y).mutual_information()),
        "H_Y": float(Contingency.from_labels(y, y).entropy("y")),
        "agree_L_control": (l_test == control).float().mean().item(),
    }
    provenance = {
        "dataset": data.info.display,
        "source": data.info.source,
        "subset": data.info.subset,
        "synthetic": data.info.synthetic,
        "n_train": len(data.x_train),
        "n_test": len(data.x_test),
        "classes": " vs ".join(data.info.classes),
        "L": (
            f"logistic regression on raw inputs, L-BFGS ({int(fit['l_iterations'])} iterations, "
            f"weight decay {cfg.l_weight_decay:g}), test accuracy {scalars['l_acc']:.4f}"
        ),
    }
    return Fixed(data, l_test, control, scalars, provenance)


# --- one seed -------------------------------------------------------------------------------


def make_model(cfg: LinearEarlyConfig, shape: tuple[int, ...], seed: int) -> nn.Module:
    """F at initialisation from `seed`: the paper's CNN, or an MLP on the disc task."""
    if cfg.model == "cnn":
        return seeded(lambda: PaperCNN(shape, 2), seed)  # type: ignore[arg-type]
    return seeded(lambda: MLP(shape, 2, cfg.mlp_hidden), seed)


def curves(preds: torch.Tensor, y: torch.Tensor, l_pred: torch.Tensor, control: torch.Tensor):
    """Per checkpoint (rows of preds, (T, n)): I(F_t;Y), mu_Y(F_t;L), mu_Y(F_t;C),
    I(L;Y|F_t) and H(Y|F_t), in bits, as float64 numpy arrays."""
    with_l = Contingency.from_labels(preds, y, l_pred)
    with_c = Contingency.from_labels(preds, y, control)
    l_given_f = Contingency.from_labels(l_pred, y, preds)
    return {
        "I_FY": np.asarray(with_l.mutual_information()),
        "mu_L": np.asarray(with_l.performance_correlation()),
        "mu_control": np.asarray(with_c.performance_correlation()),
        "I_LY_given_F": np.asarray(l_given_f.conditional_mutual_information()),
        "H_Y_given_F": np.asarray(with_l.entropy("y", "f")),
    }


def train_seed(cfg: LinearEarlyConfig, fixed: Fixed, seed: int, device: torch.device | str):
    """Train F for one seed (init and data order) and measure it against L and the control."""
    data = fixed.data
    steps = cfg.steps(len(data.x_train))
    marks = cfg.checkpoints(steps)
    model = make_model(cfg, data.info.shape, seed)
    traj = train_sgd(
        model,
        data,
        steps=steps,
        lr=cfg.lr,
        checkpoints=marks,
        data_seed=seed,
        batch_size=cfg.batch_size,
        device=device,
    )
    y = data.y_test.cpu()
    measured = curves(traj.test_preds, y, fixed.l_test.cpu(), fixed.control_test.cpu())
    per_epoch = len(data.x_train) // cfg.batch_size
    frame = pd.DataFrame(
        {
            "step": traj.steps,
            "epoch": traj.steps / per_epoch,
            "test_acc": traj.test_acc,
            "train_loss": traj.train_loss,
            **measured,
        }
    )
    scalars = {**fixed.scalars, "final_acc": float(traj.test_acc[-1]), "steps": float(steps)}
    return UnitResult(frames={"curves": frame}, scalars=scalars, provenance=fixed.provenance)


def run(
    cfg: LinearEarlyConfig,
    *,
    data_root: str | Path | None = None,
    device: torch.device | str = "cpu",
    cache_root: Path | None = None,
    progress: bool = True,
) -> Result:
    """All seeds of a config, cached per seed; the task and L are built once, only when a
    seed has to be computed."""
    shared: list[Fixed] = []

    def compute(seed: Hashable) -> UnitResult:
        if not shared:
            shared.append(prepare(cfg, data_root, device))
        return train_seed(cfg, shared[0], int(seed), device)  # type: ignore[arg-type]

    return run_units(
        cfg,
        list(cfg.seeds),
        compute,
        cache_root=cache_root,
        progress=progress,
        label=f"linear_early {cfg.dataset}",
    )


# --- the claim statistics (CLAIMS.md, linear_early) -----------------------------------------


def seed_mean(result: Result) -> pd.DataFrame:
    """The curves averaged over seeds at each checkpoint step, with their std over seeds."""
    frame = result.frame("curves").drop(columns="unit")
    grouped = frame.groupby("step", sort=True)
    mean = grouped.mean()
    std = grouped.std(ddof=1).add_suffix("_std")
    return pd.concat([mean, std], axis=1).reset_index()


def mutual_information_of_l(result: Result) -> float:
    """I(L;Y) in bits (the same for every seed: L is fixed)."""
    return float(result.scalars["I_LY"].iloc[0])


def early_ratio(i_fy: np.ndarray, mu: np.ndarray, i_ly: float) -> float:
    """min over the early window (0.2 I(L;Y) <= I(F_t;Y) <= 0.8 I(L;Y)) of mu / I(F_t;Y);
    NaN when no checkpoint falls in the window."""
    i_fy, mu = np.asarray(i_fy, dtype=float), np.asarray(mu, dtype=float)
    inside = (i_fy >= WINDOW[0] * i_ly) & (i_fy <= WINDOW[1] * i_ly)
    if not inside.any():
        return float("nan")
    return float(np.min(mu[inside] / i_fy[inside]))


def window_size(result: Result) -> int:
    """Checkpoints of the seed-mean curve inside the early window."""
    mean, i_ly = seed_mean(result), mutual_information_of_l(result)
    i_fy = mean["I_FY"].to_numpy()
    return int(((i_fy >= WINDOW[0] * i_ly) & (i_fy <= WINDOW[1] * i_ly)).sum())


def _per_seed(result: Result, fn) -> np.ndarray:
    """fn(curve of one seed, sorted by step) for each seed, in the order of result.units."""
    frame = result.frame("curves")
    return np.array([fn(frame[frame.unit == u].sort_values("step")) for u in result.units])


def early_explained(result: Result, column: str = "mu_L") -> tuple[float, np.ndarray]:
    """`early_explained`: on the seed-mean curves; per seed (each on its own window) beside."""
    i_ly = mutual_information_of_l(result)
    mean = seed_mean(result)
    value = early_ratio(mean["I_FY"].to_numpy(), mean[column].to_numpy(), i_ly)
    seeds = _per_seed(
        result, lambda c: early_ratio(c["I_FY"].to_numpy(), c[column].to_numpy(), i_ly)
    )
    return value, seeds


def outgrows_linear(result: Result) -> np.ndarray:
    """`outgrows_linear` per seed: I(F_T;Y) - mu_Y(F_T;L) at the last checkpoint (bits)."""
    return _per_seed(result, lambda c: c["I_FY"].iloc[-1] - c["mu_L"].iloc[-1])


def retained(result: Result) -> np.ndarray:
    """`retained` per seed: mu_Y(F_T;L) / I(L;Y) at the last checkpoint."""
    i_ly = mutual_information_of_l(result)
    return _per_seed(result, lambda c: c["mu_L"].iloc[-1] / i_ly)


def retention_drop(result: Result) -> np.ndarray:
    """`retention_drop` per seed: max_t mu_Y(F_t;L) - mu_Y(F_T;L) (bits)."""
    return _per_seed(result, lambda c: c["mu_L"].max() - c["mu_L"].iloc[-1])


def final_column(result: Result, column: str) -> np.ndarray:
    """A curve's value at the last checkpoint, per seed (e.g. I(L;Y|F_T), H(Y|F_T))."""
    return _per_seed(result, lambda c: c[column].iloc[-1])
