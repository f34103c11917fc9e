"""The shapes of the training loss that iterative_linearisation's statistics test (shared/
CLAIMS.md; Goldwaser & Ge, Fig. 1-2 and Sec. 4): the staircase of the staircase K (the loss
levels off within each window and progress accumulates across refreshes) against K = 1 cut
at the same boundaries, and the instability of refreshed linearisations at the larger step,
with fixed features' stability bound beside it."""

from __future__ import annotations

import math

import numpy as np

from sgdclaims.claims.iterative_linearisation.config import INF
from sgdclaims.claims.iterative_linearisation.readout import (
    Runs,
    boundary_ratios,
    median_or_nan,
    progress_share,
    refresh_losses,
    upward_closed,
    window_ratios,
)
from sgdclaims.linearise import k_label
from sgdclaims.runner import Result
from sgdclaims.values import Value, seed_mean

#: the paper's lr x K per window in mean-loss units: eta 1e-5 x 60,000 MNIST images x K 1,000
PAPER_LR_K = 1e-5 * 60_000 * 1000
#: the rules' codes in the details (sgdclaims.training.RULES)
RULE_CODES = {"": 0.0, "loss not finite": 1.0}

SHAPES = (
    "staircase",
    "staircase_control",
    "staircase_accumulates",
    "staircase_windows",
    "large_lr_unstable",
    "large_lr_unstable_control",
    "divergence",
    "stability_bound",
)


def _staircase(result: Result) -> dict[str, Value]:
    cfg, own = result.config, Runs(result)
    period, lr = int(cfg.staircase_period), float(own.row(cfg.staircase_period, own.seeds[0])["lr"])
    loss = {s: own.loss(period, s) for s in own.seeds}
    ratios = {s: window_ratios(loss[s], period) for s in own.seeds}
    control = [median_or_nan(boundary_ratios(own.loss(1, s), period)) for s in own.seeds]
    windows = {f"seed {s} window {i + 2}": r for s in own.seeds for i, r in enumerate(ratios[s])}
    jumps = {}
    for s in own.seeds:
        at = refresh_losses(loss[s], period)
        before = loss[s][period - 1 :: period][: len(at) - 1]
        for r, (a, b) in enumerate(zip(at[1:], before), start=1):
            jumps[f"seed {s} refresh {r} (step {r * period}) jump"] = a - b
            jumps[f"seed {s} refresh {r} loss"] = a
    dead, dead_1 = own.dead((period,)), own.dead((1,))
    how = f"K = {period}, lr x K = {lr * period:.3g} (the paper's: {PAPER_LR_K:g})"
    return {
        "staircase": seed_mean(
            [median_or_nan(ratios[s]) for s in own.seeds],
            f"{how}: per seed the median over the windows after the first of |loss change over "
            "the window's last 10%| / loss fall over its first 10%, then the mean",
            dead=dead,
            **windows,
        ),
        "staircase_control": seed_mean(
            control,
            f"K = 1's loss cut at K = {period}'s boundaries: per seed the median of (fall over "
            "the 10% of steps before a boundary) / (over the 10% after it), then the mean",
            dead=dead_1,
        ),
        "staircase_accumulates": seed_mean(
            [progress_share(loss[s], period) for s in own.seeds],
            f"K = {period}: per seed the share of refreshes (steps 0, K, 2K, ...) at which the "
            "network's own training loss is below the previous refresh's, then the mean",
            dead=dead,
        ),
        "staircase_windows": Value(
            lr * period,
            note=f"lr x K of the staircase K's windows (mean-loss units) against the paper's "
            f"{PAPER_LR_K:g} (eta 1e-5 x 60,000 x K 1,000); details: the jump of the loss at "
            "each refresh (its loss minus the step before's: one GD step's fall included)",
            details={
                "paper lr x K": PAPER_LR_K,
                "ratio paper / ours": PAPER_LR_K / (lr * period),
                **jumps,
            },
        ),
    }


def _instability(result: Result) -> dict[str, Value]:
    cfg = result.config
    finite = tuple(k for k in cfg.periods if not math.isinf(k))
    out, details = {}, {}
    for name, which in (("large_lr_unstable", "large"), ("large_lr_unstable_control", "main")):
        runs = Runs(result, which=which)
        steps = {float(k): runs.diverged_at(k) for k in finite}
        pattern = upward_closed({k: v >= 0 for k, v in steps.items()})
        lr = float(runs.row(1, runs.seeds[0])["lr"])
        k1 = [runs.alive(1, s) for s in runs.seeds]
        dead = tuple(r.run for r in k1 if not r.alive)
        at = {
            f"K={k_label(k)} seed {s} diverged at": v
            for k, vs in steps.items()
            for s, v in zip(runs.seeds, vs)
        }
        out[name] = Value(
            float(np.min(pattern)),
            pattern,
            f"lr {lr:.4g}: per seed 1 where K = 1 converges and the diverging finite K "
            f"({', '.join(k_label(k) for k in finite)}) form a non-empty upward-closed set",
            at,
            dead,
        )
        if which == "large":
            for k in cfg.periods:
                for s in runs.seeds:
                    row = runs.row(k, s)
                    details[f"K={k_label(k)} seed {s} step"] = float(row["diverged_at"])
                    details[f"K={k_label(k)} seed {s} rule"] = RULE_CODES.get(row["diverged"], 2.0)
    out["divergence"] = Value(
        float(sum(v >= 0 for k, v in details.items() if k.endswith("step"))),
        note="runs that diverged at the large lr, every K and seed; details: the step (-1: "
        "never) and the rule (1: loss not finite, 2: above 100x its initial value, 0: none)",
        details=details,
    )
    return out


def _stability(result: Result) -> Value:
    """2 / lambda_max at initialisation of the linearised loss, beside the steps."""
    main, large = Runs(result), Runs(result, which="large")
    bound = [2 / float(main.row(INF, s)["sharpness_0"]) for s in main.seeds]
    t = result.config.steps
    details = {
        "main lr": float(main.row(1, main.seeds[0])["lr"]),
        "large lr": float(large.row(1, large.seeds[0])["lr"]),
    }
    for s in main.seeds:
        details[f"seed {s} K=inf main 2/lambda at T"] = 2 / float(
            main.row(INF, s)[f"sharpness_{t}"]
        )
        details[f"seed {s} K=inf large 2/lambda at T"] = 2 / float(
            large.row(INF, s)[f"sharpness_{t}"]
        )
        details[f"seed {s} K=inf large diverged at"] = float(large.row(INF, s)["diverged_at"])
    return seed_mean(
        bound,
        "2 / the top eigenvalue of the linearised training loss's Hessian at initialisation "
        "(lr units; per seed, then the mean): gradient descent on fixed features (K = inf, a "
        "convex loss) is stable below it at the start; the steps and K = inf's runs beside it",
        **details,
    )


def shape_values(result: Result) -> dict[str, Value]:
    """Every value of SHAPES."""
    return {**_staircase(result), **_instability(result), "stability_bound": _stability(result)}
