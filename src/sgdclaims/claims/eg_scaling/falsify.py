"""eg_scaling's falsifiability (shared/CLAIMS.md, Falsifiability): for each control a result on
which it meets its statistic's criterion (the proof that it can fail), and the sabotage suite:
results in which the claim is false by construction, none of which may come out supported.

All are built from a result on which every statistic is supported (falsify_base: the tables
of one tiny real run with the values of a world where the claim holds), then broken the way
a real run breaks: seed 1, which every part has (an SGD seed, the ODE from its start, a
random ODE start), collapses to a constant output partway or turns NaN partway in every
part, so it enters every statistic; or the error stops depending on the student's size.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from sgdclaims.claims.eg_scaling.falsify_base import claim_true
from sgdclaims.runner import Result
from sgdclaims.training import RULES

#: the seed (SGD) and start (ODE) that the dead-run sabotages break
BROKEN = 1
#: the run tables of each part and their seed column; the eps_g columns a broken run changes
RUNS = {
    "match_runs": "seed",
    "reached": "start",
    "both": "start",
    "eq15": "start",
    "sgd": "seed",
    "relu": "seed",
    "linear": "seed",
}
FINALS = ("eps_final", "ode_final", "eps_reached", "eps_sgd", "ode_reached")
#: the curve tables of the parts: their run table, the keys of a run, the eps_g columns
CURVES = {
    "match": ("match_runs", ["n", "k", "seed"], ["eps_sgd", "eps_ode"]),
    "reached_curves": ("reached", ["k", "start"], ["eps"]),
    "both_curves": ("both", ["k", "start"], ["eps"]),
    "eq15_curves": ("eq15", ["k", "start"], ["eps"]),
}


def healthy() -> Result:
    """A result on which every statistic is supported (falsify_base.claim_true)."""
    return claim_true()


def break_seed(result: Result, value: Callable[[pd.Series], pd.Series], rule: str) -> Result:
    """Seed (start) BROKEN of every part: eps_g from the middle of its run on, and its final
    values, set to value(eps of the best constant predictor); `rule` the divergence rule
    that fired ('' for none)."""
    f = result.frames
    for name, seed in RUNS.items():
        frame = f[name]
        rows = frame[seed] == BROKEN
        for col in FINALS:
            if col in frame:
                frame.loc[rows, col] = value(frame.eps_const[rows]).to_numpy()
        for col in ("diverged", "ode_diverged"):
            if col in frame:
                frame.loc[rows, col] = rule
        if "change" in frame:
            frame["change"] = np.abs(frame.eps_sgd / frame.eps_half - 1)
        if "settled" in frame and rule:
            frame.loc[rows, ["drift", "settled", "status"]] = [np.nan, False, "diverged"]
    for name, (runs, keys, cols) in CURVES.items():
        frame = f[name]
        const = f[runs].set_index(keys).eps_const
        const = const.loc[pd.MultiIndex.from_frame(frame[keys])].reset_index(drop=True)
        rows = (frame[keys[-1]] == BROKEN) & (frame.alpha >= frame.alpha.median())
        for col in cols:
            frame.loc[rows, col] = value(const[rows]).to_numpy()
    if rule:
        branch = f["branch"]
        rows = branch.start == BROKEN
        branch.loc[rows, ["eps_branch", "converged", "max_eig"]] = [np.nan, False, np.nan]
    return result


def collapsed_seed() -> Result:
    """Seed 1's output collapses to a constant partway (every unit dead): its eps_g is the
    best constant predictor's from then on; no divergence rule fires."""
    return break_seed(healthy(), lambda const: const, "")


def nan_seed() -> Result:
    """Seed 1's loss turns NaN partway: the divergence rule fires and its eps_g is NaN."""
    return break_seed(healthy(), lambda const: const * np.nan, RULES[1])


def flatten(frame: pd.DataFrame, over: str, by: list[str], skip: tuple[str, ...] = ()) -> None:
    """Every row takes the values of the row with the smallest `over` (K, L or N) and the same
    `by`; the columns `over`, `by`, 'unit' and `skip` keep theirs."""
    keep = {over, "unit", *by, *skip}
    cols = [c for c in frame.columns if c not in keep]
    source = frame.loc[frame[over] == frame[over].min(), [*by, *cols]]
    frame[cols] = frame[by].merge(source, on=by, how="left")[cols].to_numpy()


def independent_of_size() -> Result:
    """The claim-specific null: an eps_g that does not depend on L. Every run (SGD, each
    random start's integration, both layers, the linear network) carries the values of the
    student without surplus units (K = M, the same seed or start, at every checkpoint).
    ode_matches_sgd_4n does not depend on L, so its null joins in: the 4N runs carry the N
    runs' values (an error independent of the student's size). The theory line eps_branch,
    flat too, would move with eps_reached, and reached_matches_branch, a contrast against it,
    could not see the null; so it grows as L^2 instead (eg_linear_in_L's other null in
    CLAIMS.md): no line for eq. 11, and the runs off it."""
    result = healthy()
    f = result.frames
    flatten(f["match"], "k", ["n", "seed", "alpha"])
    flatten(f["match_runs"], "k", ["n", "seed"])
    flatten(f["match"], "n", ["k", "seed", "alpha"])
    flatten(f["match_runs"], "n", ["k", "seed"])
    for name in ("reached", "both", "eq15"):
        flatten(f[name], "k", ["start"], skip=("L", "eq11", "eq15"))
        flatten(f[f"{name}_curves"], "k", ["start", "alpha"])
    branch = f["branch"]
    at_m = branch[branch.L == 0].set_index(["eta", "start"]).eps_branch
    at_m = at_m.loc[pd.MultiIndex.from_frame(branch[["eta", "start"]])].to_numpy()
    branch["eps_branch"] = at_m * (1 + branch.L**2)
    for name in ("sgd", "relu", "linear"):
        flatten(f[name], "L", ["seed"], skip=("k", "eq12"))
    return result


def sgd_on_another_ode() -> Result:
    """ode_matches_sgd_control meets the criterion: every SGD curve at N equals its ODE, and
    the K = 4 students' curves the K = 2 ones (the control compares the two)."""
    result = healthy()
    match = result.frames["match"]
    at_n = match.n == result.config.match_n
    match.loc[at_n, "eps_sgd"] = match.loc[at_n, "eps_ode"]
    flatten(match, "k", ["n", "seed", "alpha"])
    flatten(result.frames["match_runs"], "k", ["n", "seed"])
    return result


DEMONSTRATIONS: dict[str, Callable[[], Result]] = {
    "ode_matches_sgd_control": sgd_on_another_ode,
}
SABOTAGE: dict[str, Callable[[], Result]] = {
    "collapsed_seed": collapsed_seed,
    "nan_seed": nan_seed,
    "independent_of_L": independent_of_size,
}
