"""iterative_linearisation's statistics (shared/CLAIMS.md, iterative_linearisation; Goldwaser
& Ge, Fig. 1-2): pure functions of the cached result, every statistic, control and reported
value with its per-seed values."""

from __future__ import annotations

import numpy as np

from sgdclaims.claims.iterative_linearisation.config import INF, INSENSITIVE
from sgdclaims.claims.iterative_linearisation.readout import (
    accuracy_gap,
    divergence_note,
    divergence_steps,
    final_accuracy,
    median_window,
    per_seed_curves,
    upward_closed,
    window_ratios,
)
from sgdclaims.linearise import k_label
from sgdclaims.runner import Result
from sgdclaims.values import Statistics, Value, seed_mean

statistics = Statistics()


def _accuracy(result: Result, features: str = "own") -> dict[float, np.ndarray]:
    """{K: per-seed final test accuracy (%)} of the main runs with these features."""
    curves = result.frame("curves")
    return final_accuracy(curves, result.config.seeds, features=features, which="main")


def _diverged(result: Result, features: str = "own") -> str:
    """The note naming the main runs with these features that diverged ('' if none)."""
    return divergence_note(result.scalars, result.config.seeds, which="main", features=features)


@statistics.returns("k1_is_gd", "k1_is_gd_control")
def _k1_values(result: Result) -> dict[str, Value]:
    s, cfg = result.scalars.dropna(subset=["k1_rel_err"]).sort_values("seed"), result.config
    errs, control = s["k1_rel_err"].to_numpy(), s["k2_rel_err"].to_numpy()
    how = f"after {cfg.k1_steps} float64 steps on {cfg.k1_n} training images at the main lr"
    return {
        "k1_is_gd": Value(
            np.max(errs),
            errs,
            f"max over seeds of ||theta_K=1 - theta_GD|| / ||theta_GD|| {how}",
        ),
        "k1_is_gd_control": Value(np.min(control), control, f"K = 2, min over seeds, {how}"),
    }


@statistics.returns(
    "k_insensitive",
    "k_insensitive_control",
    "fixed_features_worse",
    "fixed_features_worse_control",
    "acc_K1",
    "acc_K10",
    "acc_K100",
    "acc_K_staircase",
    "acc_Kinf",
)
def _accuracies(result: Result) -> dict[str, Value]:
    cfg, acc, ctrl = result.config, _accuracy(result), _accuracy(result, "random")
    note = "max over K in {} of |mean acc_K - mean acc_1| (pp, final values){}"
    ks, cks = INSENSITIVE, cfg.control_periods
    control_note = (
        note.format([k_label(k) for k in cks], _diverged(result, features="random"))
        + "; features refreshed from a different random network every K steps"
    )
    out = {
        "k_insensitive": accuracy_gap(acc, ks, acc[1.0], note.format(list(ks), _diverged(result))),
        "k_insensitive_control": accuracy_gap(ctrl, cks, acc[1.0], control_note),
        "fixed_features_worse": seed_mean(
            acc[1.0] - acc[INF],
            "acc_1 - acc_inf (pp), per seed, then the mean" + _diverged(result),
        ),
        "fixed_features_worse_control": seed_mean(
            acc[1.0] - acc[10.0],
            "acc_1 - acc_10 (pp): features refreshed every 10 steps must not lose what fixed "
            "features lose",
        ),
    }
    reported = (
        ("acc_K1", 1),
        ("acc_K10", 10),
        ("acc_K100", 100),
        ("acc_Kinf", INF),
        ("acc_K_staircase", cfg.staircase_period),
    )
    for name, k in reported:
        out[name] = seed_mean(
            acc[float(k)],
            f"final test accuracy (%, mean over the last 5% of the run), K = {k_label(k)}"
            + _diverged(result),
        )
    return out


@statistics.returns("staircase", "staircase_control")
def _staircase(result: Result) -> dict[str, Value]:
    period, seeds = int(result.config.staircase_period), result.config.seeds
    losses = per_seed_curves(
        result.frame("loss"), seeds, "train_loss", features="own", which="main"
    )
    how = (
        "per seed the median over the K-windows after the first of (loss decrease over the "
        "window's last 10%) / (over its first 10%), then the mean over seeds"
    )
    parts = (
        ("staircase", period, f"K = {period}: "),
        ("staircase_control", 1, f"the K = 1 loss cut into {period}-step windows: "),
    )
    out = {}
    for name, k, what in parts:
        ratios = [window_ratios(loss, period) for loss in losses[float(k)]]
        details = {
            f"seed {s} window {i + 2}": r for s, rs in zip(seeds, ratios) for i, r in enumerate(rs)
        }
        out[name] = seed_mean([median_window(r) for r in ratios], what + how, **details)
    return out


@statistics.returns("large_lr_unstable", "large_lr_unstable_control", "divergence_steps")
def _unstable(result: Result) -> dict[str, Value]:
    cfg, n, out = result.config, int(result.provenance["n_train"]), {}
    parts = (
        ("large_lr_unstable", "unstable", cfg.unstable_eta),
        ("large_lr_unstable_control", "main", cfg.eta),
    )
    for name, which, eta in parts:
        seeds = cfg.seeds_of(which)
        steps = divergence_steps(result.scalars, seeds, which=which, features="own")
        steps = {k: v for k, v in steps.items() if k in cfg.unstable_periods}
        pattern = upward_closed({k: v >= 0 for k, v in steps.items()})
        details = {
            f"K={k_label(k)} seed {s}": v for k, vs in steps.items() for s, v in zip(seeds, vs)
        }
        note = (
            f"lr {cfg.lr(n, eta):.4g} (eta {eta:.3g}): per seed 1 where the diverging K are "
            "upward-closed, hold some K > 1 and K = 1 converges; details: divergence step "
            "(-1: never)"
        )
        out[name] = Value(np.mean(pattern), pattern, note, details)
    unstable = out["large_lr_unstable"].details
    out["divergence_steps"] = Value(
        float(sum(v >= 0 for v in unstable.values())),
        note="runs diverged at the large lr (NaN/inf loss or 100x the initial loss); "
        "details: the step per K and seed (-1: never)",
        details=unstable,
    )
    return out


@statistics.returns("stability_limit", "step_cost_between", "step_cost_refresh")
def _measured(result: Result) -> dict[str, Value]:
    cfg, n = result.config, int(result.provenance["n_train"])
    curves = result.frame("curves")
    sharp = per_seed_curves(curves, cfg.seeds, "sharpness", features="own", which="main")[1.0]
    costs = result.scalars.dropna(subset=["cost_plain"]).iloc[0]
    ratio = "CPU time of a {} / that of a plain GD step on the same full batch"
    beside = {
        "at initialisation": np.mean([2 / s[0] for s in sharp]),
        "main lr": cfg.lr(n),
        "large lr": cfg.lr(n, cfg.unstable_eta),
    }
    return {
        "stability_limit": seed_mean(
            [2 / np.max(s) for s in sharp],
            "2 / the largest sharpness of the linearised loss along the main K = 1 run, in "
            "the mean loss's lr units: GD on a linearisation taken there is stable below it",
            **beside,
        ),
        "step_cost_between": Value(
            costs["cost_between"] / costs["cost_plain"],
            note=ratio.format("step between refreshes"),
        ),
        "step_cost_refresh": Value(
            costs["cost_refresh"] / costs["cost_plain"],
            note=ratio.format("refresh step"),
        ),
    }
