"""eg_scaling's ODE-against-SGD statistics (Goldt et al. 2020, Thm. 1, Fig. 1b): the median
log-deviation of SGD from the ODE started from its own initial order parameters, over
checkpoints uniform in alpha, at N (with its control), and its shrinking from N to 4N (a
contrast against the deviation at N)."""

from __future__ import annotations

import numpy as np

from sgdclaims.alive import Liveness, dead_runs
from sgdclaims.claims.eg_scaling.fits import deviations
from sgdclaims.runner import Result
from sgdclaims.values import Value, seed_bootstrap, seed_mean

#: a diverged run (NaN deviation) fails; never dropped
NAN = {"skipna": False}


@np.errstate(divide="ignore", invalid="ignore")  # a zero deviation at N gives inf, not a warning
def match_values(result: Result, runs: dict[str, list[Liveness]]) -> dict[str, Value]:
    """ode_matches_sgd (worst K of the mean over seeds at N) with its control, and
    ode_matches_sgd_4n (the mean deviation at 4N over that at N)."""
    cfg, frame = result.config, result.frame("match")
    n0, n1, k0 = cfg.match_n, cfg.match_n * cfg.match_n_factor, min(cfg.match_ks)
    dead0 = dead_runs(runs[f"match-n{n0}"])
    dead = dead0 + dead_runs(runs[f"match-n{n1}"])
    base, big = deviations(frame, n0), deviations(frame, n1)
    table = base.unstack("k")  # (seed, K)
    big_table = big.unstack("k")
    per_k_mean = table.mean(**NAN)
    wrong = deviations(frame, n0, k_ode=k0).drop(k0)
    ratio = big_table.mean(axis=1, **NAN) / table.mean(axis=1, **NAN)
    seeds = len(table)

    def worst_k(idx: np.ndarray) -> float:
        return float(table.iloc[idx].mean(**NAN).max(**NAN))

    def shrink(idx: np.ndarray) -> float:
        return float(big_table.iloc[idx].to_numpy().mean() / table.iloc[idx].to_numpy().mean())

    means = {f"mean at N={n0}": base.mean(**NAN), f"mean at N={n1}": big.mean(**NAN)}
    return {
        "ode_matches_sgd": Value(
            per_k_mean.max(**NAN),
            table.max(axis=1, **NAN),
            f"N={n0}, median over the {cfg.match_checkpoints} checkpoints uniform in alpha over "
            f"the horizon {cfg.match_alpha:g} (the log-spaced ones are for the figure only): "
            "the worst K of the mean over seeds; per seed: its worst K",
            {
                **{f"K={k}": v for k, v in per_k_mean.items()},
                **{f"K={k} seed {s}": v for (k, s), v in base.items()},
            },
            dead=dead0,
            replicates=seed_bootstrap(seeds, worst_k),
        ),
        "ode_matches_sgd_control": seed_mean(
            wrong,
            f"N={n0}: SGD of K={max(cfg.match_ks)} against the ODE of K={k0} started from "
            "the same seed (curves of another network)",
            dead=dead0,
        ),
        "ode_matches_sgd_4n": Value(
            big.mean(**NAN) / base.mean(**NAN),
            ratio,
            f"mean deviation at N={n1} over that at N={n0} (the null: the deviation at N, "
            "measured in the same run); per seed",
            means,
            dead=dead,
            replicates=seed_bootstrap(seeds, shrink),
        ),
    }
