"""my_claim's statistics: pure functions of the cached result returning every statistic,
control, precondition, harness and reported value of the spec (value, per seed, note).
Editing this module recomputes nothing (it is not part of the cache key)."""

from __future__ import annotations

from sgdclaims.runner import Result
from sgdclaims.values import Statistics, Value, seed_mean

statistics = Statistics()


@statistics.returns("score", "score_control", "ready", "gated", "gated_control", "side")
def _scores(result: Result) -> dict[str, Value]:
    score = result.scalars["score"].to_numpy()
    return {
        "score": seed_mean(score, "the score; mean over seeds"),
        "score_control": seed_mean(score - 0.85, "the score less the level of the null"),
        "ready": Value(float(score.mean() > 0.5), note="1 when the level is high"),
        "gated": seed_mean(score, "the score, asserted only where `ready` holds"),
        "gated_control": Value(0.0, note="the null's score"),
        "side": Value(1.5, note="a reported number"),
    }
