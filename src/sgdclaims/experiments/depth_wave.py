"""depth_wave (Pinson et al., Sec. 2-3, App. A): the main BaseNet and its partly-linear
variants (first k activations identity) from identical initial weights and data order, as
members of one grouped model trained in one batched SGD run per seed (sgdclaims.depth);
test accuracy, validation loss and mean preactivations per layer at regular evaluations;
logistic regression on the same inputs (`headroom`)."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Hashable
from typing import Any, ClassVar

import numpy as np
import torch

from sgdclaims import depth
from sgdclaims.config import (
    Cases,
    Config,
    Set,
    require_choice,
    require_non_negative,
    require_positive,
    require_seeds,
)
from sgdclaims.curves import final_mask, final_value
from sgdclaims.data import Dataset, load, multiclass_task, subsample
from sgdclaims.data.synthetic_variants import VARIANTS, load_variant
from sgdclaims.info import performance_correlation
from sgdclaims.models import BaseNet, LinearClassifier, basenet18_layers, partly_linear_mask
from sgdclaims.models.basenet import min_side, narrow_layers
from sgdclaims.ranking import spearman
from sgdclaims.runner import Result, RunContext, UnitResult, run_units
from sgdclaims.training import checkpoint_steps, fit_logistic, predict
from sgdclaims.values import Statistics, Value, seed_mean

DATASETS = ("imagenet", "cifar10", "fashion_mnist", "mnist", *VARIANTS)
#: CLAIMS.md thresholds (the spec reads them from here; the shuffle controls count passes)
WAVE_RHO, LINEAR_FIRST, DEEP_RHO = -0.8, 0.10, -0.5


@dataclasses.dataclass(frozen=True)
class DepthWaveConfig(Config):
    """BaseNet18 and its partly-linear variants; defaults are the paper's ImageNet setting
    (n_val: the held-out training images whose loss drives the plateau rule; the paper does
    not say which validation set it used)."""

    SMOKE: ClassVar[dict[str, Any]] = {
        "n_train": 64, "n_val": 16, "n_test": 24, "steps": 10, "batch_size": 4,
        "eval_every": 2, "n_preact": 8, "plateau_patience": 1, "l_max_iter": 5,
        "image_side": lambda c: min_side(c.layer_specs()),
        "ks": lambda c: (0, c.ks[len(c.ks) // 2], None), "seeds": lambda c: c.seeds[:2],
    }  # fmt: skip

    dataset: str = "imagenet"
    classes: tuple[int, ...] | None = None
    image_side: int | None = 224
    augment: bool = True
    n_train: int | None = None
    n_val: int = 10_000
    n_test: int | None = None
    subset_seed: int = 0
    arch: str = "basenet18"
    stem: str = "imagenet"
    width: int = 8
    convs_per_stage: tuple[int, ...] = (3, 3, 3)
    ks: tuple[int | None, ...] = (0, 3, 5, 7, 9, 11, 13, 15, None)
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    steps: int = 40_000
    batch_size: int = 256
    lr: float = 0.1
    momentum: float = 0.9
    plateau_patience: int | None = 10
    plateau_factor: float = 0.1
    eval_every: int = 500
    n_preact: int = 500
    l_max_iter: int = 500

    def validate(self) -> None:
        """Raise ValueError naming the field (and the allowed range) for a config that
        cannot run, before any data is read."""
        require_choice("dataset", self.dataset, DATASETS)
        require_choice("arch", self.arch, ("basenet18", "narrow"))
        require_choice("stem", self.stem, ("imagenet", "cifar", "small"))
        require_seeds("seeds", self.seeds)
        if len(self.seeds) < 2:
            raise ValueError(f"seeds must hold >= 2 seeds (seed-noise control), got {self.seeds}")
        positive = ("steps", "batch_size", "eval_every", "n_preact", "width", "n_val", "lr",
                    "l_max_iter", "n_train", "n_test", "image_side")  # fmt: skip
        for name in positive:
            if getattr(self, name) is not None:
                require_positive(name, getattr(self, name))
        for name in ("subset_seed", "plateau_patience"):
            if getattr(self, name) is not None:
                require_non_negative(name, getattr(self, name))
        if not 0 <= self.momentum < 1 or not 0 < self.plateau_factor <= 1:
            raise ValueError(f"momentum must be in [0, 1) and plateau_factor in (0, 1], got "
                             f"{self.momentum}, {self.plateau_factor}")  # fmt: skip
        if self.steps // self.eval_every < 5:
            raise ValueError(f"eval_every {self.eval_every} leaves fewer than 5 evaluations "
                             f"in {self.steps} steps (Savitzky-Golay needs 5)")  # fmt: skip
        need, n_layers = min_side(self.layer_specs()), len(self.layer_specs())
        if self.image_side is not None and self.image_side < need:
            raise ValueError(f"image_side {self.image_side} is too small for the {self.arch} "
                             f"stem '{self.stem}' (needs >= {need})")  # fmt: skip
        if len(self.ks) < 3 or self.ks[0] != 0 or len(set(self.ks)) != len(self.ks):
            raise ValueError(f"ks must be distinct, start with 0 (the main model) and hold >= 2 "
                             f"variants, got {self.ks}")  # fmt: skip
        bad = [k for k in self.ks if k is not None and not 0 <= k <= n_layers]
        if bad:
            raise ValueError(f"ks {bad} outside 0..{n_layers} (the model's layers; None = all)")

    def layer_specs(self):
        """The BaseNet layer list of this config."""
        if self.arch == "narrow":
            return narrow_layers(self.width, self.convs_per_stage)
        return basenet18_layers(self.stem)


_FMNIST_FULL = "Fashion-MNIST is in every full tier (CLAIMS.md); BaseNet18 as on CIFAR-10"
CASES = Cases(
    DepthWaveConfig,
    full={
        "cifar10": {
            "dataset": Set("cifar10", "CLAIMS.md: BaseNet18 on CIFAR-10, the feasible GPU scale"),
            "stem": Set("cifar", "the 3x3/1 stem for 32x32 images, as ResNets on CIFAR-10"),
            "image_side": Set(None, "CIFAR-10's own 32x32 images"),
            "steps": Set(20_000, "~100 epochs at batch 256; the paper gives its batch count "
                         "for ImageNet only"),
            "eval_every": Set(250, "80 evaluations, the same density as the ImageNet run"),
        },
        "imagenet": {
            "image_side": Set(None, "the registry's in-memory ImageNet loader reads 64x64 "
                              "images, at most 260 training images per class; the paper trains "
                              "on 224x224 random-resized crops of all 1.28M images, which needs "
                              "a streaming loader this harness lacks. Augmentation here: random "
                              "crops (zero-padded by 1/8) and flips of the 64x64 images"),
        },
        "fashion_mnist": {
            "dataset": Set("fashion_mnist", _FMNIST_FULL),
            "stem": Set("cifar", "the 3x3/1 stem for 28x28 images"),
            "image_side": Set(None, "Fashion-MNIST's own 28x28 images"),
            "steps": Set(20_000, "~90 epochs of 55,000 images at batch 256 (as on CIFAR-10)"),
            "eval_every": Set(250, "80 evaluations, as on CIFAR-10"),
        },
    },
    fast={
        "fashion_mnist_polarity": {
            "dataset": Set("fashion_mnist_polarity", "a named synthetic task on which a linear "
                           "readout is near chance (CLAIMS.md `headroom`): 10-class Fashion-"
                           "MNIST with a random half of the images contrast-inverted. On real "
                           "10-class Fashion-MNIST and MNIST at 14 px logistic regression came "
                           "within 5% + 2 points of what a narrow BaseNet reached in this "
                           "budget (the issue-14 note lists the tries)"),
        },
    },
    fast_common={
        "image_side": Set(14, "14x14 (area-downsampled) images: 4x fewer pixels (CPU time)"),
        "augment": Set(False, "no augmentation: the run sees each image less than once"),
        "n_val": Set(500, "a 500-image validation split for the plateau rule (CPU time)"),
        "n_test": Set(2_000, "a seeded class-stratified 2,000-image test subset (CLAIMS.md)"),
        "arch": Set("narrow", "CLAIMS.md fast scale: a narrow BaseNet of 10 conv layers"),
        "stem": Set("small", "the 3x3/1 stem for 14x14 inputs"),
        "ks": Set((0, 2, 4, 6, 8, None), "CLAIMS.md fast scale: k in {0,2,4,6,8,all}"),
        "seeds": Set((0, 1, 2), "3 seeds (CLAIMS.md fast scale)"),
        "steps": Set(160, "160 steps at the paper's batch 256 and lr 0.1 (~0.7 epochs): 3 "
                     "seeds x 6 variants take ~5 of CLAIMS.md's 7 CPU minutes, cold (measured)"),
        "eval_every": Set(4, "41 evaluations, half the paper's 80 (an evaluation of 2,500 "
                          "images costs about 4 training steps)"),
        "plateau_patience": Set(5, "scaled to the run: 5 of 40 evaluations, as 10 of 80"),
    },
)  # fmt: skip


# --- data ---------------------------------------------------------------------------------


Task = tuple[Dataset, torch.Tensor, torch.Tensor]  # training/test data, validation x and y


def load_task(cfg: DepthWaveConfig, data_root: Any = None) -> Task:
    """The (sub)task of cfg: classes, a validation split, subsets, the image side,
    standardised (sgdclaims.depth.image_splits); checked before any training."""
    ds = load_variant(cfg.dataset, data_root) if cfg.dataset in VARIANTS else load(
        cfg.dataset, data_root)  # fmt: skip
    ds = multiclass_task(ds, cfg.classes)
    present = int(torch.unique(ds.y_train).numel())
    if ds.num_classes < 2 or present < 2:
        raise ValueError(f"{ds.info.display} has {present} class(es) in its training split; "
                         "depth_wave needs at least 2")  # fmt: skip
    ds, x_val, y_val = depth.image_splits(
        ds, cfg.n_val, cfg.n_test, cfg.image_side, cfg.subset_seed
    )
    return subsample(ds, cfg.n_train, None, cfg.subset_seed), x_val, y_val


# --- one seed -------------------------------------------------------------------------------


def train_seed(cfg: DepthWaveConfig, task: Task, seed: int) -> dict[str, Any]:
    """One seed: every k as a member of one grouped BaseNet from the same initial weights."""
    data, x_val, y_val = task
    model = BaseNet(cfg.layer_specs(), data.info.shape, data.num_classes, members=len(cfg.ks))
    model.init_members([seed] * len(cfg.ks))
    model.set_relu(partly_linear_mask(model.num_layers, cfg.ks))
    # checkpoints every eval_every steps (3 of them in the last 5%: CLAIMS.md's final value)
    marks = checkpoint_steps(cfg.steps, dense_until=1, n_dense=0, every=cfg.eval_every)
    plan = depth.MemberSchedule(cfg.steps, cfg.batch_size, cfg.lr, cfg.momentum,
                                cfg.plateau_patience, cfg.plateau_factor, cfg.augment, marks,
                                cfg.n_preact)  # fmt: skip
    return depth.train_members(model.to(data.x_train.device), (data.x_train, data.y_train),
                               (x_val, y_val), (data.x_test, data.y_test), plan, seed)  # fmt: skip


def logistic(cfg: DepthWaveConfig, data: Dataset) -> float:
    """Test accuracy of logistic regression on the same inputs (L-BFGS to convergence)."""
    model = LinearClassifier(data.info.shape, data.num_classes).to(data.x_train.device)
    fit_logistic(model, data.x_train, data.y_train, weight_decay=1e-4, max_iter=cfg.l_max_iter)
    return (predict(model, data.x_test) == data.y_test).float().mean().item()


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
            frames=depth.member_frames(labels, out), scalars={"acc_logistic": acc_l},
            arrays={"preds": out["preds"], "y_test": data.y_test.cpu().numpy()},
            provenance={
                "dataset": data.info.display, "source": data.info.source,
                "synthetic": data.info.synthetic, "n_train": len(data.x_train),
                "n_val": len(x_val), "n_test": len(data.x_test), "num_classes": data.num_classes,
                "variants": labels, "layers": int(out["preact"].shape[1]),
            },
        )  # fmt: skip

    return run_units(cfg, list(cfg.seeds), compute, context, label=f"depth_wave {cfg.dataset}")


# --- the claim's values (shared/CLAIMS.md, depth_wave) ---------------------------------------

statistics = Statistics()


def accuracy_curves(result: Result) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Evaluation steps, variant labels (config order) and accuracy (seeds, variants, T)."""
    labels = list(result.provenance["variants"])
    acc = [[s[s["variant"] == v]["acc"].to_numpy() for v in labels]
           for s in result.per_unit("curves")]  # fmt: skip
    steps = result.per_unit("curves")[0].query("variant == '0'")["step"].to_numpy()
    return steps, labels, np.asarray(acc, dtype=float)


def preactivation_curves(result: Result, variant: str) -> tuple[np.ndarray, np.ndarray]:
    """Evaluation steps and mean preactivations (seeds, layers, T) of one variant."""
    n_layers = int(result.provenance["layers"])
    frames = [f[f["variant"] == variant].sort_values(["layer", "step"])
              for f in result.per_unit("preact")]  # fmt: skip
    steps = np.sort(frames[0]["step"].unique())
    return steps, np.stack([f["mean"].to_numpy().reshape(n_layers, -1) for f in frames])


def depth_of(label: str, n_layers: int) -> int:
    """Identity layers of a variant label ('all' = every layer)."""
    return n_layers if label == "all" else int(label)


def _setup(result: Result):
    steps, labels, acc = accuracy_curves(result)
    n_layers = int(result.provenance["layers"])
    chance = 1.0 / int(result.provenance["num_classes"])
    return steps, labels, acc, n_layers, chance


@statistics.returns("headroom", "accuracy_logistic", "final_accuracy_main")
def _headroom(result: Result) -> dict[str, Value]:
    steps, labels, acc, _, _ = _setup(result)
    acc_l = float(result.scalars["acc_logistic"].iloc[0])
    final = final_value(steps, acc)  # (seeds, variants)
    others = {f"final acc k={lab}": float(final[:, i].mean()) for i, lab in enumerate(labels)}
    return {
        "headroom": seed_mean(0.95 * final[:, 0] - 0.02 - acc_l,
                              "0.95 x main final accuracy - 2 points - logistic accuracy",
                              logistic=acc_l, main=float(final[:, 0].mean()), **others),
        "accuracy_logistic": Value(acc_l, note="logistic regression on the same inputs"),
        "final_accuracy_main": seed_mean(final[:, 0], "final test accuracy of the main model"),
    }  # fmt: skip


@statistics.returns(
    "wave_monotone", "wave_monotone_control", "linear_diverges_first",
    "linear_diverges_first_control",
)  # fmt: skip
def _wave(result: Result) -> dict[str, Value]:
    steps, labels, acc, n_layers, chance = _setup(result)
    depths = [depth_of(lab, n_layers) for lab in labels if lab != "0"]
    d = depth.divergences(steps, labels, acc.mean(0), chance)
    per_seed = [depth.divergences(steps, labels, a, chance) for a in acc]

    def rho(_: int, ds: Any) -> float:  # Spearman, inf ranked last; NaN for a diverged run
        ds = np.asarray(list(ds), dtype=float)
        return float("nan") if np.isnan(ds).any() else spearman(depths, ds)

    control, n = depth.shuffled_pass_fraction([np.array(list(d.values()))], rho, WAVE_RHO)
    seed_control = [depth.shuffled_pass_fraction([np.array(list(s.values()))], rho, WAVE_RHO)[0]
                    for s in per_seed]  # fmt: skip
    total = float(steps[-1])
    pairs = [depth.divergence_step(steps, acc[i, 0], acc[j, 0], chance) / total
             for i, j in itertools.permutations(range(len(acc)), 2)]  # fmt: skip
    return {
        "wave_monotone": Value(rho(0, d.values()), [rho(0, s.values()) for s in per_seed],
                               "Spearman rho(k, d(k)) over k in {2..all}, d from seed-mean "
                               "curves; per seed from each seed's curves",
                               {f"d({k})": v for k, v in d.items()}),
        "wave_monotone_control": Value(control, seed_control, f"share of the {n} shuffles of "
                                       f"d over k with rho <= {WAVE_RHO}"),
        "linear_diverges_first": Value(d["all"] / total, [s["all"] / total for s in per_seed],
                                       f"d(all) / {total:g} steps", {"d(all)": d["all"]}),
        "linear_diverges_first_control": seed_mean(
            pairs, "d between two main-model seeds / steps, the mean over every ordered pair "
            "(CLAIMS.md common ground: a statistic is the mean over seeds): seed noise alone"),
    }  # fmt: skip


@statistics.returns("layers_turn", "preact_deep_first", "preact_deep_first_control")
def _deep_first(result: Result) -> dict[str, Value]:
    steps, pre = preactivation_curves(result, "0")
    after = steps > 0  # step 0: BN running statistics not yet estimated
    fits = [depth.deep_first_correlation(steps[after], p[:, after]) for p in pre]
    t_neg = [t for _, t in fits]
    turning = [int(np.isfinite(t).sum()) for t in t_neg]
    negative = [np.flatnonzero(np.isfinite(t)) for t in t_neg]

    def rho_of(order: np.ndarray, seed: int) -> float:
        return spearman(negative[seed], t_neg[seed][order]) if len(order) > 1 else np.nan

    control, n = depth.shuffled_pass_fraction(negative, lambda s, o: rho_of(o, s), DEEP_RHO)
    details = {f"t_neg({layer}) seed {s}": float(t) for s, ts in enumerate(t_neg)
               for layer, t in enumerate(ts)}  # fmt: skip
    return {
        "layers_turn": Value(min(turning), turning, "fewest layers of the main model with a "
                             "t_neg in any seed (each seed's rho needs them)"),
        "preact_deep_first": seed_mean([r for r, _ in fits], "Spearman rho(l, t_neg(l)) over "
                                       "the layers that go below -0.05, per seed", **details),
        "preact_deep_first_control": Value(control, note=f"share of {n} shuffles of each "
                                           f"seed's layer order with mean rho <= {DEEP_RHO}"),
    }  # fmt: skip


def _final_abs(result: Result, variant: str, from_layer: int = 0) -> np.ndarray:
    """(seeds,) final value of the mean |preactivation mean| over layers >= from_layer."""
    steps, pre = preactivation_curves(result, variant)
    return final_value(steps, np.abs(pre[:, from_layer:]).mean(1))


@statistics.returns("linear_layers_near_zero", "linear_layers_near_zero_control")
def _near_zero(result: Result) -> dict[str, Value]:
    labels = list(result.provenance["variants"])
    main, linear = _final_abs(result, "0"), _final_abs(result, "all")
    middle = [lab for lab in labels if lab not in ("0", "all")]
    control = np.mean([_final_abs(result, lab, int(lab)) / _final_abs(result, "0", int(lab))
                       for lab in middle], axis=0)  # fmt: skip
    return {
        "linear_layers_near_zero": seed_mean(linear / main, "final mean |preactivation mean| "
                                             "of the fully linear model / the main model's",
                                             linear=float(linear.mean()), main=float(main.mean())),
        "linear_layers_near_zero_control": seed_mean(control, "the same ratio for the ReLU "
                                                     "layers (k..) of the partly-linear variants "
                                                     "vs the main model's, mean over k"),
    }  # fmt: skip


@statistics.returns("mu_baseline")
def _mu(result: Result) -> dict[str, Value]:
    steps, labels, _, _, _ = _setup(result)
    tail = final_mask(steps)
    preds = [result.arrays[u]["preds"][:, tail] for u in result.units]
    y = result.arrays[result.units[0]]["y_test"]
    mu = lambda f, g: float(np.mean(performance_correlation(f, y, g)))  # noqa: E731
    n = len(preds)
    between = [np.mean([mu(preds[i][0], preds[j][0]) for j in range(n) if j != i])
               for i in range(n)]  # fmt: skip
    variants = {f"mu(M;P_{lab})": float(np.mean([mu(p[0], p[v]) for p in preds]))
                for v, lab in enumerate(labels) if lab != "0"}  # fmt: skip
    note = "bits, mu_Y(M_i;M_j) between main-model seeds (final checkpoints); mu(M;P_k) beside it"
    return {"mu_baseline": seed_mean(between, note, **variants)}
