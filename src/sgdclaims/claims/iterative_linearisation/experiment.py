"""iterative_linearisation's experiment (Goldwaser & Ge, Sec. 3-4, Alg. 1, App. A, Fig. 1-2).

Full-batch GD on the LeNet-5 variant (50 channels) linearised around theta_s, refreshed
every K steps, per K and seed at the main step and a larger one; the control refreshes the
features from a different random network's Jacobian; a float64 check that K = 1 is plain GD
(K = 2 its control); the sharpness of the linearised loss along K = 1 (stable for
lr < 2 / sharpness). Units: one per run, one K = 1 check per seed, one step-cost
measurement. Each run is stored as two tidy tables, 'curves' (checkpoints) and 'loss'
(every step), its rows tagged with seed, features, K and which step ('main', 'unstable').
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch.nn import functional as F

from sgdclaims import linearise as lin
from sgdclaims.claims.iterative_linearisation.config import INF, IterativeLinearisationConfig
from sgdclaims.data import Dataset, load, standardize
from sgdclaims.data.tasks import stratified_indices, stratified_test
from sgdclaims.models.lenet import LeNet50
from sgdclaims.models.seeding import seeded
from sgdclaims.runner import Result, RunContext, UnitResult, run_units
from sgdclaims.streams import Streams

#: the data subsets' seeds, offsets from the config's subset_seed
STREAMS = Streams({"train_subset": 0, "test_subset": 1})
#: the control's random network of window w in a run of seed s: CONTROL_STRIDE (s + 1) + w
CONTROL_STRIDE = 1_000_003


def control_seed(seed: int, window: int) -> int:
    """The seed of the random network whose Jacobian the control uses in `window`."""
    return CONTROL_STRIDE * (seed + 1) + window


def load_data(cfg: IterativeLinearisationConfig, data_root: Any = None) -> Dataset:
    """The config's data set: seeded class-stratified subsets of both splits (CLAIMS.md),
    resized and standardised if asked."""
    ds = load(cfg.dataset, data_root, require_full=cfg.require_full)
    n = len(ds.y_train) if cfg.n_train is None else cfg.n_train
    if n > len(ds.y_train):
        raise ValueError(
            f"n_train {n} exceeds the {len(ds.y_train)} training images of {ds.info.display}"
        )
    if n < len(ds.y_train):
        idx = stratified_indices(ds.y_train, n, STREAMS.seed("train_subset", cfg.subset_seed))
        info = dataclasses.replace(
            ds.info, subset=True, n_train=n, display=f"{ds.info.display} [train: {n} stratified]"
        )
        ds = dataclasses.replace(ds, x_train=ds.x_train[idx], y_train=ds.y_train[idx], info=info)
    ds = stratified_test(ds, cfg.n_test, STREAMS.seed("test_subset", cfg.subset_seed))
    if cfg.side is not None:
        size = (cfg.side,) * 2
        x = F.interpolate(ds.x_train, size=size, mode="area")
        x_test = F.interpolate(ds.x_test, size=size, mode="area")
        info = dataclasses.replace(ds.info, shape=tuple(x.shape[1:]))
        ds = dataclasses.replace(ds, x_train=x, x_test=x_test, info=info)
    return standardize(ds) if cfg.standardise else ds


def run_frames(run: lin.LinearisedRun, **ident: Any) -> dict[str, pd.DataFrame]:
    """A run as tidy frames, each row tagged with `ident` (seed, K, ...): 'curves' (test
    accuracy and sharpness at the checkpoints) and 'loss' (train loss per step)."""
    curves = pd.DataFrame(
        {**ident, "step": run.steps, "test_acc": run.test_acc, "sharpness": run.sharpness}
    )
    steps = np.arange(len(run.train_loss))
    loss = pd.DataFrame({**ident, "step": steps, "train_loss": run.train_loss})
    return {"curves": curves, "loss": loss}


class _Units:
    """Computes the units of a config; the data (on the device) and the traced programs are
    shared by all of them."""

    def __init__(self, cfg: IterativeLinearisationConfig, context: RunContext) -> None:
        self.cfg, self.device, self.programs = cfg, context.device, lin.TangentPrograms()
        self.data = load_data(cfg, context.data_root).to(context.device)
        info = self.data.info
        pixels = "standardised" if cfg.standardise else "raw pixels in [0, 1]"
        self.provenance = {
            "dataset": info.display,
            "source": info.source,
            "n_train": info.n_train,
            "n_test": info.n_test,
            "model": f"LeNet-5, {cfg.channels} channels per conv layer",
            "inputs": f"{info.shape[1]}x{info.shape[2]}, " + pixels,
        }

    def model(self, seed: int) -> torch.nn.Module:
        shape, k, c = tuple(self.data.info.shape), self.data.num_classes, self.cfg.channels
        return seeded(lambda: LeNet50(shape, k, channels=c), seed).to(self.device)

    def __call__(self, unit: Hashable) -> UnitResult:
        kind = unit[0]  # type: ignore[index]
        if kind == "k1":
            return self.k1(unit[1])  # type: ignore[index]
        if kind == "cost":
            return self.cost()
        _, seed, features, label, which = unit  # type: ignore[misc]
        return self.run(seed, features, label, which)

    def k1(self, seed: int) -> UnitResult:
        """K = 1 and K = 2 against autograd GD, float64, at the main lr."""
        cfg, data, n = self.cfg, self.data, self.cfg.k1_n
        lr = cfg.lr(len(data.x_train))
        small = Dataset(
            data.x_train[:n].double(),
            data.y_train[:n],
            data.x_test[:n].double(),
            data.y_test[:n],
            data.info,
        )
        errs = lin.gd_agreement(self.model(seed).double(), small, lr=lr, steps=cfg.k1_steps)
        scalars = {"seed": float(seed), "k1_rel_err": errs[1.0], "k2_rel_err": errs[2.0]}
        return UnitResult(scalars=scalars, provenance=self.provenance)

    def cost(self) -> UnitResult:
        """Step-cost timings: reported, not reproducible exactly."""
        data = self.data
        costs = lin.step_costs(self.model(0), data.x_train, data.y_train, reps=self.cfg.cost_reps)
        scalars = {f"cost_{k}": v for k, v in costs.items()}
        return UnitResult(scalars=scalars, provenance=self.provenance)

    def run(self, seed: int, features: str, label: str, which: str) -> UnitResult:
        """One linearised run of period K = label at the main or the large step."""
        cfg, data, t0 = self.cfg, self.data, time.process_time()
        period = INF if label == "inf" else int(label)
        eta = cfg.unstable_eta if which == "unstable" else None
        lr = cfg.lr(len(data.x_train), eta)
        run = lin.train_linearised(
            self.model(seed),
            data,
            period=period,
            steps=cfg.steps,
            lr=lr,
            checkpoints=cfg.checkpoints(),
            features=features,
            device=self.device,
            control_factory=lambda window: self.model(control_seed(seed, window)),
            sharpness=period == 1 and which == "main",
            programs=self.programs,
        )
        ident = {"seed": seed, "features": features, "K": float(period), "which": which}
        scalars = {
            **ident,
            "lr": lr,
            "diverged_at": float(run.diverged_at),
            "cpu_seconds": time.process_time() - t0,
        }
        return UnitResult(run_frames(run, **ident), scalars, provenance=self.provenance)


def units(cfg: IterativeLinearisationConfig) -> list[tuple]:
    """Per seed the K = 1 check, the main, control and large-step runs; the step costs."""
    out: list[tuple] = []
    for s in cfg.seeds:
        out.append(("k1", s))
        out += [("run", s, "own", lin.k_label(k), "main") for k in cfg.periods]
        out += [("run", s, "random", lin.k_label(k), "main") for k in cfg.control_periods]
    for s in cfg.seeds_of("unstable"):
        out += [("run", s, "own", lin.k_label(k), "unstable") for k in cfg.unstable_periods]
    return [*out, ("cost",)]


def run(cfg: IterativeLinearisationConfig, context: RunContext) -> Result:
    """All units of cfg, cached one by one; the data are loaded (onto context.device) only
    when a unit has to be computed."""
    made: list[_Units] = []

    def compute(unit: Hashable) -> UnitResult:
        if not made:
            made.append(_Units(cfg, context))
        return made[0](tuple(unit))  # type: ignore[arg-type]

    return run_units(cfg, units(cfg), compute, context, label=f"{cfg.dataset} linearised")
