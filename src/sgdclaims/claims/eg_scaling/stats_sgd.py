"""eg_scaling's SGD statistics (shared/CLAIMS.md, eg_scaling; Goldt et al. 2020, Fig. 2a, 4,
eq. 12): the growth of the SGD asymptotes with L over the settled L only (erf and ReLU), with
their exact permutation p-values, and the linear network against eq. 12."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from sgdclaims.alive import Liveness, dead_runs
from sgdclaims.claims.eg_scaling.fits import permutation_p, signed_r2, spearman_or_nan
from sgdclaims.runner import Result
from sgdclaims.values import Value, seed_bootstrap

#: an L is settled when every seed's SGD eps_g changes by less than this over the last half
#: of the horizon (sgd_settled)
CHANGE = 0.10
#: a diverged run (NaN) fails; never dropped
NAN = {"skipna": False}


def _safe(statistic: Callable[[np.ndarray, np.ndarray], float]) -> Callable:
    """The statistic, NaN for fewer than 2 points."""
    return lambda x, y: statistic(x, y) if len(x) >= 2 else float("nan")


def settled_trend(
    frame: pd.DataFrame, statistic: Callable, scale: float, what: str, dead: tuple[str, ...]
) -> tuple[Value, Value]:
    """The precondition (how many L are settled: every seed's eps_g changes by less than 10%
    over the last half of the horizon) and the trend statistic over the settled L: of the
    per-L means over seeds (eps_g / scale), per seed, its seed-bootstrap replicates and its
    exact permutation p-value (the L assigned to the means in every order)."""
    statistic = _safe(statistic)
    table = frame.pivot(index="seed", columns="L", values="eps_sgd") / scale
    change = frame.pivot(index="seed", columns="L", values="change")
    settled = [ell for ell in table.columns if (change[ell] < CHANGE).all()]
    ls, sub = np.array(settled, dtype=float), table[settled]
    means = sub.mean(**NAN).to_numpy()
    p = permutation_p(statistic, ls, means) if len(ls) >= 2 else float("nan")
    worst = change.max(**NAN)
    precondition = Value(
        len(settled),
        note=f"L whose every seed's SGD eps_g changes by < 10% over the last half: {settled}",
        details={f"L={ell} change": v for ell, v in worst.items()},
        dead=dead,
    )
    trend = Value(
        statistic(ls, means),
        [statistic(ls, row) for row in sub.to_numpy()],
        f"{what} of the settled L {settled} and the per-L mean over seeds of the final SGD "
        f"eps_g/sigma^2; per seed. Exact permutation p = {p:.3g}",
        {"permutation p": p, **{f"L={ell:g}": v for ell, v in zip(ls, means)}},
        dead=dead,
        replicates=seed_bootstrap(len(sub), lambda idx: statistic(ls, sub.iloc[idx].mean(**NAN))),
    )
    return precondition, trend


def sgd_values(result: Result, runs: dict[str, list[Liveness]]) -> dict[str, Value]:
    """sgd_settled, sgd_grows_with_L (Spearman), relu_settled, relu_grows_with_L (signed R^2)
    and how far the ODE from the SGD starts still moved over the SGD horizon's last half."""
    s2 = result.config.sigma**2
    sgd, relu = result.frame("sgd"), result.frame("relu")
    sgd_pre, sgd_trend = settled_trend(sgd, spearman_or_nan, s2, "Spearman", dead_runs(runs["sgd"]))
    relu_pre, relu_trend = settled_trend(
        relu, signed_r2, s2, "R^2 (signed by the slope)", dead_runs(runs["relu"])
    )
    change = sgd.groupby("L").ode_change.max(**NAN)
    return {
        "sgd_settled": sgd_pre,
        "sgd_grows_with_L": sgd_trend,
        "sgd_ode_change": Value(
            change.max(**NAN),
            sgd.ode_change,
            "the ODE from each SGD start at its eta: |change of eps_g over the last half of "
            "the SGD run|, the largest; per run",
            {f"L={ell}": v for ell, v in change.items()},
        ),
        "relu_settled": relu_pre,
        "relu_grows_with_L": relu_trend,
    }


def linear_values(result: Result, runs: dict[str, list[Liveness]]) -> dict[str, Value]:
    """linear_ode_eq12 (the ODE from each SGD start at linear_ode_alpha) and linear_sgd_eq12:
    contrasts against eq. 12's prediction at each K (its relative distance)."""
    cfg, frame = result.config, result.frame("linear")
    out = {}
    for name, column, part in (
        ("linear_ode_eq12", "ode_reached", "linear_ode"),
        ("linear_sgd_eq12", "eps_sgd", "linear"),
    ):
        err = frame.assign(e=np.abs(frame[column] / frame.eq12 - 1))
        table = err.pivot(index="seed", columns="k", values="e")
        out[name] = Value(
            table.mean(**NAN).max(**NAN),
            table.max(axis=1, **NAN),
            "max over K of the mean over seeds of |value / eq. 12 - 1| (eq. 12 at eta="
            f"{cfg.linear_eta:g}, M={cfg.linear_m}); per seed: its worst K",
            {f"K={k}": v for k, v in table.mean(**NAN).items()},
            dead=dead_runs(runs[part]),
            replicates=seed_bootstrap(
                len(table), lambda idx, t=table: t.iloc[idx].mean(**NAN).max(**NAN)
            ),
        )
    return out
