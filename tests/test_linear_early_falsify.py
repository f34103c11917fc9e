"""linear_early's constructed results: the healthy one supports every statistic and passes
every harness check, so each sabotage (tests/test_falsifiability.py) is what turns it."""

from __future__ import annotations

from sgdclaims import claims
from sgdclaims.claims.linear_early.falsify import healthy, independent_errors
from sgdclaims.verdicts import MISS, evaluate


def test_the_healthy_construction_supports_everything():
    face = claims.get("linear_early")
    values = face.statistics(healthy())
    verdicts = {c.name: evaluate(face.spec, c.name, values).verdict for c in face.spec.checks}
    asserted = {n: v for n, v in verdicts.items() if face.spec.check(n).kind == "statistic"}
    harness = {n: v for n, v in verdicts.items() if face.spec.check(n).kind == "harness"}
    assert set(asserted.values()) == {"supported"}, asserted
    assert set(harness.values()) == {"passed"}, harness


def test_independent_errors_miss_early_explained_and_retained_on_live_runs():
    """An F whose errors are independent of L's (every run alive) misses the statistics that
    say 'L in particular': early_explained and retained (outgrows_linear may hold: such an F
    does know more than L)."""
    face = claims.get("linear_early")
    values = face.statistics(independent_errors())
    assert values["alive"].value == 1.0
    for name in ("early_explained", "retained"):
        assert evaluate(face.spec, name, values).verdict == MISS, name
