"""iterative_linearisation's statistics (shared/CLAIMS.md, iterative_linearisation; Goldwaser
& Ge, Fig. 1-2): pure functions of the cached result, every statistic, control, precondition,
harness and reported value with its per-seed values and the runs that are not alive. The
shapes of the loss (staircase, instability) are in `shapes`."""

from __future__ import annotations

import math

import numpy as np

from sgdclaims.alive import alive_value
from sgdclaims.claims.iterative_linearisation.config import INF, INSENSITIVE
from sgdclaims.claims.iterative_linearisation.readout import (
    Runs,
    accuracy_at,
    matched_step,
)
from sgdclaims.claims.iterative_linearisation.shapes import SHAPES, shape_values
from sgdclaims.linearise import k_label
from sgdclaims.runner import Result
from sgdclaims.values import Statistics, Value, seed_bootstrap, seed_mean

statistics = Statistics()


@statistics.returns(*SHAPES)
def _shapes(result: Result) -> dict[str, Value]:
    return shape_values(result)


@statistics.returns("k1_is_gd", "k1_is_gd_control")
def _k1_values(result: Result) -> dict[str, Value]:
    k1 = result.frame("k1").sort_values("seed")
    steps = int(k1["steps"].iloc[0])
    errs = k1[k1["K"] == 1.0]["rel_err"].to_numpy()
    control = k1[k1["K"] == 2.0]["rel_err"].to_numpy()
    seeds = k1[k1["K"] == 1.0]["seed"].to_numpy()
    how = f"after {steps} float64 full-batch steps on {result.config.k1_n} training images"
    dead = Runs(result).dead((1,))
    return {
        "k1_is_gd": Value(
            np.max(errs),
            errs,
            f"||theta_K=1 - theta_GD|| / ||theta_GD|| per seed {how}; a seed whose K = 1 "
            "training run is not alive fails it",
            dead=dead,
        ),
        "k1_is_gd_control": Value(
            np.min(control),
            note=f"K = 2, min over seeds, {how}",
            details={f"seed {s}": v for s, v in zip(seeds, control)},
        ),
    }


def _gap(acc: dict[float, np.ndarray], ref: np.ndarray, ks: tuple, note: str, dead) -> Value:
    """k_insensitive's form: per seed the paired gap |acc_K - acc_1| of the K whose mean gap
    is largest; the value is that mean (the mean of the per-seed column); the seed-bootstrap
    replicates recompute the max over K; details: the mean gap of every K."""
    gaps = np.stack([np.abs(acc[float(k)] - ref) for k in ks])  # (K, seeds)
    means = gaps.mean(axis=1)
    nan = np.flatnonzero(np.isnan(means))
    worst = int(nan[0]) if len(nan) else int(np.argmax(means))
    reps = seed_bootstrap(gaps.shape[1], lambda idx: float(np.max(gaps[:, idx].mean(axis=1))))
    details = {f"K={k_label(k)} mean gap": m for k, m in zip(ks, means)}
    note = f"{note}; the column is K={k_label(ks[worst])}'s"
    return Value(means[worst], gaps[worst], note, details, dead, "mean", reps)


@statistics.returns(
    "k_insensitive",
    "k_insensitive_control",
    "inf_trained",
    "fixed_features_worse",
    "fixed_features_worse_control",
    "acc_1_matched",
    "accuracies",
)
def _accuracies(result: Result) -> dict[str, Value]:
    cfg, own, ctrl = result.config, Runs(result), Runs(result, "random")
    acc = {float(k): own.final(k) for k in cfg.periods}
    net = {float(k): own.final(k, "net_acc") for k in cfg.periods}
    random = {float(k): ctrl.final(k) for k in cfg.control_periods}
    note = "per seed |acc_K - acc_1| (pp, final test accuracies of f_lin), max over K of the mean"
    out = {
        "k_insensitive": _gap(acc, acc[1.0], INSENSITIVE, note, own.dead((1, *INSENSITIVE))),
        "k_insensitive_control": _gap(
            random,
            acc[1.0],
            tuple(cfg.control_periods),
            note + "; K runs refreshed from a different random network after the first window",
            (*own.dead((1,)), *ctrl.dead(cfg.control_periods)),
        ),
    }
    out["inf_trained"] = _inf_trained(own)
    out["fixed_features_worse"] = seed_mean(
        acc[1.0] - acc[INF],
        "acc_1 - acc_inf (pp, final test accuracies), per seed, then the mean",
        dead=own.dead((1, INF)),
    )
    out["fixed_features_worse_control"] = seed_mean(
        acc[1.0] - acc[10.0],
        "acc_1 - acc_10 (pp): features refreshed every 10 steps must not lose what fixed "
        "features lose",
        dead=own.dead((1, 10)),
    )
    out["acc_1_matched"] = _matched(own, acc[INF])
    details = {}
    for k in cfg.periods:
        for s, a, b in zip(own.seeds, acc[float(k)], net[float(k)]):
            details[f"K={k_label(k)} seed {s}"] = a
            details[f"K={k_label(k)} seed {s} network"] = b
    for k in cfg.control_periods:
        for s, a in zip(own.seeds, random[float(k)]):
            details[f"K={k_label(k)} random seed {s}"] = a
    out["accuracies"] = Value(
        np.nanmean(acc[1.0]),
        acc[1.0],
        "final test accuracy (%) of f_lin per K and seed, and of the network f(theta) itself "
        "('network'); the value: K = 1's mean",
        details,
    )
    return out


def _inf_trained(own: Runs) -> Value:
    """Per seed: the fall of K = inf's training loss over the last 10% of the run over its
    total fall (CLAIMS.md: < 0.1, else the comparison is one of optimisation speed)."""
    ratios = []
    for s in own.seeds:
        loss = own.loss(INF, s)
        end, late = loss[-1], loss[math.floor(0.9 * len(loss))]
        total = loss[0] - end
        ratios.append((late - end) / total if total > 0 else math.inf)
    return seed_mean(
        ratios,
        "per seed (loss at 0.9 T - loss at T) / (loss at 0 - loss at T) of K = inf",
        dead=own.dead((INF,)),
    )


def _matched(own: Runs, acc_inf: np.ndarray) -> Value:
    """K = 1's test accuracy at the checkpoint nearest to the step where its training loss
    first reaches K = inf's final training loss (matched training loss)."""
    values, details = [], {}
    for s, inf_acc in zip(own.seeds, acc_inf):
        target = own.loss(INF, s)[-1]
        step = matched_step(own.loss(1, s), target)
        acc, at = accuracy_at(own.curve(1, s), step)
        values.append(acc)
        details.update({f"seed {s} matched at step": step, f"seed {s} read at checkpoint": at})
        details[f"seed {s} K=inf loss"] = target
        details[f"seed {s} acc_inf"] = inf_acc
    return seed_mean(
        values,
        "acc_1 (%) at the checkpoint nearest to the step where K = 1's training loss first "
        "reaches K = inf's final one (-1 / NaN: never); acc_inf beside it",
        **details,
    )


@statistics.returns("alive", "n_test")
def _harness(result: Result) -> dict[str, Value]:
    cfg = result.config
    own, ctrl, large = Runs(result), Runs(result, "random"), Runs(result, which="large")
    runs = [own.alive(k, s) for k in cfg.periods for s in own.seeds]
    runs += [ctrl.alive(k, s) for k in cfg.control_periods for s in own.seeds]
    runs += [large.alive(1, s) for s in own.seeds]
    n_test = float(result.provenance["n_test"])
    return {
        "alive": alive_value(runs),
        "n_test": Value(n_test, note="test images, the same for every checkpoint and run"),
    }


@statistics.returns("step_cost", "compute")
def _costs(result: Result) -> dict[str, Value]:
    costs = result.scalars.dropna(subset=["cost_plain"]).iloc[0]
    members = costs["cost_members"]
    per_member = costs["cost_between"] / members / costs["cost_plain"]
    details = {
        "refresh step per member / plain": costs["cost_refresh"] / members / costs["cost_plain"],
        "group members": members,
    }
    if "cost_kernel" in costs and not math.isnan(costs["cost_kernel"]):
        details["tangent kernel per member / plain"] = (
            costs["cost_kernel"] / members / costs["cost_plain"]
        )
        details["function-space step per member / plain"] = (
            costs["cost_kernel_step"] / members / costs["cost_plain"]
        )
    frame = result.scalars
    seconds = {str(u): c for u, c in zip(frame["unit"], frame["cpu_seconds"])}
    gflops = float(frame["gflops"].max())
    return {
        "step_cost": Value(
            per_member,
            note="CPU time of one batched step between refreshes per member / a plain "
            "autograd GD step of one network on the same full batch",
            details=details,
        ),
        "compute": Value(
            float(frame["cpu_seconds"].sum()),
            note=f"CPU seconds of the units when computed (calibration {gflops:.0f} GFLOP/s; "
            f"{result.reference_seconds:.0f} reference seconds); details: per unit",
            details=seconds,
        ),
    }
