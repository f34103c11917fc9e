"""iterative_linearisation's experiment (Goldwaser & Ge, Sec. 3-4, Alg. 1, App. A, Fig. 1-2).

Full-batch GD on the LeNet-5 variant (50 channels) linearised around theta_s, refreshed every
K steps. One unit per K trains every run of that K in one computation
(sgdclaims.linearise.train_group): each seed at the main and at the larger step, and for a
control K the runs whose features come from a different random network after the first
window. Units 'k1' (a float64 check that K = 1 is plain GD, K = 2 its control) and 'cost'
(step timings) complete it. Stored tables: 'curves' (checkpoints), 'loss' (every step), 'runs'
(one row per run: divergence rule and step, sharpness), 'k1'; rows tagged with seed,
features ('own', 'random'), K and which step ('main', 'large').
"""

from __future__ import annotations

import dataclasses
import math
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
from sgdclaims.models.lenet import LeNet50, LeNetGroup
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


def run_frames(run: lin.MemberRun, **ident: Any) -> dict[str, pd.DataFrame]:
    """A run as tidy frames tagged with `ident` (seed, K, ...): 'curves' (checkpoints), 'loss'
    (training loss per step) and 'runs' (one row: divergence, sharpness)."""
    curves = pd.DataFrame(
        {
            **ident,
            "step": run.steps,
            "test_acc": run.test_acc,
            "net_acc": run.net_acc,
            "n_predicted": run.n_predicted,
        }
    )
    steps = np.arange(len(run.train_loss))
    loss = pd.DataFrame({**ident, "step": steps, "train_loss": run.train_loss})
    sharp = {f"sharpness_{s}": v for s, v in run.sharpness.items()}
    row = {**ident, "diverged": run.diverged, "diverged_at": float(run.diverged_at), **sharp}
    return {"curves": curves, "loss": loss, "runs": pd.DataFrame([row])}


class _Units:
    """Computes the units of a config; the data (on the device) are shared by all of them."""

    def __init__(self, cfg: IterativeLinearisationConfig, context: RunContext) -> None:
        self.cfg, self.device = cfg, context.device
        self.data = load_data(cfg, context.data_root).to(context.device)
        info = self.data.info
        pixels = "standardised" if cfg.standardise else "raw pixels in [0, 1]"
        self.provenance = {
            "dataset": info.display,
            "source": info.source,
            "n_train": info.n_train,
            "n_test": info.n_test,
            "num_classes": self.data.num_classes,
            "model": f"LeNet-5, {cfg.channels} channels per conv layer",
            "inputs": f"{info.shape[1]}x{info.shape[2]}, " + pixels,
        }

    def model(self, seed: int, dtype: torch.dtype = torch.float32) -> torch.nn.Module:
        shape, k, c = tuple(self.data.info.shape), self.data.num_classes, self.cfg.channels
        net = seeded(lambda: LeNet50(shape, k, channels=c), seed)
        return net.to(device=self.device, dtype=dtype)

    def family(self, model: torch.nn.Module) -> lin.Family:
        """The maps the config names, for networks like `model`."""
        if self.cfg.maps == "lenet":
            return LeNetGroup(tuple(self.data.info.shape))
        return lin.ModuleFamily(model)

    def __call__(self, unit: Hashable) -> UnitResult:
        kind = unit[0]  # type: ignore[index]
        if kind == "k1":
            return self.k1()
        if kind == "cost":
            return self.cost()
        return self.runs(unit[1])  # type: ignore[index]

    def k1(self) -> UnitResult:
        """K = 1 and K = 2 against autograd GD, float64, at the main lr, per seed."""
        cfg, data, n = self.cfg, self.data, self.cfg.k1_n
        lr = cfg.lr(len(data.x_train))
        small = Dataset(
            data.x_train[:n].double(), data.y_train[:n], data.x_test[:n].double(),
            data.y_test[:n], data.info,
        )  # fmt: skip
        rows = []
        for seed in cfg.seeds:
            model = self.model(seed, torch.float64)
            errs = lin.gd_agreement(self.family(model), model, small, lr=lr, steps=cfg.k1_steps)
            rows += [
                {"seed": seed, "K": k, "rel_err": e, "steps": cfg.k1_steps} for k, e in errs.items()
            ]
        return UnitResult({"k1": pd.DataFrame(rows)}, provenance=self.provenance)

    def cost(self) -> UnitResult:
        """Step-cost timings of one K's group (every seed at both steps): reported, not
        reproducible exactly."""
        cfg, data = self.cfg, self.data
        models = [self.model(s) for s in cfg.seeds]
        params = [lin.model_params(m) for m in models for _ in ("main", "large")]
        costs = lin.step_costs(
            self.family(models[0]), models[0], params, data.x_train, data.y_train, cfg.cost_reps
        )
        scalars = {f"cost_{k}": v for k, v in costs.items()}
        return UnitResult(scalars=scalars, provenance=self.provenance)

    def members(self, period: float) -> list[tuple[dict, lin.Member]]:
        """Every run of one K: each seed at the main and the larger step, and the control."""
        cfg, n, t = self.cfg, len(self.data.x_train), self.cfg.steps
        sparse, own = tuple(cfg.checkpoints()), tuple(cfg.network_checkpoints())
        sharp = (0, t) if math.isinf(period) else ()
        out = []
        for which, eta in (("main", cfg.eta), ("large", cfg.unstable_eta)):
            marks = tuple(cfg.dense_checkpoints()) if period == 1 and which == "main" else sparse
            for seed in cfg.seeds:
                ident = {"seed": seed, "features": "own", "K": float(period), "which": which}
                params = lin.model_params(self.model(seed))
                member = lin.Member(params, period, cfg.lr(n, eta), marks, own, sharp)
                out.append((ident, member))
        if period in cfg.control_periods:
            for seed in cfg.seeds:
                ident = {"seed": seed, "features": "random", "K": float(period), "which": "main"}

                def draw(window: int, seed: int = seed) -> lin.Params:
                    return lin.model_params(self.model(control_seed(seed, window)))

                params = lin.model_params(self.model(seed))
                member = lin.Member(params, period, cfg.lr(n), sparse, own, (), draw)
                out.append((ident, member))
        return out

    def runs(self, label: str) -> UnitResult:
        """Every run of K = label, in groups of at most group_size members."""
        cfg = self.cfg
        period = INF if label == "inf" else int(label)
        pairs = self.members(period)
        size = cfg.group_size or len(pairs)
        frames: dict[str, list[pd.DataFrame]] = {}
        for start in range(0, len(pairs), size):
            part = pairs[start : start + size]
            runs = lin.train_group(
                self.family(self.model(cfg.seeds[0])),
                [m for _, m in part],
                self.data,
                steps=cfg.steps,
                check_every=cfg.check_every,
                kernel_from=cfg.kernel_from,
                eval_chunk=cfg.eval_chunk,
                sharpness_iters=cfg.sharpness_iters,
            )
            for (ident, member), run in zip(part, runs):
                lr = {"lr": member.lr}
                for name, frame in run_frames(run, **ident).items():
                    frames.setdefault(name, []).append(
                        frame.assign(**lr) if name == "runs" else frame
                    )
        joined = {name: pd.concat(parts, ignore_index=True) for name, parts in frames.items()}
        return UnitResult(joined, provenance=self.provenance)


def units(cfg: IterativeLinearisationConfig) -> list[tuple]:
    """The float64 K = 1 check, one unit per K (all its runs), the step costs."""
    return [("k1",), *[("K", lin.k_label(k)) for k in cfg.periods], ("cost",)]


def run(cfg: IterativeLinearisationConfig, context: RunContext) -> Result:
    """All units of cfg, cached one by one; the data are loaded (onto context.device) only
    when a unit has to be computed."""
    made: list[_Units] = []

    def compute(unit: Hashable) -> UnitResult:
        if not made:
            made.append(_Units(cfg, context))
        return made[0](tuple(unit))  # type: ignore[arg-type]

    return run_units(cfg, units(cfg), compute, context, label=f"{cfg.dataset} linearised")
