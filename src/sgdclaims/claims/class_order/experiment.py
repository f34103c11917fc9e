"""class_order's experiment (Schouten & Toonen 2023, Sec. 3.2-4.3).

Per seed a linear model, the paper's CNN and the small torchvision ViT are trained side by
side on 10 classes (plain SGD, the same data order); at each checkpoint `measure` stores the
per-class I(F_t;Y=c) (their eq. 3), I(F_t;Y=c|L) (eq. 4; plug-in and Miller-Madow) with L
the seed's final linear model, mu_c and the recall, from the test predictions, for each model
and for the class-blind surrogates of the CNN and the ViT.
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from typing import Any

from torch import nn

from sgdclaims import validate as checks
from sgdclaims.claims.class_order.config import (
    MIN_TEST,
    MODELS,
    NUM_CLASSES,
    SHAPES,
    ClassOrderConfig,
)
from sgdclaims.claims.class_order.measure import measure
from sgdclaims.data import Dataset, load, subsample
from sgdclaims.data.tasks import require_usable_splits, stratified_test
from sgdclaims.models import LinearClassifier, PaperCNN, seeded, small_vit
from sgdclaims.runner import Result, RunContext, UnitResult, run_units
from sgdclaims.training import train_sgd


def check_data(cfg: ClassOrderConfig, data: Dataset) -> None:
    """Raise ValueError unless the data fit the models built for cfg (shape, channels, 10
    classes, enough test examples); called before any training."""
    shape, expected = tuple(data.x_train.shape[1:]), SHAPES[cfg.dataset]
    if len(shape) == 3 and shape[0] != expected[0]:
        raise ValueError(
            f"{data.info.display} has {shape[0]} channels; the models for "
            f"{cfg.dataset} take {expected[0]}"
        )
    if shape != expected:
        raise ValueError(f"{data.info.display}: inputs {shape}, the models take {expected}")
    if data.num_classes != NUM_CLASSES:
        raise ValueError(f"{data.info.display} has {data.num_classes} classes, need 10")
    require_usable_splits(data, min_test=MIN_TEST, num_classes=NUM_CLASSES)


def load_task(cfg: ClassOrderConfig, data_root: Any = None) -> Dataset:
    """The 10-class task of the config: training subset, stratified test subset, checked."""
    data = load(cfg.dataset, data_root, require_full=cfg.require_full)
    data = subsample(data, cfg.n_train, None, cfg.subset_seed)
    data = stratified_test(data, cfg.n_test, cfg.subset_seed)
    check_data(cfg, data)
    cfg.total_steps(len(data.x_train))
    return data


def make_model(
    cfg: ClassOrderConfig, name: str, shape: tuple[int, int, int], seed: int
) -> nn.Module:
    """Model `name` at initialisation from `seed`: linear, the paper's CNN or the small ViT."""
    checks.require_choice("model", name, MODELS)
    if name == "linear":
        return seeded(lambda: LinearClassifier(shape, NUM_CLASSES), seed)
    if name == "cnn":
        return seeded(lambda: PaperCNN(shape, NUM_CLASSES), seed)
    return seeded(
        lambda: small_vit(
            shape,
            NUM_CLASSES,
            patch_size=cfg.vit_patch_size,
            num_layers=cfg.vit_layers,
            num_heads=cfg.vit_heads,
            hidden_dim=cfg.vit_hidden,
            mlp_dim=cfg.vit_mlp,
        ),
        seed,
    )


def train_seed(cfg: ClassOrderConfig, data: Dataset, seed: int, device: str) -> UnitResult:
    """Train every model for one seed (its init; the same data order for all) and measure
    each, and its class-blind surrogate, against the seed's final linear model."""
    steps = cfg.total_steps(len(data.x_train))
    marks = cfg.checkpoints(steps)
    trajectories, seconds = {}, {}
    for name in MODELS:
        model = make_model(cfg, name, SHAPES[cfg.dataset], seed)
        start = time.process_time()
        trajectories[name] = train_sgd(
            model,
            data,
            steps=steps,
            lr=cfg.linear_lr if name == "linear" else cfg.lr,
            checkpoints=marks,
            data_seed=seed,
            batch_size=cfg.batch_size,
            device=device,
        )
        seconds[name] = time.process_time() - start
    frames = measure(trajectories, data.y_test, seed, len(data.x_train) // cfg.batch_size)
    frames["runs"]["cpu_seconds"] = frames["runs"]["model"].map(seconds)
    return UnitResult(frames=frames, scalars={"steps": float(steps)})


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
                dataset=data.info.display,
                source=data.info.source,
                subset=data.info.subset,
                n_train=len(data.x_train),
                n_test=len(data.x_test),
                classes=", ".join(data.info.classes),
                steps=cfg.total_steps(len(data.x_train)),
                L="the seed's linear model at the end of its SGD run (raw pixels)",
                surrogate="per model and checkpoint: right on round(a_t n_c) random test "
                "images of every class c at the model's test accuracy a_t, otherwise uniform "
                "over the other classes; redrawn at every checkpoint",
            )
        out = train_seed(cfg, loaded[0], int(unit), context.device)  # type: ignore[arg-type]
        out.provenance = dict(provenance)
        return out

    return run_units(cfg, list(cfg.seeds), compute, context, label=f"class_order {cfg.dataset}")
