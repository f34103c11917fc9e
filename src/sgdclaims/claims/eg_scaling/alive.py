"""`alive` for eg_scaling's runs (shared/CLAIMS.md, Common ground), read for regression: a run
(an SGD seed, or an ODE start) is alive when the divergence rule of sgdclaims.training never
fired (its loss, or its eps_g, stayed finite and below 100x its initial value) and its final
eps_g (the mean over the last 5% of the run) is finite and at most 95% of the error of the
best constant predictor. The constant predictor is the regression analogue of chance (a
network whose output collapsed to a constant scores it), 95% of it of "chance + 5 pp"."""

from __future__ import annotations

import math

import pandas as pd

from sgdclaims.alive import Liveness
from sgdclaims.runner import Result

#: a live run ends at most this share of the best constant predictor's eps_g
LEARNED = 0.95


def liveness_of(run: str, diverged: str, final: float, constant: float) -> Liveness:
    """Liveness of one run from the rule that stopped it ('' if none), its final eps_g and
    the best constant predictor's."""
    if diverged:
        return Liveness(run, False, f"diverged ({diverged})")
    if not math.isfinite(final):
        return Liveness(run, False, "final eps_g is not finite")
    if final > LEARNED * constant:
        return Liveness(
            run, False, f"final eps_g {final:.3g} above 95% of the constant predictor's"
        )
    return Liveness(run, True)


def runs_of(
    frame: pd.DataFrame,
    model: str,
    *,
    seed: str = "seed",
    label: tuple[str, ...] = ("k",),
    diverged: str = "diverged",
    final: str = "eps_final",
) -> list[Liveness]:
    """Liveness of every row of a run table (one row per run), named 'seed 1 (<model> K=4)'
    or 'start 1 (...)' from its seed column and the label columns."""
    out = []
    for _, row in frame.iterrows():
        tags = "".join(f" {'K' if c == 'k' else c}={row[c]:g}" for c in label)
        rule = row[diverged] if isinstance(row[diverged], str) else ""
        name = f"{seed} {row[seed]} ({model}{tags})"
        out.append(liveness_of(name, rule, float(row[final]), float(row.eps_const)))
    return out


def part_runs(result: Result) -> dict[str, list[Liveness]]:
    """Liveness of every run of the claim, by part: the Fig. 1b SGD runs and their ODEs at
    each N, the random ODE starts (SCM, both layers, eq. 15), and the SGD runs of the
    asymptote parts (and the linear network's ODE from the same starts)."""
    match = result.frame("match_runs")
    out = {}
    for n, runs in match.groupby("n"):
        out[f"match-n{n}"] = runs_of(runs, f"SGD N={n}") + runs_of(
            runs, f"ODE N={n}", diverged="ode_diverged", final="ode_final"
        )
    out["reached"] = runs_of(result.frame("reached"), "SCM ODE", seed="start")
    for part in ("both", "eq15"):
        out[part] = runs_of(result.frame(part), f"{part} ODE", seed="start")
    for part in ("sgd", "relu", "linear"):
        out[part] = runs_of(result.frame(part), f"{part} SGD", label=("L",), final="eps_sgd")
    out["linear_ode"] = runs_of(
        result.frame("linear"),
        "linear ODE",
        label=("L",),
        diverged="ode_diverged",
        final="ode_final",
    )
    return out
