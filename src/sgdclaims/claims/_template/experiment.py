"""my_claim's experiment: `run(config, context) -> Result`, computed unit by unit (one seed
each) and cached per unit, so an interrupted run resumes. Replace `measure` with the paper's
training and measurement; keep whole data sets as tensors on `context.device`. Experiments
never assert: what they find goes into the Result, which statistics.py reads."""

from __future__ import annotations

from collections.abc import Hashable

from sgdclaims.claims.my_claim.config import MyClaimConfig
from sgdclaims.runner import Result, RunContext, UnitResult, run_units


def measure(cfg: MyClaimConfig, seed: int) -> UnitResult:
    """One seed: a named synthetic stand-in whose score is the level plus 0.01 per seed."""
    return UnitResult(scalars={"score": cfg.level + 0.01 * seed})


def run(cfg: MyClaimConfig, context: RunContext) -> Result:
    """Every seed of the config, each cached as soon as it is done."""

    def compute(seed: Hashable) -> UnitResult:
        return measure(cfg, int(seed))  # type: ignore[call-overload]

    return run_units(cfg, list(cfg.seeds), compute, context, label=f"my_claim {cfg.dataset}")
