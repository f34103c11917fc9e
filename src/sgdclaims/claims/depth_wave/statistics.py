"""depth_wave's statistics (shared/CLAIMS.md, depth_wave; Pinson et al., Sec. 2-3): pure
functions of the cached result, every statistic, control, precondition and reported value
with its per-seed values."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from sgdclaims import depth
from sgdclaims.claims.depth_wave.curves import (
    accuracy_curves,
    depth_of,
    divergences,
    preactivation_curves,
)
from sgdclaims.curves import final_mask, final_value
from sgdclaims.info import performance_correlation
from sgdclaims.ranking import spearman
from sgdclaims.runner import Result
from sgdclaims.values import Statistics, Value, seed_mean

#: CLAIMS.md thresholds of wave_monotone and preact_deep_first (spec.py states them too):
#: the shuffle controls count the shuffles that pass them
WAVE_RHO, DEEP_RHO = -0.8, -0.5
statistics = Statistics()


def _setup(result: Result) -> tuple[np.ndarray, list[str], np.ndarray, int, float]:
    """Steps, labels, accuracy (seeds, variants, T), the number of layers and chance."""
    steps, labels, acc = accuracy_curves(result)
    n_layers = int(result.provenance["layers"])
    chance = 1.0 / int(result.provenance["num_classes"])
    return steps, labels, acc, n_layers, chance


@statistics.returns("headroom", "accuracy_logistic", "final_accuracy_main")
def _headroom(result: Result) -> dict[str, Value]:
    steps, labels, acc, _, _ = _setup(result)
    acc_l = float(result.scalars["acc_logistic"].iloc[0])
    final = final_value(steps, acc)  # (seeds, variants)
    others = {f"final acc k={lab}": float(final[:, i].mean()) for i, lab in enumerate(labels)}
    return {
        "headroom": seed_mean(
            0.95 * final[:, 0] - 0.02 - acc_l,
            "0.95 x main final accuracy - 2 points - logistic accuracy",
            logistic=acc_l,
            main=float(final[:, 0].mean()),
            **others,
        ),
        "accuracy_logistic": Value(acc_l, note="logistic regression on the same inputs"),
        "final_accuracy_main": seed_mean(final[:, 0], "final test accuracy of the main model"),
    }


@statistics.returns(
    "wave_monotone",
    "wave_monotone_control",
    "linear_diverges_first",
    "linear_diverges_first_control",
)
def _wave(result: Result) -> dict[str, Value]:
    steps, labels, acc, n_layers, chance = _setup(result)
    depths = [depth_of(lab, n_layers) for lab in labels if lab != "0"]
    d = divergences(steps, labels, acc.mean(0), chance)
    per_seed = [divergences(steps, labels, a, chance) for a in acc]

    def rho(_: int, ds: Any) -> float:  # Spearman, inf ranked last; NaN for a diverged run
        ds = np.asarray(list(ds), dtype=float)
        return float("nan") if np.isnan(ds).any() else spearman(depths, ds)

    control, n = depth.shuffled_pass_fraction([np.array(list(d.values()))], rho, WAVE_RHO)
    seed_control = [
        depth.shuffled_pass_fraction([np.array(list(s.values()))], rho, WAVE_RHO)[0]
        for s in per_seed
    ]
    total = float(steps[-1])
    pairs = [
        depth.divergence_step(steps, acc[i, 0], acc[j, 0], chance) / total
        for i, j in itertools.permutations(range(len(acc)), 2)
    ]
    return {
        "wave_monotone": Value(
            rho(0, d.values()),
            [rho(0, s.values()) for s in per_seed],
            "Spearman rho(k, d(k)) over k in {2..all}, d from seed-mean curves; per seed from "
            "each seed's curves",
            {f"d({k})": v for k, v in d.items()},
        ),
        "wave_monotone_control": Value(
            control,
            seed_control,
            f"share of the {n} shuffles of d over k with rho <= {WAVE_RHO}",
        ),
        "linear_diverges_first": Value(
            d["all"] / total,
            [s["all"] / total for s in per_seed],
            f"d(all) / {total:g} steps",
            {"d(all)": d["all"]},
        ),
        "linear_diverges_first_control": seed_mean(
            pairs,
            "d between two main-model seeds / steps, the mean over every ordered pair "
            "(CLAIMS.md common ground: a statistic is the mean over seeds): seed noise alone",
        ),
    }


@statistics.returns("layers_turn", "preact_deep_first", "preact_deep_first_control")
def _deep_first(result: Result) -> dict[str, Value]:
    steps, pre = preactivation_curves(result, "0")
    after = steps > 0  # step 0: BN running statistics not yet estimated
    fits = [depth.deep_first_correlation(steps[after], p[:, after]) for p in pre]
    t_neg = [t for _, t in fits]
    turning = [int(np.isfinite(t).sum()) for t in t_neg]
    negative = [np.flatnonzero(np.isfinite(t)) for t in t_neg]

    def rho_of(order: np.ndarray, seed: int) -> float:
        return spearman(negative[seed], t_neg[seed][order]) if len(order) > 1 else np.nan

    control, n = depth.shuffled_pass_fraction(negative, lambda s, o: rho_of(o, s), DEEP_RHO)
    details = {
        f"t_neg({layer}) seed {s}": float(t)
        for s, ts in enumerate(t_neg)
        for layer, t in enumerate(ts)
    }
    return {
        "layers_turn": Value(
            min(turning),
            turning,
            "fewest layers of the main model with a t_neg in any seed (each seed's rho needs them)",
        ),
        "preact_deep_first": seed_mean(
            [r for r, _ in fits],
            "Spearman rho(l, t_neg(l)) over the layers that go below -0.05, per seed",
            **details,
        ),
        "preact_deep_first_control": Value(
            control,
            note=f"share of {n} shuffles of each seed's layer order with mean rho <= {DEEP_RHO}",
        ),
    }


def _final_abs(result: Result, variant: str, from_layer: int = 0) -> np.ndarray:
    """(seeds,) final value of the mean |preactivation mean| over layers >= from_layer."""
    steps, pre = preactivation_curves(result, variant)
    return final_value(steps, np.abs(pre[:, from_layer:]).mean(1))


@statistics.returns("linear_layers_near_zero", "linear_layers_near_zero_control")
def _near_zero(result: Result) -> dict[str, Value]:
    labels = list(result.provenance["variants"])
    main, linear = _final_abs(result, "0"), _final_abs(result, "all")
    middle = [lab for lab in labels if lab not in ("0", "all")]
    control = np.mean(
        [_final_abs(result, lab, int(lab)) / _final_abs(result, "0", int(lab)) for lab in middle],
        axis=0,
    )
    return {
        "linear_layers_near_zero": seed_mean(
            linear / main,
            "final mean |preactivation mean| of the fully linear model / the main model's",
            linear=float(linear.mean()),
            main=float(main.mean()),
        ),
        "linear_layers_near_zero_control": seed_mean(
            control,
            "the same ratio for the ReLU layers (k..) of the partly-linear variants vs the "
            "main model's, mean over k",
        ),
    }


@statistics.returns("mu_baseline")
def _mu(result: Result) -> dict[str, Value]:
    steps, labels, _, _, _ = _setup(result)
    tail = final_mask(steps)
    preds = [result.arrays[u]["preds"][:, tail] for u in result.units]
    y = result.arrays[result.units[0]]["y_test"]

    def mu(f: np.ndarray, g: np.ndarray) -> float:
        return float(np.mean(performance_correlation(f, y, g)))

    n = len(preds)
    between = [
        np.mean([mu(preds[i][0], preds[j][0]) for j in range(n) if j != i]) for i in range(n)
    ]
    variants = {
        f"mu(M;P_{lab})": float(np.mean([mu(p[0], p[v]) for p in preds]))
        for v, lab in enumerate(labels)
        if lab != "0"
    }
    note = "bits, mu_Y(M_i;M_j) between main-model seeds (final checkpoints); mu(M;P_k) beside it"
    return {"mu_baseline": seed_mean(between, note, **variants)}
