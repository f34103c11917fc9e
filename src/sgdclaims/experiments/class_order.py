"""class_order (Schouten & Toonen 2023, Sec. 3.2-4.3): classes are learned in a consistent
order, and a ViT learns them in the CNN's order, but sooner and without a warm-up.

Per seed a linear model, the paper's CNN and the small torchvision ViT are trained side by
side on 10 classes (plain SGD, the same data order); at each checkpoint we store the
per-class I(F_t;Y=c) (their eq. 3), I(F_t;Y=c|L) (eq. 4; plug-in and Miller-Madow) with L
the seed's final linear model, mu_c and the recall, from the test predictions.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Hashable
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from sgdclaims import config as checks
from sgdclaims import info, ranking
from sgdclaims.config import Cases, Config, Set
from sgdclaims.curves import final_value, first_reaching, preceding_change, unit_cube
from sgdclaims.data import Dataset, load, subsample
from sgdclaims.data.tasks import require_usable_splits, stratified_test
from sgdclaims.models import LinearClassifier, PaperCNN, seeded, small_vit
from sgdclaims.runner import Result, RunContext, UnitResult, run_units
from sgdclaims.training import checkpoint_steps, epoch_steps, train_sgd
from sgdclaims.values import Statistics, Value, seed_mean

#: image shape (C, H, W) of every data set this claim runs on; models are built for it
SHAPES: dict[str, tuple[int, int, int]] = {"mnist": (1, 28, 28), "fashion_mnist": (1, 28, 28),
                                           "cifar10": (3, 32, 32)}  # fmt: skip
MODELS = ("linear", "cnn", "vit")
NUM_CLASSES = 10
#: fewest test images for per-class terms (CLAIMS.md asks >= 2,000; smoke runs use fewer)
MIN_TEST = 200
#: independent random relabellings of the classes that the controls are read from
RELABELLINGS = 200


@dataclasses.dataclass(frozen=True)
class ClassOrderConfig(Config):
    """Schouten & Toonen 2023 on MNIST; the defaults are their settings (Sec. 3.2)."""

    SMOKE: ClassVar[dict[str, Any]] = {
        "n_train": 256, "n_test": MIN_TEST, "steps": 12, "dense_until": 4, "n_dense": 2,
        "every": 4, "n_permutations": 99, "seeds": (0, 1),
    }  # fmt: skip

    dataset: str = "mnist"
    require_full: bool = True
    n_train: int | None = None
    n_test: int | None = None
    subset_seed: int = 0
    vit_patch_size: int = 4
    vit_layers: int = 4
    vit_heads: int = 4
    vit_hidden: int = 64
    vit_mlp: int = 128
    lr: float = 1e-3
    linear_lr: float = 1e-2
    batch_size: int = 64
    epochs: float = 50.0
    steps: int | None = None
    dense_until: int = 4000
    n_dense: int = 40
    every: int = 500
    control_seed: int = 0
    n_permutations: int = 9999
    seeds: tuple[int, ...] = tuple(range(5))

    def validate(self) -> None:
        """Raise ValueError naming the field for a config that cannot run."""
        checks.require_choice("dataset", self.dataset, sorted(SHAPES))
        for name in ("n_train", "n_test", "steps"):
            if getattr(self, name) is not None:
                checks.require_positive(name, getattr(self, name))
        if self.n_test is not None and self.n_test < MIN_TEST:
            raise ValueError(f"n_test must be >= {MIN_TEST} for per-class MI, got {self.n_test}")
        for name in ("vit_patch_size", "vit_layers", "vit_heads", "vit_hidden", "vit_mlp"):
            checks.require_positive(name, getattr(self, name))
        side = SHAPES[self.dataset][1]
        if side % self.vit_patch_size:
            raise ValueError(
                f"vit_patch_size {self.vit_patch_size} does not divide the {side}x{side} images "
                f"of {self.dataset}"
            )
        if self.vit_hidden % self.vit_heads:
            raise ValueError(f"vit_heads {self.vit_heads} does not divide vit_hidden")
        for name in ("lr", "linear_lr", "batch_size", "epochs", "dense_until", "every"):
            checks.require_positive(name, getattr(self, name))
        checks.require_positive("n_permutations", self.n_permutations)
        for name in ("n_dense", "subset_seed", "control_seed"):
            checks.require_non_negative(name, getattr(self, name))
        checks.require_seeds("seeds", self.seeds)

    def total_steps(self, n_train: int) -> int:
        """`steps` if set, else `epochs` passes over n_train images."""
        return self.steps or epoch_steps(self.epochs, n_train, self.batch_size)

    def checkpoints(self, steps: int) -> np.ndarray:
        """Step 0, n_dense log-spaced steps up to dense_until, every `every` steps, 3 in the
        last 5% of the run (the final value is their mean, CLAIMS.md)."""
        return checkpoint_steps(steps, dense_until=self.dense_until, n_dense=self.n_dense,
                                every=self.every)  # fmt: skip


_LR_WHY = (
    "0.05 for the CNN and the ViT (one shared lr, as in the paper) instead of 1e-3: at 1e-3 the "
    "CNN's warm-up alone (the paper: ~4 of 50 epochs) is thousands of steps, beyond a CPU "
    "budget of 300 steps. At 0.05 the regime the paper describes remains: the CNN's warm-up "
    "(test accuracy below 1.5 x chance) lasts 100-150 steps, ~40% of the run (measured, "
    "3 seeds, MNIST and Fashion-MNIST), while the ViT is past it at its first checkpoint "
    "(step 25). Tried: 0.1, where the CNN's warm-up shrinks to ~50 steps, as long as the ViT's"
)
CASES = Cases(
    ClassOrderConfig,
    full={
        "mnist": {},
        "cifar10": {
            "dataset": Set("cifar10", "the paper's second data set (3-channel 32x32 patches)"),
            "epochs": Set(100.0, "the paper's CIFAR-10 run length (Sec. 3.2)"),
        },
        "fashion_mnist": {
            "dataset": Set("fashion_mnist", "CLAIMS.md: Fashion-MNIST in every image claim's "
                           "full tier; the paper's MNIST settings"),
        },
    },
    fast={
        "mnist": {
            "require_full": Set(False, "the MNIST 10k subset (8,000 train / 2,000 test, the "
                                "whole test split)"),
        },
        "fashion_mnist": {
            "dataset": Set("fashion_mnist", "Fashion-MNIST, all 60,000 training images"),
            "n_test": Set(2000, "a seeded, class-stratified 2,000-image test subset "
                          "(CLAIMS.md: >= 2,000; each checkpoint predicts it with two nets)"),
        },
    },
    fast_common={
        "lr": Set(0.05, _LR_WHY),
        "linear_lr": Set(0.05, "0.05 instead of 1e-2, so that L is near its plateau within "
                         "the short run; L only has to be a converged linear classifier"),
        "steps": Set(300, "300 SGD steps (CPU time: the ViT costs 60-90 ms a step on one core, "
                     "and each checkpoint predicts 2,000 test images with it)"),
        "n_dense": Set(0, "no log-spaced checkpoints: the run is short"),
        "every": Set(25, "a checkpoint every 25 steps: tau_c resolved to 25 of the 300 steps"),
        "seeds": Set((0, 1, 2), "3 seeds instead of the paper's 5 runs (CPU time)"),
    },
)  # fmt: skip


def check_data(cfg: ClassOrderConfig, data: Dataset) -> None:
    """Raise ValueError unless the data fit the models built for cfg (shape, channels, 10
    classes, enough test examples); called before any training."""
    shape, expected = tuple(data.x_train.shape[1:]), SHAPES[cfg.dataset]
    if len(shape) == 3 and shape[0] != expected[0]:
        raise ValueError(f"{data.info.display} has {shape[0]} channels; the models for "
                         f"{cfg.dataset} take {expected[0]}")  # fmt: skip
    if shape != expected:
        raise ValueError(f"{data.info.display}: inputs {shape}, the models take {expected}")
    if data.num_classes != NUM_CLASSES:
        raise ValueError(f"{data.info.display} has {data.num_classes} classes, need 10")
    require_usable_splits(data, min_test=MIN_TEST, num_classes=NUM_CLASSES)


def load_task(cfg: ClassOrderConfig, data_root: Any = None) -> Dataset:
    """The 10-class task of the config: training subset, stratified test subset, checked."""
    data = load(cfg.dataset, data_root, require_full=cfg.require_full)
    data = stratified_test(subsample(data, cfg.n_train, None, cfg.subset_seed), cfg.n_test,
                           cfg.subset_seed)  # fmt: skip
    check_data(cfg, data)
    cfg.total_steps(len(data.x_train))
    return data


def make_model(cfg: ClassOrderConfig, name: str, shape: tuple[int, int, int], seed: int):
    """Model `name` at initialisation from `seed`: linear, the paper's CNN or the small ViT."""
    checks.require_choice("model", name, MODELS)
    if name == "linear":
        return seeded(lambda: LinearClassifier(shape, NUM_CLASSES), seed)
    if name == "cnn":
        return seeded(lambda: PaperCNN(shape, NUM_CLASSES), seed)
    return seeded(
        lambda: small_vit(
            shape, NUM_CLASSES, patch_size=cfg.vit_patch_size, num_layers=cfg.vit_layers,
            num_heads=cfg.vit_heads, hidden_dim=cfg.vit_hidden, mlp_dim=cfg.vit_mlp,
        ),
        seed,
    )  # fmt: skip


def train_seed(cfg: ClassOrderConfig, data: Dataset, seed: int, device: str) -> UnitResult:
    """Train every model for one seed (its init; the same data order for all) and measure
    each against the seed's final linear model."""
    steps = cfg.total_steps(len(data.x_train))
    marks = cfg.checkpoints(steps)
    trajectories, scalars = {}, {}
    for name in MODELS:
        model = make_model(cfg, name, SHAPES[cfg.dataset], seed)
        start = time.process_time()
        trajectories[name] = train_sgd(
            model, data, steps=steps, lr=cfg.linear_lr if name == "linear" else cfg.lr,
            checkpoints=marks, data_seed=seed, batch_size=cfg.batch_size, device=device,
        )  # fmt: skip
        scalars[f"cpu_seconds_{name}"] = time.process_time() - start
    y, l_pred = data.y_test.cpu(), trajectories["linear"].test_preds[-1]
    per_epoch, k = len(data.x_train) // cfg.batch_size, NUM_CLASSES
    classes, totals = [], []
    for name, traj in trajectories.items():
        c = info.per_class_curves(traj.test_preds, y, l_pred, k)
        classes.append(pd.DataFrame({
            "model": name, "step": np.repeat(traj.steps, k),
            "class": np.tile(np.arange(k), len(traj.steps)),
            **{q: c[q].reshape(-1) for q in ("mi", "cmi", "cmi_mm", "mu", "recall")},
        }))  # fmt: skip
        totals.append(pd.DataFrame({
            "model": name, "step": traj.steps, "epoch": traj.steps / per_epoch,
            "test_acc": traj.test_acc, "train_loss": traj.train_loss,
            "I_FY": c["I_FY"], "mu_FY": c["mu_FY"],
        }))  # fmt: skip
    frames = {"per_class": pd.concat(classes), "totals": pd.concat(totals)}
    return UnitResult(frames=frames, scalars={**scalars, "steps": float(steps)})


def run(cfg: ClassOrderConfig, context: RunContext) -> Result:
    """Train and measure every seed of cfg (cached per seed); the data are loaded once,
    onto context.device, only when a seed has to be computed."""
    loaded: list[Dataset] = []
    provenance: dict[str, Any] = {}

    def compute(unit: Hashable) -> UnitResult:
        if not loaded:
            data = load_task(cfg, context.data_root).to(context.device)
            loaded.append(data)
            provenance.update(
                dataset=data.info.display, source=data.info.source, subset=data.info.subset,
                n_train=len(data.x_train), n_test=len(data.x_test),
                classes=", ".join(data.info.classes), steps=cfg.total_steps(len(data.x_train)),
                L="the seed's linear model at the end of its SGD run (raw pixels)",
            )  # fmt: skip
        out = train_seed(cfg, loaded[0], int(unit), context.device)  # type: ignore[arg-type]
        out.provenance = dict(provenance)
        return out

    return run_units(cfg, list(cfg.seeds), compute, context, label=f"class_order {cfg.dataset}")


# --- the claim's values (shared/CLAIMS.md, class_order) -------------------------------------

statistics = Statistics()
#: the paper's MNIST order (Sec. 4): 0 and 1 among the first three, 5 and 8 the last three
PAPER_FIRST, PAPER_LAST = (0, 1), (5, 8)
#: CLAIMS.md `converged`: the final accuracy against its mean over the preceding 20%
PRECEDING = 0.20
#: a model's warm-up ends at the first checkpoint with test accuracy >= 1.5 x chance (a net
#: that predicts one class scores that class's share, ~chance)
WARMUP_ACC = 1.5 / NUM_CLASSES


def class_names(result: Result) -> list[str]:
    """The class names of the result's data set."""
    return str(result.provenance["classes"]).split(", ")


def curve_table(result: Result, model: str, quantity: str = "mi") -> tuple[np.ndarray, np.ndarray]:
    """(steps (T,), values (seeds, T, C)) of one per-class quantity of one model."""
    frame = result.frame("per_class")
    return unit_cube(frame[frame["model"] == model], result.units, quantity, by="class")


def accuracy_table(result: Result, model: str) -> tuple[np.ndarray, np.ndarray]:
    """(steps (T,), test accuracy (seeds, T)) of one model."""
    frame = result.frame("totals")
    return unit_cube(frame[frame["model"] == model], result.units, "test_acc")


def learning_times(result: Result, model: str, quantity: str = "mi") -> np.ndarray:
    """tau_c per seed and class, (seeds, C): the first checkpoint at which I(F_t;Y=c) reaches
    half its final value (mean over the last 5%); for recall, the first from which it stays
    there (an untrained net's recall is 1 for the class it predicts)."""
    steps, values = curve_table(result, model, quantity)
    final = final_value(steps, np.swapaxes(values, -1, -2))
    return ranking.learning_times(values, steps, sustained=quantity == "recall", final=final)


def _relabelled(result: Result, model: str, offset: int = 0) -> np.ndarray:
    """RELABELLINGS independent per-seed relabellings of the classes of tau (n, seeds, C)."""
    seed = result.config.control_seed + offset  # type: ignore[attr-defined]
    return ranking.relabellings(learning_times(result, model), RELABELLINGS, seed)


@statistics.returns("order_consistency", "order_consistency_control", "order_consistency_p",
                    "order_consistency_p_control")  # fmt: skip
def _order(result: Result) -> dict[str, Value]:
    cfg: ClassOrderConfig = result.config  # type: ignore[assignment]
    r = ranking.ranks(learning_times(result, "cnn"))
    null = ranking.w_null(r, n_permutations=cfg.n_permutations, seed=cfg.control_seed)
    w, w_control = ranking.kendalls_w(r), ranking.concordance(_relabelled(result, "cnn"))
    others = {f"W {m}": ranking.concordance(learning_times(result, m)) for m in ("linear", "vit")}
    relabelled = f"median over {RELABELLINGS} independent per-seed relabellings of the classes"
    return {
        "order_consistency": Value(w, note="Kendall's W of the CNN's class ranks by tau_c",
                                   details=others),
        "order_consistency_control": Value(np.median(w_control), note=f"W: {relabelled}"),
        "order_consistency_p": Value(ranking.permutation_p(w, null),
                                     note=f"permutation p, {cfg.n_permutations} shuffles"),
        "order_consistency_p_control": Value(
            np.median(ranking.permutation_p(w_control, null)), note=f"p: {relabelled}"),
    }  # fmt: skip


def paper_order_met(tau: np.ndarray) -> np.ndarray:
    """1 where the order of tau (..., C) has classes 0 and 1 among its first three and 5
    and 8 among its last three (ties share their average rank), else 0."""
    r = ranking.ranks(tau)
    first = (r[..., list(PAPER_FIRST)] <= 3).all(axis=-1)
    last = (r[..., list(PAPER_LAST)] >= tau.shape[-1] - 2).all(axis=-1)
    return (first & last).astype(np.float64)


@statistics.returns("paper_order", "paper_order_control")
def _paper_order(result: Result) -> dict[str, Value]:
    tau, relabelled = learning_times(result, "cnn"), _relabelled(result, "cnn").mean(axis=1)
    return {
        "paper_order": Value(paper_order_met(tau.mean(axis=0)), paper_order_met(tau),
                             "1: met by the CNN's seed-mean tau_c (per seed: its own order)"),
        "paper_order_control": Value(paper_order_met(relabelled).mean(),
                                     note=f"share of {RELABELLINGS} relabellings meeting it"),
    }  # fmt: skip


@statistics.returns("converged", "vit_cnn_agreement", "vit_cnn_agreement_control",
                    "vit_cnn_agreement_p", "vit_cnn_agreement_p_control", "vit_sooner",
                    "vit_sooner_control")  # fmt: skip
def _vit(result: Result) -> dict[str, Value]:
    cfg: ClassOrderConfig = result.config  # type: ignore[assignment]
    tau = {m: learning_times(result, m) for m in ("cnn", "vit")}
    climbs = {m: preceding_change(*accuracy_table(result, m), PRECEDING) for m in tau}
    worst = np.maximum(climbs["cnn"], climbs["vit"])
    perm = {"n_permutations": cfg.n_permutations, "seed": cfg.control_seed}
    rho, p = ranking.spearman_test(tau["cnn"].mean(0), tau["vit"].mean(0), **perm)
    pairs = zip(_relabelled(result, "cnn").mean(1)[:50], _relabelled(result, "vit", 1).mean(1))
    control = np.array([ranking.spearman_test(a, b, **perm) for a, b in pairs])
    mean_tau = {m: t.mean(axis=1) for m, t in tau.items()}  # per seed; inf: a class not learned
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio, self_ratio = (
            mean_tau["vit"] / mean_tau["cnn"],
            np.roll(mean_tau["cnn"], -1) / mean_tau["cnn"],
        )
    return {
        "converged": Value(np.max(worst), worst, "largest |final test accuracy - its mean over "
                           "the preceding 20% of the run| of the CNN and the ViT (per seed: the "
                           "larger)", {f"{m}, seed mean": np.mean(c) for m, c in climbs.items()}),
        "vit_cnn_agreement": Value(rho, [ranking.spearman(c, v) for c, v in zip(*tau.values())],
                                   "rho of the seed-mean tau_c (per seed: its own pair)"),
        "vit_cnn_agreement_control": Value(np.median(control[:, 0]), note="median rho over 50 "
                                           "independent relabellings of both models' classes"),
        "vit_cnn_agreement_p": Value(p, note=f"one-sided, {cfg.n_permutations} class shuffles"),
        "vit_cnn_agreement_p_control": Value(np.median(control[:, 1]),
                                             note="median p of the relabelled pairs"),
        "vit_sooner": seed_mean(ratio, "mean_c tau_c(ViT) / mean_c tau_c(CNN), per seed"),
        "vit_sooner_control": seed_mean(self_ratio, "the CNN's seed s+1 over its seed s"),
    }  # fmt: skip


def mid_training_gap(result: Result, model: str, quantity: str = "cmi_mm") -> np.ndarray:
    """I(F;Y=c) - mu_c = I(F;Y=c|L) at the checkpoint nearest half the run, (seeds, C)."""
    steps, cmi = curve_table(result, model, quantity)
    return cmi[:, int(np.argmin(np.abs(steps - steps[-1] / 2))), :]


@statistics.returns(
    "gap_tracks_order",
    "cnn_warmup",
    "vit_warmup",
    "recall_order_agreement",
    *(f"final_accuracy_{m}" for m in MODELS),
)
def _reported(result: Result) -> dict[str, Value]:
    gap = {m: [ranking.spearman(t, g) for t, g in zip(learning_times(result, m),
                                                      mid_training_gap(result, m))]
           for m in ("cnn", "vit")}  # fmt: skip
    by_recall = learning_times(result, "cnn", "recall").mean(0)
    out = {
        "gap_tracks_order": seed_mean(gap["cnn"], "CNN: rho(tau_c, Miller-Madow I(F;Y=c|L) at "
                                      "mid-training), per seed", ViT=np.mean(gap["vit"])),
        "recall_order_agreement": Value(ranking.spearman(learning_times(result, "cnn").mean(0),
                                                         by_recall), note="CNN: MI vs recall"),
    }  # fmt: skip
    steps = float(result.scalars["steps"].iloc[0])
    for m in ("cnn", "vit"):
        warm = first_reaching(*accuracy_table(result, m), WARMUP_ACC)
        note = f"steps until the {m}'s test accuracy first reaches 1.5 x chance"
        out[f"{m}_warmup"] = seed_mean(warm, note, fraction_of_run=np.mean(warm) / steps)
    for m in MODELS:
        out[f"final_accuracy_{m}"] = seed_mean(final_value(*accuracy_table(result, m)),
                                               "mean over the last 5% of the run")  # fmt: skip
    return out
