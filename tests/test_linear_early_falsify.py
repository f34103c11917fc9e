"""linear_early's constructed results: the healthy one supports every statistic and passes
every harness check, so each sabotage (tests/test_falsifiability.py) is what turns it."""

from __future__ import annotations

from sgdclaims import claims
from sgdclaims.claims.linear_early.falsify import healthy
from sgdclaims.verdicts import evaluate


def test_the_healthy_construction_supports_everything():
    face = claims.get("linear_early")
    values = face.statistics(healthy())
    verdicts = {c.name: evaluate(face.spec, c.name, values).verdict for c in face.spec.checks}
    asserted = {n: v for n, v in verdicts.items() if face.spec.check(n).kind == "statistic"}
    harness = {n: v for n, v in verdicts.items() if face.spec.check(n).kind == "harness"}
    assert set(asserted.values()) == {"supported"}, asserted
    assert set(harness.values()) == {"passed"}, harness
