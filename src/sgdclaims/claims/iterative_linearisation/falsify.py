"""iterative_linearisation's falsifiability (shared/CLAIMS.md, Falsifiability): constructed
results in the stored layout (the experiment's own `run_frames`). `healthy()` is what their
Fig. 1-2 describe, on the fast case's steps and checkpoints, and supports every statistic (a
unit test says so); each sabotage turns it: a seed that collapses to one class partway, a
seed whose loss turns NaN, and every refresh taken from a random network; each
demonstration makes one control meet its statistic's criterion, and says what it builds."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd

from sgdclaims.claims.iterative_linearisation.config import CASES, INF
from sgdclaims.claims.iterative_linearisation.experiment import run_frames
from sgdclaims.linearise import MemberRun, k_label
from sgdclaims.runner import Result, UnitResult, combine
from sgdclaims.training import RULES

Ident = tuple[int, str, float, str]  # seed, features, K, which
BLOWUP = RULES[2]


def _config():
    return CASES.config("fast", "mnist")


def smooth(low: float, tau: float, steps: int) -> np.ndarray:
    """A loss falling from 2.3 towards `low` with time constant `tau`."""
    return low + (2.3 - low) * np.exp(-np.arange(steps) / tau)


def stairs(period: int, steps: int) -> np.ndarray:
    """A staircase: each window falls fast to a plateau just below the next refresh's level,
    which is 0.55 of the last; the loss jumps up a little at each refresh."""
    t = np.arange(steps)
    w, inside = t // period, t % period
    level = 2.3 * 0.55**w
    plateau = 2.3 * 0.55 ** (w + 1) - 0.02
    return plateau + (level - plateau) * np.exp(-inside / 20.0)


def _run(loss: np.ndarray, steps: np.ndarray, level: float, net: float, marks, **kw) -> MemberRun:
    """A run whose f_lin accuracy rises to `level` and whose network's own ends at `net`."""
    rise = 1 - np.exp(-steps / 150.0)
    acc = 0.1 + (level - 0.1) * rise
    own = np.where(np.isin(steps, marks), 0.1 + (net - 0.1) * rise, np.nan)
    classes = np.full(len(steps), 10.0)
    return MemberRun(loss, steps, acc, classes, own, kw.get("sharpness", {}), {}, "", -1)


def _diverged(run: MemberRun, at: int, rule: str = BLOWUP) -> MemberRun:
    """The run stopped at step `at` by the divergence rule."""
    loss = run.train_loss.copy()
    loss[at] = math.nan if rule == RULES[1] else 1e3
    loss[at + 1 :] = math.nan
    late = run.steps > at
    acc, classes = run.test_acc.copy(), run.n_predicted.copy()
    acc[late], classes[late] = math.nan, math.nan
    net = np.where(late, math.nan, run.net_acc)
    return MemberRun(loss, run.steps, acc, classes, net, run.sharpness, {}, rule, at)


def healthy_runs() -> dict[Ident, MemberRun]:
    """Their Fig. 1-2 on the fast case: K <= 100 as good as K = 1, fixed features 10 pp worse
    and trained out, K = 300 a staircase, the random-feature control 20 pp worse; at the large
    step K = 1 and K = inf converge and every finite K > 1 diverges."""
    cfg = _config()
    t, own = cfg.steps, cfg.network_checkpoints()
    sparse, dense = cfg.checkpoints(), cfg.dense_checkpoints()
    out: dict[Ident, MemberRun] = {}
    for s in cfg.seeds:
        base = 0.9 + 0.004 * s
        inf_sharp = {"sharpness": {0: 1.2 + 0.3 * s, t: 1.0}}
        out[(s, "own", 1.0, "main")] = _run(smooth(0.05, 200, t), dense, base, base, own)
        for k, drop in ((10, 0.002), (100, 0.003)):
            out[(s, "own", float(k), "main")] = _run(
                smooth(0.05, 200, t), sparse, base - drop, base, own
            )
        out[(s, "own", 300.0, "main")] = _run(stairs(300, t), sparse, base - 0.01, base, own)
        out[(s, "own", INF, "main")] = _run(
            smooth(0.6, 150, t), sparse, 0.8, 0.15, own, **inf_sharp
        )
        out[(s, "random", 100.0, "main")] = _run(smooth(0.9, 600, t), sparse, 0.7, 0.15, own)
        out[(s, "own", 1.0, "large")] = _run(smooth(0.05, 100, t), sparse, 0.88, 0.88, own)
        large_inf = {"sharpness": {0: 1.2 + 0.3 * s, t: 0.6}}
        out[(s, "own", INF, "large")] = _run(
            smooth(0.5, 80, t), sparse, 0.78, 0.15, own, **large_inf
        )
        for k, at in ((10, 300), (100, 400), (300, 650)):
            run = _run(smooth(0.05, 100, t), sparse, 0.88, 0.88, own)
            out[(s, "own", float(k), "large")] = _diverged(run, at)
    return out


def result_of(
    runs: dict[Ident, MemberRun], k1_error: float = 1e-17, k2_error: float = 3e-4
) -> Result:
    """A Result in the experiment's layout: one unit per K, the K = 1 check, the costs."""
    cfg = _config()
    lrs = {"main": cfg.lr(128), "large": cfg.lr(128, cfg.unstable_eta)}
    units: dict[tuple, UnitResult] = {}
    provenance = {"dataset": "constructed", "n_train": 128, "n_test": 2000, "num_classes": 10}
    rows = [{"seed": s, "K": k, "rel_err": e, "steps": cfg.k1_steps}
            for s in cfg.seeds for k, e in ((1.0, k1_error), (2.0, k2_error))]  # fmt: skip
    units[("k1",)] = UnitResult({"k1": pd.DataFrame(rows)}, provenance=provenance)
    for k in cfg.periods:
        frames: dict[str, list[pd.DataFrame]] = {}
        for (s, features, period, which), run in runs.items():
            if period != float(k):
                continue
            ident = {"seed": s, "features": features, "K": period, "which": which}
            for name, frame in run_frames(run, **ident).items():
                frames.setdefault(name, []).append(
                    frame.assign(lr=lrs[which]) if name == "runs" else frame
                )
        joined = {n: pd.concat(parts, ignore_index=True) for n, parts in frames.items()}
        units[("K", k_label(k))] = UnitResult(joined, provenance=provenance)
    costs = {"cost_plain": 0.01, "cost_between": 0.02, "cost_refresh": 0.03, "cost_members": 4.0}
    units[("cost",)] = UnitResult(scalars=costs, provenance=provenance)
    return combine(cfg, "constructed", list(units), units, 0.0, 0)


def healthy() -> Result:
    """Every statistic supported."""
    return result_of(healthy_runs())


def collapsed_seed() -> Result:
    """Seed 1's networks predict one class from step 700 on, in every run."""
    runs = healthy_runs()
    for (s, *_), run in runs.items():
        if s == 1:
            late = run.steps >= 700
            run.test_acc[late], run.n_predicted[late] = 0.1, 1.0
            run.net_acc[late & ~np.isnan(run.net_acc)] = 0.1
    return result_of(runs)


def nan_seed() -> Result:
    """Seed 1's loss turns NaN at step 600 in every run (the rule fires), and its float64
    K = 1 check with it."""
    runs = healthy_runs()
    for ident, run in runs.items():
        if ident[0] == 1 and run.diverged_at < 0:
            runs[ident] = _diverged(run, 600, RULES[1])
    result = result_of(runs)
    k1 = result.frames["k1"]
    k1.loc[k1["seed"] == 1, "rel_err"] = math.nan
    return result


def random_refresh() -> Result:
    """The claim-specific null: every refresh takes a different random network's Jacobian
    (K = 1 too), so no K learns features: every finite K trains like the random-feature
    control (slow, smooth, 20 pp below K = 1's healthy level, no instability), and K = 1 is
    not gradient descent."""
    runs = healthy_runs()
    for (s, features, k, which), run in list(runs.items()):
        if features == "own" and not math.isinf(k):
            like = runs[(s, "random", 100.0, "main")]
            marks = run.steps
            acc = np.interp(marks, like.steps, like.test_acc)
            net = np.where(np.isnan(run.net_acc), np.nan, 0.15)
            classes = np.full(len(marks), 10.0)
            runs[(s, features, k, which)] = MemberRun(
                like.train_loss.copy(), marks, acc, classes, net, {}, {}, "", -1
            )
    return result_of(runs, k1_error=1e-2, k2_error=1e-2)


def _demonstration(change: Callable[[dict[Ident, MemberRun]], None], **k1) -> Callable[[], Result]:
    def build() -> Result:
        runs = healthy_runs()
        change(runs)
        return result_of(runs, **k1)

    return build


def _random_as_good(runs: dict[Ident, MemberRun]) -> None:
    """Random-network features as good as the network's own: the control's runs are K = 100's."""
    for ident in [i for i in runs if i[1] == "random"]:
        s = ident[0]
        runs[ident] = runs[(s, "own", 100.0, "main")]


def _k10_as_fixed(runs: dict[Ident, MemberRun]) -> None:
    """Refreshing every 10 steps as bad as fixed features: K = 10's accuracy is K = inf's."""
    for s in _config().seeds:
        like = runs[(s, "own", INF, "main")]
        run = runs[(s, "own", 10.0, "main")]
        run.test_acc[:] = np.interp(run.steps, like.steps, like.test_acc)


def _k1_on_the_staircase_schedule(runs: dict[Ident, MemberRun]) -> None:
    """A refresh-schedule bug: every run, K = 1 included, refreshes at the staircase K's
    boundaries, so K = 1's recorded loss is the staircase run's of the same seed (its
    accuracies unchanged). A loss that levels off at those steps whatever K is comes from
    the schedule, not from refreshing rarely: the control's boundary-slope ratio is < 0.25."""
    period = float(_config().staircase_period)
    for s in _config().seeds:
        runs[(s, "own", 1.0, "main")].train_loss[:] = runs[(s, "own", period, "main")].train_loss


DEMONSTRATIONS: dict[str, Callable[[], Result]] = {
    "k1_is_gd_control": _demonstration(lambda runs: None, k2_error=1e-12),
    "k_insensitive_control": _demonstration(_random_as_good),
    "fixed_features_worse_control": _demonstration(_k10_as_fixed),
    "staircase_control": _demonstration(_k1_on_the_staircase_schedule),
}
SABOTAGE: dict[str, Callable[[], Result]] = {
    "collapsed_seed": collapsed_seed,
    "nan_seed": nan_seed,
    "random_refresh": random_refresh,
}
