"""Constructed depth_wave results (for falsify.py): per seed, every member's accuracy curve on
the fast case's evaluation grid, each variant following the main model until its chosen
divergence step and 20% below it after, the main model's train-mode layer means turning
negative at chosen steps, predictions drawn to match the accuracies; laid out exactly as the
experiment stores them (frames `curves`, `preact`, `runs`; scalars; arrays)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np

from sgdclaims.claims.depth_wave.config import CASES, TWINS, DepthWaveConfig
from sgdclaims.claims.depth_wave.experiment import evaluations, member_frames
from sgdclaims.runner import Result, UnitResult, combine

NEVER = float("inf")
CLASSES = 10
#: the main model's final accuracy and the logistic regression's (headroom holds)
MAIN_FINAL, LOGISTIC = 0.75, 0.5


@dataclasses.dataclass
class Seed:
    """One constructed seed: the divergence step of each member (NEVER = tracks the main
    model; absent = NEVER), each layer's t_neg (NEVER = stays at 0), the runs that collapse
    to one class or whose loss turns NaN from a step on."""

    d: dict[str, float]
    t_neg: list[float]
    collapsed: dict[str, float] = dataclasses.field(default_factory=dict)
    nan: dict[str, float] = dataclasses.field(default_factory=dict)


def fast_config() -> DepthWaveConfig:
    """The fast case's config (its evaluation grid, members and seeds)."""
    return CASES.config("fast", CASES.datasets("fast")[0])


def unit(cfg: DepthWaveConfig, seed: int, plan: Seed, n_test: int = 2000) -> UnitResult:
    """One seed's stored result, as the experiment would leave it."""
    labels, steps = cfg.labels(), evaluations(cfg)[0]
    t = steps.astype(float)
    main = 0.1 + (MAIN_FINAL - 0.1 + 0.01 * seed) * (1 - np.exp(-t / 25))
    acc = np.stack([np.where(t >= plan.d.get(lab, NEVER), 0.8, 1.0) * main for lab in labels])
    acc -= 0.002 * np.arange(len(labels))[:, None] * (t > 0)
    classes = np.full(acc.shape, CLASSES)
    diverged, at, loss = [""] * len(labels), np.full(len(labels), -1), np.exp(-t / 50)
    loss = np.tile(loss, (len(labels), 1))
    for lab, start in {**plan.collapsed, **plan.nan}.items():
        i = labels.index(lab)
        acc[i, t >= start], classes[i, t >= start] = 1.0 / CLASSES, 1
    for lab, start in plan.nan.items():
        i = labels.index(lab)
        diverged[i], at[i], loss[i, t >= start] = "loss not finite", int(start), np.nan
    layers = len(cfg.layer_specs())
    preact = np.zeros((len(labels), layers, len(t)))
    for layer, start in enumerate(plan.t_neg):
        preact[0, layer, t >= start] = -0.2
    y = np.arange(n_test) % CLASSES
    draws = np.random.default_rng(seed).random((len(labels), len(t), n_test))
    preds = np.where(draws < acc[..., None], y, (y + 1) % CLASSES).astype(np.int16)
    out = {
        "steps": steps,
        "lr": np.full(len(t), cfg.lr),
        "acc": (preds == y).mean(-1),
        "train_loss": loss,
        "val_loss": loss,
        "n_predicted": classes,
        "preact": preact,
        "diverged": diverged,
        "diverged_at": at,
    }
    return UnitResult(
        frames=member_frames(labels, out),
        scalars={"acc_logistic": LOGISTIC, "l_iterations": 100.0, "l_max_iter": 500},
        arrays={"preds": preds, "y_test": y},
        provenance={
            "dataset": "constructed",
            "source": "constructed (sgdclaims.claims.depth_wave.falsify)",
            "synthetic": True,
            "n_train": 0,
            "n_val": 0,
            "n_test": n_test,
            "num_classes": CLASSES,
            "variants": list(labels),
            "first": list(labels[: len(cfg.ks)]),
            "last": [f"last{k}" for k in cfg.last_ks],
            "twins": list(TWINS),
            "layers": layers,
            "steps": cfg.steps,
        },
    )


def result_of(plans: Mapping[int, Seed]) -> Result:
    """A Result of constructed seeds, as run_units would combine them."""
    cfg = fast_config()
    units = {seed: unit(cfg, seed, plan) for seed, plan in plans.items()}
    return combine(cfg, "constructed", list(units), units, 0.0, 0)
