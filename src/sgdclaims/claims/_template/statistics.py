"""my_claim's statistics: pure functions of the cached result returning every statistic,
control, precondition, harness and reported value of the spec (value, per seed, note, the
runs that are not alive). Editing this module recomputes nothing (it is not in the cache
key)."""

from __future__ import annotations

from sgdclaims.alive import alive_value, dead_runs, liveness, run_name
from sgdclaims.curves import final_of
from sgdclaims.runner import Result
from sgdclaims.values import Statistics, Value, seed_mean

statistics = Statistics()


def runs_alive(result: Result) -> list:
    """`alive` of every seed (two classes: chance is 1/2)."""
    out = []
    for seed, curve in zip(result.units, result.per_unit("curves"), strict=True):
        diverged = "loss not finite" if result.scalars["diverged"].iloc[len(out)] else ""
        out.append(
            liveness(
                run_name(seed),
                curve["step"],
                curve["test_acc"],
                curve["n_predicted"],
                diverged,
                num_classes=2,
            )
        )
    return out


@statistics.returns("score", "score_control", "ready", "gated", "gated_control", "side", "alive")
def _scores(result: Result) -> dict[str, Value]:
    curves = result.per_unit("curves")
    runs = runs_alive(result)
    dead = dead_runs(runs)
    score = [final_of(c, "test_acc") for c in curves]
    null = [final_of(c, "null_acc") for c in curves]
    return {
        "score": seed_mean(score, "final test accuracy; mean over seeds", dead=dead),
        "score_control": seed_mean(null, "the same on the null run", dead=dead),
        "ready": seed_mean([float(s > 0.7) for s in score], "1 where the level is high", dead=dead),
        "gated": seed_mean(score, "the score, asserted only where `ready` holds", dead=dead),
        "gated_control": seed_mean(null, "the null run's score", dead=dead),
        "side": Value(1.5, note="a reported number"),
        "alive": alive_value(runs),
    }
