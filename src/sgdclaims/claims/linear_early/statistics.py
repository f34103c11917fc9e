"""linear_early's statistics (shared/CLAIMS.md, linear_early): pure functions of the cached
result, every statistic, control, precondition, harness and reported value with its
per-seed values and the runs (F or S of a seed) that are not alive."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sgdclaims.alive import Liveness, alive_value, dead_runs, liveness, run_name
from sgdclaims.claims.linear_early.measures import (
    early_ratio,
    early_window,
    final_train_accuracy,
    peak_of_running_mean,
)
from sgdclaims.curves import final_of
from sgdclaims.runner import Result
from sgdclaims.values import Statistics, Value, seed_mean

statistics = Statistics()


def seeds_of(result: Result) -> list[int]:
    """The main runs' seeds (the lr_sensitivity units are named, not numbered)."""
    return [int(u) for u in result.units if not isinstance(u, str)]


def seed_curves(result: Result) -> list[pd.DataFrame]:
    """F's (and S's) curves per seed, sorted by step."""
    curves = result.frame("curves")
    return [curves[curves["unit"] == s].sort_values("step") for s in seeds_of(result)]


def scalar(result: Result, name: str) -> float:
    """A scalar that every unit shares (L, the k-NN, the test set)."""
    return float(result.scalars[name].iloc[0])


def runs(result: Result) -> tuple[list[Liveness], list[Liveness]]:
    """`alive` of F and of S for every seed (binary tasks: chance 1/2)."""
    by_unit = result.scalars.set_index("unit")
    f_runs, s_runs = [], []
    for seed, curve in zip(seeds_of(result), seed_curves(result), strict=True):
        for out, who, acc, classes in (
            (f_runs, "F", "test_acc", "n_predicted"),
            (s_runs, "S", "s_test_acc", "s_n_predicted"),
        ):
            at = float(by_unit.loc[seed, f"{who.lower()}_diverged_at"])
            rule = f"the divergence rule fired at step {int(at)}" if at >= 0 else ""
            name = run_name(seed, who)
            out.append(liveness(name, curve["step"], curve[acc], curve[classes], rule, 2))
    return f_runs, s_runs


@statistics.returns(
    "early_explained",
    "early_explained_control",
    "window_points",
    "control_gap",
    "nonlinear_control",
    "knn_matched",
    "n_test",
    "l_iterations",
    "alive",
)
def _early(result: Result) -> dict[str, Value]:
    info_l, seeds = scalar(result, "I_LY"), seed_curves(result)
    f_runs, s_runs = runs(result)
    dead = dead_runs(f_runs)
    ratio = {
        c: np.array([early_ratio(s, c, info_l) for s in seeds])
        for c in ("mu_L", "mu_control", "mu_knn")
    }
    points = [int(early_window(s["I_FY"].to_numpy(), info_l).sum()) for s in seeds]
    own = "each seed on its own early window (NaN: window empty)"
    knn = {k: scalar(result, k) for k in ("knn_acc", "knn_k", "knn_references")}
    as_well = int(np.sum(ratio["mu_knn"] >= ratio["mu_L"]))
    knn_says = (
        f"the accuracy-matched k-NN explains early F as well as L on {as_well} of {len(seeds)} "
        f"seeds (mean {np.mean(ratio['mu_knn']):.3f} against {np.mean(ratio['mu_L']):.3f})"
        + (
            ": the data show 'a classifier of L's accuracy with L's hard examples', not "
            "'linear' as such"
            if as_well == len(seeds)
            else ""
        )
    )
    l_acc, iterations = scalar(result, "l_acc"), scalar(result, "l_iterations")
    return {
        "early_explained": seed_mean(ratio["mu_L"], f"{own}; {knn_says}", dead=dead),
        "early_explained_control": seed_mean(
            ratio["mu_control"], f"L replaced by C (L's per-class accuracy); {own}", dead=dead
        ),
        "window_points": Value(
            min(points), points, "checkpoints in each seed's own early window (fewest shown)"
        ),
        "control_gap": seed_mean(
            ratio["mu_L"] - ratio["mu_control"], "early_explained less its control, per seed"
        ),
        "nonlinear_control": seed_mean(
            ratio["mu_knn"], f"L replaced by the accuracy-matched k-NN; {knn_says}", **knn
        ),
        "knn_matched": Value(
            abs(knn["knn_acc"] - l_acc),
            note=f"|k-NN test accuracy {knn['knn_acc']:.4f} - L's {l_acc:.4f}|",
        ),
        "n_test": Value(scalar(result, "n_test"), note="test examples, the same for every model"),
        "l_iterations": Value(
            iterations / result.config.l_max_iter,
            note=f"L-BFGS ran {int(iterations)} of at most {result.config.l_max_iter} iterations",
            details={"iterations": iterations},
        ),
        "alive": alive_value([*f_runs, *s_runs]),
    }


@statistics.returns("outgrows_linear", "outgrows_linear_excess", "fits_training_set")
def _outgrows(result: Result) -> dict[str, Value]:
    seeds = seed_curves(result)
    f_runs, s_runs = runs(result)
    gap = np.array([final_of(s, "I_FY") - final_of(s, "mu_L") for s in seeds])
    s_gap = np.array([final_of(s, "I_SY_given_L") for s in seeds])
    fits = [final_train_accuracy(s) for s in seeds]
    return {
        "outgrows_linear": seed_mean(
            gap, "bits, I(F_T;Y|L) from final values", dead=dead_runs(f_runs), **{"S": s_gap.mean()}
        ),
        "outgrows_linear_excess": seed_mean(
            gap - s_gap,
            "bits, I(F_T;Y|L) - I(S_T;Y|L): over S, a linear model trained by the same SGD",
            dead=dead_runs([*f_runs, *s_runs]),
        ),
        "fits_training_set": seed_mean(
            fits,
            f"F's final training accuracy on a seeded {result.config.train_sample}-example "
            "sample of its training set",
            dead=dead_runs(f_runs),
        ),
    }


@statistics.returns(
    "outgrown",
    "retention_informative",
    "retained",
    "retention_drop",
    "I_LY",
    "I_FT_Y",
    "accuracy_L",
    "final_accuracy_F",
)
def _retention(result: Result) -> dict[str, Value]:
    info_l, seeds = scalar(result, "I_LY"), seed_curves(result)
    dead = dead_runs(runs(result)[0])
    acc_l = scalar(result, "l_acc")
    acc_f = np.array([final_of(s, "test_acc") for s in seeds])
    mu_l = np.array([final_of(s, "mu_L") for s in seeds])
    mu_c = np.array([final_of(s, "mu_control") for s in seeds])
    room = info_l - mu_c
    peak = np.array([peak_of_running_mean(s, "mu_L") for s in seeds])
    side = {
        "I(L;Y|F_T)": float(np.mean([final_of(s, "I_LY_given_F") for s in seeds])),
        "H(Y|F_T)": float(np.mean([final_of(s, "H_Y_given_F") for s in seeds])),
    }
    return {
        "outgrown": seed_mean(acc_f - acc_l, "final test accuracy of F minus L's", dead=dead),
        "retention_informative": seed_mean(
            room, "bits, I(L;Y) - mu_Y(F_T;C): room above an independent classifier", dead=dead
        ),
        "retained": seed_mean(
            (mu_l - mu_c) / room,
            "excess retention R = [mu_Y(F_T;L) - mu_Y(F_T;C)] / [I(L;Y) - mu_Y(F_T;C)]",
            dead=dead,
        ),
        "retention_drop": seed_mean(
            (peak - mu_l) / room,
            "[max_t of the 3-checkpoint running mean of mu_Y(F_t;L) - mu_Y(F_T;L)] / "
            "[I(L;Y) - mu_Y(F_T;C)]",
            **side,
        ),
        "I_LY": Value(info_l, note="bits, L on the test set"),
        "I_FT_Y": seed_mean([final_of(s, "I_FY") for s in seeds], "bits, final value"),
        "accuracy_L": Value(acc_l, note="L's test accuracy"),
        "final_accuracy_F": seed_mean(acc_f, "F's final test accuracy"),
    }


@statistics.returns("lr_sensitivity")
def _lr(result: Result) -> dict[str, Value]:
    info_l = scalar(result, "I_LY")
    if "lr_curves" not in result.frames:
        return {"lr_sensitivity": Value(np.nan, note="no lr_sensitivity runs in this case")}
    frame = result.frame("lr_curves")
    main = [early_ratio(s, "mu_L", info_l) for s in seed_curves(result)]
    details = {"1x mean": float(np.mean(main)), "1x worst": float(np.min(main))}
    worst_at = {}
    for factor, runs_at in frame.groupby("factor", sort=True):
        ratios = [
            early_ratio(r.sort_values("step"), "mu_L", info_l) for _, r in runs_at.groupby("seed")
        ]
        details[f"{factor:g}x mean"] = float(np.mean(ratios))
        details[f"{factor:g}x worst"] = worst_at[factor] = float(np.min(ratios))
    top = max(worst_at)
    return {
        "lr_sensitivity": Value(
            worst_at[top],
            note=f"early_explained on the worst seed at {top:g}x the lr (each factor beside it)",
            details=details,
        )
    }
