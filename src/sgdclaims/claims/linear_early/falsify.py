"""linear_early's falsifiability (shared/CLAIMS.md, Falsifiability): constructed results in the
stored layout. `healthy()` looks like their Fig. 4 on binary MNIST and supports every
statistic (a unit test says so), so each sabotage below is what turns it: a seed that
collapses to one class partway, a seed whose loss turns NaN (the divergence rule fires), F
trained on permuted labels, and a live F that is neither linear early nor more than L late;
and the demonstration that the control can fail: an F so
accurate that an independent classifier of L's accuracy explains it as well as L."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from sgdclaims.claims.linear_early.config import CASES
from sgdclaims.runner import Result, UnitResult, combine

#: the constructed run: binary MNIST at the fast scale's checkpoints (their Fig. 4 levels)
I_LY, ACC_L, STEPS = 0.445, 0.87, 3000
SEEDS = (0, 1, 2)


def _config():
    return CASES.config("fast", "mnist").replace(lr_factors=())


def _curve(seed: int) -> pd.DataFrame:
    """One seed's curves: I(F_t;Y) rising towards 0.83 bits, mu_Y(F_t;L) tracking it (95%) up to
    a plateau at 0.42, C explaining half of it, S a linear model at L's level."""
    steps = _config().checkpoints(STEPS)
    rise = 1 - np.exp(-steps / (1200.0 + 50 * seed))
    i_fy = 0.83 * rise
    final = steps >= 0.95 * STEPS
    return pd.DataFrame(
        {
            "step": steps,
            "epoch": steps / 125,
            "test_acc": 0.5 + 0.47 * rise,
            "train_loss": 0.7 * (1 - rise) + 0.01,
            "n_predicted": np.where(steps > 0, 2, 1),
            "train_acc": np.where(final, 0.995, np.nan),
            "I_FY": i_fy,
            "mu_L": np.minimum(0.95 * i_fy, 0.42),
            "mu_control": np.minimum(0.5 * i_fy, 0.2),
            "mu_knn": 0.6 * i_fy,
            "I_LY_given_F": 0.02 + 0.4 * (1 - rise),
            "H_Y_given_F": 1 - i_fy,
            "I_SY_given_L": np.full(len(steps), 0.01),
            "s_test_acc": 0.5 + (ACC_L - 0.01 - 0.5) * np.minimum(1, 4 * rise),
            "s_n_predicted": np.where(steps > 0, 2, 1),
        }
    )


def _units() -> dict[int, UnitResult]:
    scalars = {
        "I_LY": I_LY,
        "l_acc": ACC_L,
        "knn_acc": ACC_L + 0.002,
        "knn_k": 5.0,
        "knn_references": 8000.0,
        "l_iterations": 120.0,
        "l_loss": 0.3,
        "l_train_acc": 0.88,
        "n_test": 2000.0,
        "steps": float(STEPS),
        "f_diverged_at": -1.0,
        "s_diverged_at": -1.0,
    }
    return {s: UnitResult(frames={"curves": _curve(s)}, scalars=dict(scalars)) for s in SEEDS}


def _result(units: dict[int, UnitResult]) -> Result:
    return combine(_config(), "constructed", list(units), units, 0.0, 0)


def healthy() -> Result:
    """Their Fig. 4, three seeds: every statistic supported."""
    return _result(_units())


def collapsed_seed() -> Result:
    """Seed 1 predicts one class from step 1,500 on: no information, accuracy 1/2."""
    units = _units()
    curve = units[1].frames["curves"]
    late = curve["step"] >= 1500
    for column in ("I_FY", "mu_L", "mu_control", "mu_knn"):
        curve.loc[late, column] = 0.0
    curve.loc[late, ["test_acc", "n_predicted", "train_acc"]] = [0.5, 1, np.nan]
    curve.loc[late & (curve["step"] >= 0.95 * STEPS), "train_acc"] = 0.5
    return _result(units)


def nan_seed() -> Result:
    """Seed 2's loss turns NaN at step 1,200: the divergence rule fires and the run stops; the
    stopped network predicts one class (argmax of NaN)."""
    units = _units()
    units[2].scalars["f_diverged_at"] = 1200.0
    curve = units[2].frames["curves"]
    late = curve["step"] > 1200
    curve.loc[late, "train_loss"] = np.nan
    for column in ("I_FY", "mu_L", "mu_control", "mu_knn"):
        curve.loc[late, column] = 0.0
    curve.loc[late, ["test_acc", "n_predicted"]] = [0.5, 1]
    return _result(units)


def permuted_labels() -> Result:
    """F trained on permuted training labels: its predictions carry no information about the
    test labels (accuracy at chance), in every seed."""
    units = _units()
    for unit in units.values():
        curve = unit.frames["curves"]
        for column in ("I_FY", "mu_L", "mu_control", "mu_knn"):
            curve[column] = 0.001
        curve["test_acc"] = 0.5
        curve.loc[curve["step"] >= 0.95 * STEPS, "train_acc"] = 1.0
    return _result(units)


def nonlinear_early_never_outgrows() -> Result:
    """A live null of the whole claim: early on F shares no more with L than an independent
    classifier of its accuracy does (its errors independent of L's), and it ends as L itself
    (L's accuracy and information: it never outgrows L). Every run is alive."""
    units = _units()
    for unit in units.values():
        curve = unit.frames["curves"]
        end = curve["I_FY"].to_numpy()[-1]
        shrink = I_LY / end
        for column in ("I_FY", "mu_control", "mu_knn"):
            curve[column] = curve[column] * shrink
        curve["mu_L"] = np.where(curve["step"] >= 0.9 * STEPS, curve["I_FY"], curve["mu_control"])
        curve["test_acc"] = 0.5 + (ACC_L - 0.5) * curve["test_acc"].sub(0.5).div(0.47)
    return _result(units)


def independent_errors() -> Result:
    """F at its usual accuracy whose errors are independent of L's all along: a classifier
    of its accuracy, not the linear one (the null of early_explained and retained)."""
    units = _units()
    for unit in units.values():
        curve = unit.frames["curves"]
        curve["mu_L"] = curve["mu_control"]
    return _result(units)


def accuracy_explains() -> Result:
    """The control meets the criterion: F so accurate early that C, an independent
    classifier of L's accuracy, shares 90% of what F knows in the early window."""
    units = _units()
    for unit in units.values():
        curve = unit.frames["curves"]
        curve["mu_control"] = 0.9 * curve["I_FY"]
    return _result(units)


DEMONSTRATIONS: dict[str, Callable[[], Result]] = {"early_explained_control": accuracy_explains}
SABOTAGE: dict[str, Callable[[], Result]] = {
    "collapsed_seed": collapsed_seed,
    "nan_seed": nan_seed,
    "permuted_labels": permuted_labels,
    "nonlinear_early_never_outgrows": nonlinear_early_never_outgrows,
}
