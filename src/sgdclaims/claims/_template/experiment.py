"""my_claim's experiment: `run(config, context) -> Result`, computed unit by unit (one seed
each) and cached per unit, so an interrupted run resumes. Replace `measure` with the paper's
training and measurement; keep whole data sets as tensors on `context.device`. Experiments
never assert: what they find goes into the Result, which statistics.py reads."""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
import pandas as pd

from sgdclaims.claims.my_claim.config import MyClaimConfig
from sgdclaims.curves import tail_steps
from sgdclaims.runner import Result, RunContext, UnitResult, run_units

#: the checkpoints of the stand-in's learning curve (3 in the last 5%: the final value)
STEPS = np.unique(np.concatenate([np.arange(0, 101, 5), tail_steps(100)]))
#: the final accuracy of the null run (the same measurement with the effect removed)
NULL_LEVEL = 0.55


def measure(cfg: MyClaimConfig, seed: int) -> UnitResult:
    """One seed, a named synthetic stand-in: a test-accuracy curve rising to the level plus
    0.01 per seed, a null run's rising to NULL_LEVEL plus as much, and what `alive` needs
    (distinct predicted classes per checkpoint, the divergence rule that fired: none)."""
    final, null = cfg.level + 0.01 * seed, NULL_LEVEL + 0.01 * seed
    rise = 1 - np.exp(-STEPS / 10.0)
    curve = pd.DataFrame(
        {
            "step": STEPS,
            "test_acc": 0.5 + (final - 0.5) * rise,
            "null_acc": 0.5 + (null - 0.5) * rise,
            "n_predicted": np.full(len(STEPS), 2),
        }
    )
    curve.loc[curve["step"] >= 95, ["test_acc", "null_acc"]] = [final, null]
    return UnitResult(frames={"curves": curve}, scalars={"diverged": 0.0})


def run(cfg: MyClaimConfig, context: RunContext) -> Result:
    """Every seed of the config, each cached as soon as it is done."""

    def compute(seed: Hashable) -> UnitResult:
        return measure(cfg, int(seed))  # type: ignore[call-overload]

    return run_units(cfg, list(cfg.seeds), compute, context, label=f"my_claim {cfg.dataset}")
