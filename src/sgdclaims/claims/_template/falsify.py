"""my_claim's falsifiability (shared/CLAIMS.md, Falsifiability): for each control a result on
which it meets its statistic's criterion (the proof that it can fail), and the sabotage
suite: results in which the claim is false by construction, none of which may come out
supported. Built from the experiment's own `measure`, then broken the way a real run
breaks."""

from __future__ import annotations

from collections.abc import Callable

from sgdclaims.claims.my_claim.config import CASES
from sgdclaims.claims.my_claim.experiment import measure
from sgdclaims.runner import Result, UnitResult, combine


def result_of(units: dict[int, UnitResult]) -> Result:
    """A Result of constructed units, as run_units would combine them."""
    cfg = CASES.config("fast", CASES.datasets("fast")[0])
    return combine(cfg, "constructed", list(units), units, 0.0, 0)


def healthy(level: float = 0.9) -> dict[int, UnitResult]:
    """Three seeds as the fast case would measure them at `level`."""
    cfg = CASES.config("fast", CASES.datasets("fast")[0]).replace(level=level)
    return {seed: measure(cfg, seed) for seed in cfg.seeds}


def null_as_good() -> Result:
    """The null run scores as high as the real one: the control meets the criterion."""
    units = healthy()
    for unit in units.values():
        unit.frames["curves"]["null_acc"] = unit.frames["curves"]["test_acc"]
    return result_of(units)


def collapsed_seed() -> Result:
    """Seed 1 predicts one class from the middle of the run on (accuracy 1/2)."""
    units = healthy()
    curve = units[1].frames["curves"]
    late = curve["step"] >= 50
    curve.loc[late, ["test_acc", "n_predicted"]] = [0.5, 1]
    return result_of(units)


def nan_seed() -> Result:
    """Seed 2's loss turns NaN partway: the divergence rule fires."""
    units = healthy()
    units[2].scalars["diverged"] = 1.0
    return result_of(units)


def no_effect() -> Result:
    """The claim-specific null: the effect is absent (the real run scores like the null)."""
    units = healthy()
    for unit in units.values():
        unit.frames["curves"]["test_acc"] = unit.frames["curves"]["null_acc"]
    return result_of(units)


DEMONSTRATIONS: dict[str, Callable[[], Result]] = {
    "score_control": null_as_good,
    "gated_control": null_as_good,
}
SABOTAGE: dict[str, Callable[[], Result]] = {
    "collapsed_seed": collapsed_seed,
    "nan_seed": nan_seed,
    "no_effect": no_effect,
}
