"""shared/CLAIMS.md, Falsifiability, over every registered claim:

- every control can fail: its demonstration (a result built so that the control meets the
  statistic's criterion) goes through the claim's statistics() and the verdict logic and
  comes out "failed" because of the control;
- the sabotage suite supports nothing: results in which the claim is false by construction
  (a seed that collapses to one class, a seed whose loss turns NaN, a claim-specific null)
  go through statistics() and the verdict logic, and no asserted statistic is "supported";
  where a run is not alive, every statistic is "failed" even where a miss is declared.
"""

from __future__ import annotations

import pytest

from sgdclaims import claims
from sgdclaims.record import verdict_of
from sgdclaims.spec import NotReproduced
from sgdclaims.verdicts import CONTROL, evaluate

CONTROLS = [
    pytest.param(claim, check.name, control.name, id=f"{claim}-{control.name}")
    for claim in claims.CLAIMS
    for check, control in claims.spec(claim).controls
]
SABOTAGE = [
    pytest.param(claim, name, id=f"{claim}-{name}")
    for claim in claims.CLAIMS
    for name in claims.get(claim).sabotage
]


@pytest.mark.parametrize(("claim", "statistic", "control"), CONTROLS)
def test_every_control_can_fail(claim, statistic, control):
    face = claims.get(claim)
    values = face.statistics(face.demonstrations[control]())
    outcome = evaluate(face.spec, statistic, values)
    assert outcome.verdict == CONTROL, (
        f"{claim}: the demonstration of {control} gives {statistic} the outcome "
        f"{outcome.verdict!r} ({outcome.message}), not a control that meets the criterion"
    )
    assert verdict_of(outcome, None)[0] == "failed"


@pytest.mark.parametrize(("claim", "sabotage"), SABOTAGE)
def test_sabotage_supports_nothing(claim, sabotage):
    face = claims.get(claim)
    values = face.statistics(face.sabotage[sabotage]())
    asserted = [c for c in face.spec.checks if c.kind == "statistic"]
    supported = []
    for check in asserted:
        outcome = evaluate(face.spec, check.name, values)
        if outcome.verdict == "supported":
            supported.append(f"{check.name}: {outcome.message}")
        if sabotage in claims.SABOTAGES:
            declared = NotReproduced(check.name, "fast", "*", "declared", "anything")
            verdict, why = verdict_of(outcome, declared)
            assert verdict == "failed", (
                f"{claim} sabotage {sabotage}: {check.name} is {verdict!r} ({why}); a run that "
                "is not alive must fail every statistic it enters"
            )
    assert not supported, f"{claim} sabotage {sabotage} comes out supported: {supported}"


@pytest.mark.parametrize("claim", claims.CLAIMS)
def test_every_control_has_a_demonstration_and_every_claim_a_sabotage_suite(claim):
    claims.check_falsifiable(claim, claims.get(claim))


def test_a_control_without_a_demonstration_is_named(tmp_path):
    from sgdclaims.config import Cases, Config
    from sgdclaims.spec import Check, ClaimSpec, Control, Criterion, Paper
    from sgdclaims.values import Statistics

    stat = Check(
        "s", "statistic", "m", Criterion(">=", 1), control=Control("s_ctl", Criterion("<", 1), "c")
    )
    spec = ClaimSpec(Paper("A", "2026", "T", "Fig. 1"), "c", "p", "s", (stat,))
    face = claims.Claim(Cases(Config, full={}, fast={}), None, Statistics(), spec, None)
    with pytest.raises(ValueError, match="the control s_ctl of s has no demonstration"):
        claims.check_falsifiable("x", face)
    face = claims.Claim(face.cases, None, Statistics(), spec, None, demonstrations={"s_ctl": None})
    with pytest.raises(ValueError, match="sabotage suite needs"):
        claims.check_falsifiable("x", face)
