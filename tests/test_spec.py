"""Specs as data and the verdicts read from them: criteria (NaN never passes), spec
validation, the statistics table, and every branch of evaluate()."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sgdclaims.spec import Check, ClaimSpec, Control, Criterion, NotReproduced, Paper
from sgdclaims.values import Statistics, Value, seed_mean
from sgdclaims.verdicts import (
    ClaimMiss,
    ControlPassed,
    HarnessCheckFailed,
    NotTestable,
    enforce,
    evaluate,
)

PAPER = Paper("A & B", "2026", "T", "Fig. 1")


def spec(*checks: Check, not_reproduced: tuple = ()) -> ClaimSpec:
    return ClaimSpec(PAPER, "claim", "paragraph", "shows", checks, not_reproduced)


STAT = Check(
    "s", "statistic", "m", Criterion(">=", 0.8), "low",
    control=Control("s_control", Criterion("<", 0.8), "c"), requires=("pre",),
    reference={"mnist": "~0.9 (Fig. 1)"},
)  # fmt: skip
PRE = Check("pre", "precondition", "p", Criterion(">=", 0.02))
HARNESS = Check("h", "harness", "h", Criterion(">=", 5))
REPORTED = Check("r", "reported", "r")
SPEC = spec(STAT, PRE, HARNESS, REPORTED)


@given(st.sampled_from([">=", "<=", ">", "<"]), st.floats(-10, 10), st.floats(-10, 10))
def test_criterion_matches_the_operator_and_nan_never_holds(op, threshold, value):
    c = Criterion(op, threshold)
    expected = {">=": value >= threshold, "<=": value <= threshold, ">": value > threshold,
                "<": value < threshold}[op]  # fmt: skip
    assert c.holds(value) == expected
    assert not c.holds(math.nan)


def test_bad_criteria_and_specs_are_refused():
    with pytest.raises(ValueError, match="op must be one of"):
        Criterion("=>", 1)
    with pytest.raises(ValueError, match="threshold must be a number"):
        Criterion(">=", math.nan)
    with pytest.raises(ValueError, match="needs a control"):
        spec(Check("s", "statistic", "m", Criterion(">=", 1)))
    with pytest.raises(ValueError, match="only a reported value has no criterion"):
        spec(Check("s", "harness", "m"))
    with pytest.raises(ValueError, match="which are not preconditions"):
        spec(STAT, Check("pre", "harness", "p", Criterion(">=", 0)))
    with pytest.raises(ValueError, match="more than once"):
        spec(REPORTED, REPORTED)
    with pytest.raises(ValueError, match="kind must be one of"):
        spec(Check("x", "bogus", "m", Criterion(">=", 1)))


def test_not_reproduced_entries_name_statistics_and_hold_no_measured_values():
    ok = NotReproduced("s", "fast", "mnist", "the run is too short", "lr 0.1, 3 seeds")
    assert spec(STAT, PRE, not_reproduced=(ok,)).registered_miss("s", "fast", "mnist") == ok
    assert spec(STAT, PRE, not_reproduced=(ok,)).registered_miss("s", "full", "mnist") is None
    with pytest.raises(ValueError, match="not a statistic of the spec"):
        spec(STAT, PRE, not_reproduced=(NotReproduced("pre", "fast", "*", "why", "x"),))
    for measured in ("rho = 0.46 on three seeds", "it ends at 84%", "a gap of 2 pp"):
        with pytest.raises(ValueError, match="quotes a measured value"):
            spec(STAT, PRE, not_reproduced=(NotReproduced("s", "fast", "*", measured, "x"),))


def test_names_and_lookups():
    assert SPEC.names == ("s", "pre", "h", "r", "s_control")
    assert SPEC.checks_for("fast", "mnist") == SPEC.checks
    with pytest.raises(ValueError, match="unknown check 'z'; known: \\['s', 'pre', 'h', 'r'\\]"):
        SPEC.check("z")


def values(s=0.9, control=0.1, pre=0.05, h=6, r=1.0) -> dict[str, Value]:
    return {
        "s": seed_mean([s, s]), "s_control": Value(control), "pre": Value(pre),
        "h": Value(h), "r": Value(r),
    }  # fmt: skip


@pytest.mark.parametrize(
    ("name", "kwargs", "verdict", "raises"),
    [
        ("s", {}, "supported", None),
        ("s", {"s": 0.5}, "miss", ClaimMiss),
        ("s", {"s": math.nan}, "miss", ClaimMiss),  # a diverged run fails
        ("s", {"control": 0.95}, "control passed", ControlPassed),
        ("s", {"control": math.nan}, "control passed", ControlPassed),  # NaN control proves nothing
        ("s", {"pre": 0.0}, "not testable here", NotTestable),
        ("s", {"pre": 0.0, "s": 0.1}, "not testable here", NotTestable),
        ("s", {"pre": math.nan}, "harness check failed", HarnessCheckFailed),
        ("pre", {}, "met", None),
        ("pre", {"pre": 0.0}, "not met", None),
        ("pre", {"pre": math.nan}, "harness check failed", HarnessCheckFailed),
        ("h", {}, "passed", None),
        ("h", {"h": 4}, "harness check failed", HarnessCheckFailed),
        ("r", {"r": math.nan}, "reported", None),
    ],
)
def test_evaluate_every_branch(name, kwargs, verdict, raises):
    outcome = evaluate(SPEC, name, values(**kwargs), dataset="mnist")
    assert outcome.verdict == verdict
    assert outcome.record["name"] == name
    if raises is None:
        enforce(outcome)
    else:
        with pytest.raises(raises):
            enforce(outcome)


def test_record_carries_control_preconditions_seeds_and_reference():
    record = evaluate(SPEC, "s", values(pre=0.0), dataset="mnist").record
    assert record["per_seed"] == [0.9, 0.9] and record["spread"] == 0.0
    assert record["control"]["name"] == "s_control" and record["control"]["holds"]
    assert record["preconditions"][0]["name"] == "pre" and not record["preconditions"][0]["holds"]
    assert record["reference"] == "~0.9 (Fig. 1)"
    message = evaluate(SPEC, "s", values(pre=0.0), dataset="mnist").message
    assert message == "not testable here: precondition pre = 0 (needs >= 0.02)"


def test_statistics_table_checks_names_and_types():
    table = Statistics()

    @table.returns("a", "b")
    def _ab(result):
        return {"a": Value(1.0), "b": Value(result)}

    assert table.names == ("a", "b")
    assert table(2.0)["b"].value == 2.0
    with pytest.raises(ValueError, match="already registered"):
        table.returns("a")
    bad = Statistics()
    bad.returns("x")(lambda result: {"y": Value(0)})
    with pytest.raises(RuntimeError, match="returned \\['y'\\], but registered \\['x'\\]"):
        bad(None)
    typed = Statistics()
    typed.returns("x")(lambda result: {"x": 0.5})
    with pytest.raises(TypeError, match="not Value"):
        typed(None)


def test_seed_mean_never_drops_nan():
    v = seed_mean([1.0, math.nan, 3.0])
    assert math.isnan(v.value) and math.isnan(v.spread) and len(v.per_seed) == 3
    assert seed_mean([1.0, 3.0]).spread == pytest.approx(math.sqrt(2))
    assert seed_mean([2.0]).spread is None
    with pytest.raises(ValueError, match="at least one"):
        seed_mean([])
