"""The shapes of the training loss that iterative_linearisation's statistics test (shared/
CLAIMS.md; Goldwaser & Ge, Fig. 1-2 and Sec. 4): the staircase of the staircase K (the loss
levels off within each window and progress accumulates across refreshes) against K = 1 cut
at the same boundaries (the control, and the same statistic on K = 1: its null), and the
instability of refreshed linearisations at the larger step against the main step, with fixed
features' stability bound beside it."""

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
from sgdclaims.training import RULES
from sgdclaims.values import Value, seed_mean

#: the paper's lr x K per window in mean-loss units: eta 1e-5 x 60,000 MNIST images x K 1,000
PAPER_LR_K = 1e-5 * 60_000 * 1000
#: the rules' codes in the details (0: none fired)
RULE_CODES = {"": 0.0} | {text: float(code) for code, text in RULES.items()}
#: staircase's criteria (CLAIMS.md): (a) below, (b) at least
STAIRCASE_A, STAIRCASE_B = 0.25, 0.75

SHAPES = (
    "staircase",
    "staircase_control",
    "staircase_accumulates",
    "staircase_k1",
    "staircase_windows",
    "large_lr_unstable",
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
            "the window's last 10%| / loss fall over its first 10%, then the mean; it enters "
            "K = 1's runs through its control",
            dead=(*dead, *dead_1),
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
        "staircase_k1": _staircase_k1(own, period, dead_1),
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


def _staircase_k1(own: Runs, period: int, dead: tuple[str, ...]) -> Value:
    """staircase's (a) and (b) on K = 1's own loss cut at the staircase K's boundaries: the
    null of plain gradient descent, which has no refreshes and so no staircase."""
    loss = {s: own.loss(1, s) for s in own.seeds}
    a = [median_or_nan(window_ratios(loss[s], period)) for s in own.seeds]
    b = [progress_share(loss[s], period) for s in own.seeds]
    details = {f"seed {s} (b)": v for s, v in zip(own.seeds, b)}
    details["(b) mean"] = float(np.mean(b))
    details["meets (a) < 0.25"] = float(np.mean(a) < STAIRCASE_A)
    details["meets (b) >= 0.75"] = float(np.mean(b) >= STAIRCASE_B)
    return seed_mean(
        a,
        f"the null of staircase: its (a) (the value, per seed) and (b) (details) on K = 1's own "
        f"training loss (plain gradient descent: no refreshes, no staircase) cut at K = "
        f"{period}'s window boundaries. Where K = 1 meets (a) < 0.25 and (b) >= 0.75 too, "
        "staircase cannot tell a staircase from a fast smooth fall (a loss that has levelled "
        "off by each window's end meets both); read it beside staircase",
        dead=dead,
        **details,
    )


def _instability(result: Result) -> dict[str, Value]:
    cfg, large, main = result.config, Runs(result, which="large"), Runs(result)
    finite = tuple(k for k in cfg.periods if not math.isinf(k))
    steps = {float(k): large.diverged_at(k) for k in finite}
    pattern = upward_closed({k: v >= 0 for k, v in steps.items()})
    lr = float(large.row(1, large.seeds[0])["lr"])
    at = {
        f"K={k_label(k)} seed {s} diverged at": v
        for k, vs in steps.items()
        for s, v in zip(large.seeds, vs)
    }
    for k in finite:
        for s, v in zip(main.seeds, main.diverged_at(k)):
            at[f"K={k_label(k)} seed {s} main lr diverged at"] = v
    dead = tuple(r.run for r in (large.alive(1, s) for s in large.seeds) if not r.alive)
    details = {}
    for k in cfg.periods:
        for s in large.seeds:
            row = large.row(k, s)
            details[f"K={k_label(k)} seed {s} step"] = float(row["diverged_at"])
            details[f"K={k_label(k)} seed {s} rule"] = RULE_CODES[row["diverged"]]
    return {
        "large_lr_unstable": Value(
            float(np.min(pattern)),
            pattern,
            f"lr {lr:.4g}: per seed 1 where K = 1 converges and the diverging finite K "
            f"({', '.join(k_label(k) for k in finite)}) form a non-empty upward-closed set; "
            "the null, the same K at the main lr (details), must not diverge: a run there that "
            "is not alive fails it",
            at,
            (*dead, *main.dead(finite)),
        ),
        "divergence": Value(
            float(sum(v >= 0 for k, v in details.items() if k.endswith("step"))),
            note="runs that diverged at the large lr, every K and seed; details: the step (-1: "
            "never) and the rule (1: loss not finite, 2: above 100x its initial value, 0: none)",
            details=details,
        ),
    }


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
