"""linear_early's statistics (shared/CLAIMS.md, linear_early): pure functions of the cached
result, every statistic, control, precondition and reported value with its per-seed values."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sgdclaims.curves import final_of
from sgdclaims.runner import Result
from sgdclaims.values import Statistics, Value, seed_mean

#: the early window: 0.2 I(L;Y) <= I(F_t;Y) <= 0.8 I(L;Y)
WINDOW = (0.2, 0.8)
statistics = Statistics()


def i_ly(result: Result) -> float:
    """I(L;Y) in bits (the same for every seed: L is fixed)."""
    return float(result.scalars["I_LY"].iloc[0])


def early_window(i_fy: np.ndarray, info_l: float) -> np.ndarray:
    """The checkpoints with 0.2 I(L;Y) <= I(F_t;Y) <= 0.8 I(L;Y)."""
    return (i_fy >= WINDOW[0] * info_l) & (i_fy <= WINDOW[1] * info_l)


def early_ratio(curve: pd.DataFrame, column: str, info_l: float) -> float:
    """min over the seed's own early window of mu / I(F_t;Y); NaN when it is empty."""
    i_fy = curve["I_FY"].to_numpy()
    inside = early_window(i_fy, info_l)
    if not inside.any():
        return float("nan")
    return float(np.min(curve[column].to_numpy()[inside] / i_fy[inside]))


@statistics.returns(
    "early_explained",
    "early_explained_control",
    "window_points",
    "control_gap",
    "control_gap_control",
    "nonlinear_control",
)
def _early(result: Result) -> dict[str, Value]:
    info_l, seeds = i_ly(result), result.per_unit("curves")
    columns = ("mu_L", "mu_control", "mu_knn", "mu_surrogate_L", "mu_surrogate_control")
    ratio = {c: np.array([early_ratio(s, c, info_l) for s in seeds]) for c in columns}
    points = [int(early_window(s["I_FY"].to_numpy(), info_l).sum()) for s in seeds]
    own = "each seed on its own early window, then the mean over seeds (NaN: window empty)"
    knn = {k: float(result.scalars[k].iloc[0]) for k in ("knn_acc", "knn_k", "knn_references")}
    return {
        "early_explained": seed_mean(ratio["mu_L"], own),
        "early_explained_control": seed_mean(ratio["mu_control"], f"control classifier; {own}"),
        "window_points": Value(
            min(points),
            points,
            "checkpoints in each seed's own early "
            "window; fewer than 5: the schedule is too sparse there",
        ),
        "control_gap": seed_mean(ratio["mu_L"] - ratio["mu_control"], "per seed, then mean"),
        "control_gap_control": seed_mean(
            ratio["mu_surrogate_L"] - ratio["mu_surrogate_control"],
            "the same gap for F'_t: F_t's per-class accuracy, errors drawn at random",
        ),
        "nonlinear_control": seed_mean(
            ratio["mu_knn"],
            f"L replaced by the accuracy-matched k-NN; {own}",
            **knn,
            accuracy_L=float(result.scalars["l_acc"].iloc[0]),
        ),
    }


@statistics.returns("outgrows_linear", "outgrows_linear_control")
def _outgrows(result: Result) -> dict[str, Value]:
    seeds = result.per_unit("curves")
    gap = [final_of(s, "I_FY") - final_of(s, "mu_L") for s in seeds]
    return {
        "outgrows_linear": seed_mean(gap, "bits; final values (mean over the last 5% of the run)"),
        "outgrows_linear_control": seed_mean(
            [final_of(s, "I_SY_given_L") for s in seeds],
            "bits: I(S_T;Y|L), S a linear model trained by the same SGD as F; final values",
        ),
    }


@statistics.returns(
    "outgrown",
    "retained",
    "retained_control",
    "retention_drop",
    "retention_drop_control",
    "I_LY",
    "I_FT_Y",
    "accuracy_L",
    "final_accuracy_F",
)
def _retention(result: Result) -> dict[str, Value]:
    info_l, seeds = i_ly(result), result.per_unit("curves")
    acc_l = float(result.scalars["l_acc"].iloc[0])
    acc_f = [final_of(s, "test_acc") for s in seeds]
    drop = [(s["mu_L"].max() - final_of(s, "mu_L")) / info_l for s in seeds]
    forgot = [(s["mu_L"].max() - final_of(s, "mu_surrogate_L")) / info_l for s in seeds]
    side = {
        "I(L;Y|F_T)": float(np.mean([final_of(s, "I_LY_given_F") for s in seeds])),
        "H(Y|F_T)": float(np.mean([final_of(s, "H_Y_given_F") for s in seeds])),
    }
    return {
        "outgrown": seed_mean(np.array(acc_f) - acc_l, "final test accuracy of F minus L's"),
        "retained": seed_mean([final_of(s, "mu_L") / info_l for s in seeds], "mu_Y(F_T;L)/I(L;Y)"),
        "retained_control": seed_mean(
            [final_of(s, "mu_control") / info_l for s in seeds],
            "mu_Y(F_T;C)/I(L;Y), C the control classifier (L's per-class accuracy)",
        ),
        "retention_drop": seed_mean(drop, "(max_t mu - final mu) / I(L;Y)", **side),
        "retention_drop_control": seed_mean(
            forgot,
            "(max_t mu_Y(F_t;L) - final mu_Y(F'_T;L)) / I(L;Y), F' = F's per-class "
            "accuracy with random errors",
        ),
        "I_LY": Value(info_l, note="bits, L on the test set"),
        "I_FT_Y": seed_mean([final_of(s, "I_FY") for s in seeds], "bits, final value"),
        "accuracy_L": Value(acc_l, note="L's test accuracy"),
        "final_accuracy_F": seed_mean(acc_f, "F's final test accuracy"),
    }
