"""depth_wave's statistics (shared/CLAIMS.md, depth_wave; Pinson et al., Sec. 2-3): pure
functions of the cached result, every statistic, control, precondition, harness and reported
value with its per-seed values and the runs that are not alive."""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from sgdclaims.alive import alive_value
from sgdclaims.claims.depth_wave.curves import MAIN, Curves, divergences, read
from sgdclaims.claims.depth_wave.wave import (
    deep_first,
    first_ks,
    layer_means,
    mu_between,
    twin_divergence,
    wave_p,
    wave_rho,
)
from sgdclaims.curves import final_value
from sgdclaims.runner import Result
from sgdclaims.values import Statistics, Value, seed_bootstrap, seed_mean

statistics = Statistics()


@statistics.returns("n_test", "alive", "early_evaluations", "lbfgs_below_limit")
def _harness(result: Result) -> dict[str, Value]:
    c = read(result)
    early = int(((c.steps > 0) & (c.steps <= 0.1 * c.total)).sum())
    iters = float(result.scalars["l_iterations"].iloc[0])
    limit = float(result.scalars["l_max_iter"].iloc[0])
    return {
        "n_test": Value(int(result.provenance["n_test"]), note="test images of every evaluation"),
        "alive": alive_value(c.runs),
        "early_evaluations": Value(early, note=f"evaluations in (0, {0.1 * c.total:g}] steps"),
        "lbfgs_below_limit": Value(
            iters / limit, note=f"L-BFGS iterations / limit: {iters:g} of {limit:g}"
        ),
    }


@statistics.returns("headroom", "accuracy_logistic", "final_accuracy")
def _headroom(result: Result) -> dict[str, Value]:
    c = read(result)
    acc_l = float(result.scalars["acc_logistic"].iloc[0])
    final = final_value(c.steps, c.acc)  # (seeds, members)
    main = final[:, c.labels.index(MAIN)]
    per_variant = {f"k={lab}": float(final[:, i].mean()) for i, lab in enumerate(c.labels)}
    return {
        "headroom": seed_mean(
            0.95 * main - 0.02 - acc_l,
            "0.95 x the main model's final accuracy - 2 points - logistic accuracy, per seed",
            dead=c.dead([MAIN]),
            logistic=acc_l,
            main=float(main.mean()),
        ),
        "accuracy_logistic": Value(acc_l, note="logistic regression on the same inputs"),
        "final_accuracy": Value(
            float(main.mean()),
            main,
            "final test accuracy of the main model; of every member beside it (seed means)",
            per_variant,
        ),
    }


def _bootstrap(c: Curves, statistic: Callable[[np.ndarray], float]) -> tuple[float, ...]:
    """`statistic(seed-mean accuracy)` on seed-bootstrap resamples (verdict stability); a
    resample's mean depends only on which seeds it holds, so each multiset is computed once."""

    @functools.cache
    def of(seeds: tuple[int, ...]) -> float:
        return statistic(c.acc[list(seeds)].mean(0))

    return seed_bootstrap(len(c.acc), lambda idx: of(tuple(sorted(idx))))


@statistics.returns("graded", "wave_monotone", "wave_monotone_control", "wave_monotone_p")
def _wave(result: Result) -> dict[str, Value]:
    c = read(result)
    ks, mean = first_ks(c), c.acc.mean(0)
    d_first, d_last = divergences(c, ks, mean), divergences(c, c.last, mean)
    inner = [i for i, lab in enumerate(ks) if lab != "all"]
    per_seed = [divergences(c, ks, a) for a in c.acc]
    dead_first, dead_last = c.dead([MAIN, *ks]), c.dead([MAIN, *c.last])
    rho_control = wave_rho(c, c.last, d_last)
    return {
        "graded": Value(
            int(np.isfinite(d_first[inner]).sum()),
            note="intermediate variants (0 < k < all) with a finite d(k), seed-mean curves",
            details={f"seed {s}": int(np.isfinite(d[inner]).sum()) for s, d in enumerate(per_seed)},
            dead=dead_first,
        ),
        "wave_monotone": Value(
            wave_rho(c, ks, d_first),
            [wave_rho(c, ks, d) for d in per_seed],
            "Spearman rho(k, d(k)) over k in {2..all}, d from seed-mean curves; per seed "
            "from each seed's curves",
            {f"d({lab})": d for lab, d in zip(ks, d_first)},
            dead=dead_first,
            replicates=_bootstrap(c, lambda m: wave_rho(c, ks, divergences(c, ks, m))),
        ),
        "wave_monotone_control": Value(
            0.0 if np.isnan(rho_control) and not np.isnan(d_last).any() else rho_control,
            note="rho(k, d) over the last-k variants (0 where d is constant: no order)",
            details={f"d({lab})": d for lab, d in zip(c.last, d_last)},
            dead=dead_last,
        ),
        "wave_monotone_p": Value(
            wave_p(c, ks, d_first),
            note="one-sided shuffle p of wave_monotone over every order of the d(k)",
        ),
    }


@statistics.returns("linear_diverges_first", "linear_diverges_first_control")
def _linear_first(result: Result) -> dict[str, Value]:
    c = read(result)
    d_all = divergences(c, ["all"], c.acc.mean(0))[0]
    per_seed = [divergences(c, ["all"], a)[0] / c.total for a in c.acc]
    ab, ba = twin_divergence(c)
    return {
        "linear_diverges_first": Value(
            d_all / c.total,
            per_seed,
            f"d(all) / {c.total:g} steps, seed-mean curves; per seed from each seed's curves",
            {"d(all)": d_all},
            dead=c.dead([MAIN, "all"]),
            replicates=_bootstrap(c, lambda m: divergences(c, ["all"], m)[0] / c.total),
        ),
        "linear_diverges_first_control": Value(
            min(ab, ba) / c.total,
            note="the earlier d between the two twin groups' mean curves (either as the "
            "main model) / steps: seed noise alone",
            details={"d(twin_a, twin_b)": ab, "d(twin_b, twin_a)": ba},
            dead=c.dead(c.twins),
        ),
    }


@statistics.returns("layers_turn", "preact_deep_first", "preact_deep_first_p")
def _deep_first(result: Result) -> dict[str, Value]:
    c = read(result)
    t_neg, rhos, p = deep_first(result)
    dead = c.dead([MAIN])
    turning = [int(np.isfinite(t).sum()) for t in t_neg]
    details = {
        f"t_neg({l}) seed {s}": float(t) for s, ts in enumerate(t_neg) for l, t in enumerate(ts)
    }
    return {
        "layers_turn": Value(
            min(turning), turning, "layers of the main model with a t_neg, per seed", dead=dead
        ),
        "preact_deep_first": seed_mean(
            rhos,
            "Spearman rho(l, t_neg(l)) over the layers that go below -0.05 (train mode), per seed",
            dead=dead,
            **details,
        ),
        "preact_deep_first_p": Value(
            p, note="one-sided layer-shuffle p of the seed-mean rho", dead=dead
        ),
    }


@statistics.returns("linear_layers_near_zero", "mu_baseline")
def _reported(result: Result) -> dict[str, Value]:
    c = read(result)
    main, linear = layer_means(result, MAIN), layer_means(result, "all")
    between, variants = mu_between(result, c)
    return {
        "linear_layers_near_zero": seed_mean(
            linear / main,
            "final mean |train-mode preactivation mean| over the layers of the fully linear "
            "model / the main model's",
            dead=c.dead([MAIN, "all"]),
            linear=float(linear.mean()),
            main=float(main.mean()),
        ),
        "mu_baseline": seed_mean(
            between,
            "bits, mu_Y(M_i;M_j) between the main model and its twins (final checkpoints); "
            "mu(M;P_k) beside it",
            **variants,
        ),
    }
