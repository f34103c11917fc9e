"""Specs as data and the verdicts read from them: criteria (NaN never passes), spec
validation, the statistics table, and every branch of evaluate()."""

from __future__ import annotations

import dataclasses
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sgdclaims.record import verdict_of
from sgdclaims.spec import Check, ClaimSpec, Control, Criterion, NotReproduced, Null, Paper
from sgdclaims.values import Statistics, Value, seed_mean
from sgdclaims.verdicts import (
    CONTROL,
    DEAD,
    MISS,
    ClaimMiss,
    ControlPassed,
    DeadRun,
    HarnessCheckFailed,
    NotTestable,
    enforce,
    evaluate,
    stability,
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
    with pytest.raises(ValueError, match="states its null \\(a contrast\\) or has a control"):
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


# --- falsifiability: alive, quantifiers, misses-only preconditions, nulls, exact ranks --------

EVERY = Check(
    "e", "statistic", "every seed", Criterion(">=", 0.8), "low", every_seed=True,
    control=Control("e_control", Criterion("<", 0.8), "c"), requires=("late", "pre"),
)  # fmt: skip
LATE = Check("late", "precondition", "eventually", Criterion(">=", 0.99), misses_only=True)
CONTRAST = Check(
    "d", "statistic", "a contrast", Criterion(">=", 0.05), "small",
    null=Null("S, trained the same way", "d_excess", Criterion(">=", 0.02)),
)  # fmt: skip
RANK = Check(
    "rho", "statistic", "rank", Criterion("<=", -0.8, tolerance=1e-9), "not monotone",
    null=Null("a shuffled order"), reported_at=("fast",),
)  # fmt: skip
FALSIFIABLE = spec(EVERY, LATE, PRE, CONTRAST, RANK)


def fvalues(**kw) -> dict[str, Value]:
    out = {
        "e": seed_mean(kw.get("e", [0.9, 0.85, 0.95])),
        "e_control": seed_mean(kw.get("e_control", [0.5, 0.6, 0.7])),
        "late": seed_mean(kw.get("late", [1.0, 1.0, 1.0])),
        "pre": seed_mean(kw.get("pre", [0.1, 0.1, 0.1])),
        "d": seed_mean(kw.get("d", [0.2, 0.2])),
        "d_excess": seed_mean(kw.get("d_excess", [0.1, 0.1])),
        "rho": Value(kw.get("rho", -0.7999999999999999)),
    }
    for name, dead in kw.get("dead", {}).items():
        out[name] = dataclasses.replace(out[name], dead=dead)
    return out


@pytest.mark.parametrize(
    ("name", "kw", "verdict"),
    [
        ("e", {}, "supported"),
        ("e", {"e": [0.9, 0.79, 0.95]}, MISS),  # the mean passes, the worst seed does not
        ("e", {"e_control": [0.5, 0.95, 0.9]}, "supported"),  # the control's worst seed misses
        ("e", {"e_control": [0.85, 0.95, 0.9]}, CONTROL),  # the control holds on every seed
        ("e", {"pre": [0.1, 0.0, 0.1]}, "not testable here"),  # one seed fails a precondition
        ("e", {"late": [1.0, 0.9, 1.0]}, "supported"),  # misses-only: a pass stands
        ("e", {"late": [1.0, 0.9, 1.0], "e": [0.5] * 3}, "not testable here"),  # a miss does not
        ("e", {"dead": {"e": ("seed 1",)}}, DEAD),
        ("e", {"dead": {"pre": ("seed 1",)}, "pre": [0.1, 0.0, 0.1]}, DEAD),  # never not testable
        ("e", {"dead": {"e_control": ("seed 2",)}}, DEAD),
        ("late", {"late": [1.0, 0.9, 1.0]}, "not met"),
        ("late", {"dead": {"late": ("seed 0",)}}, DEAD),
        ("d", {}, "supported"),
        ("d", {"d_excess": [0.1, 0.01]}, "supported"),  # not every seed: the mean 0.055
        ("d", {"d_excess": [0.01, 0.01]}, MISS),  # clears its threshold, not its null
        ("rho", {}, "supported"),  # -0.7999999999999999 meets <= -0.8 exactly
        ("rho", {"rho": -0.79}, MISS),
    ],
)
def test_falsifiability_branches(name, kw, verdict):
    outcome = evaluate(FALSIFIABLE, name, fvalues(**kw))
    assert outcome.verdict == verdict, outcome.message


def test_dead_runs_fail_whatever_is_declared():
    outcome = evaluate(FALSIFIABLE, "e", fvalues(dead={"e": ("seed 1 (cnn)",)}))
    declared = NotReproduced("e", "fast", "*", "declared", "x")
    assert verdict_of(outcome, declared)[0] == "failed"
    assert "seed 1 (cnn)" in outcome.message
    with pytest.raises(DeadRun):
        enforce(outcome)


def test_every_seed_records_the_worst_seed_and_the_mean():
    record = evaluate(FALSIFIABLE, "e", fvalues(e=[0.9, 0.79, 0.95])).record
    assert record["asserted"] == 0.79 and record["value"] == pytest.approx(0.88)
    assert record["quantifier"] == "worst seed"


def test_reported_at_a_scale_records_without_asserting():
    outcome = evaluate(FALSIFIABLE, "rho", fvalues(rho=-0.1), scale="fast")
    assert outcome.verdict == "reported" and outcome.record["would_be"] == MISS
    assert evaluate(FALSIFIABLE, "rho", fvalues(rho=-0.1), scale="full").verdict == MISS


def test_a_statistic_needs_a_null_or_a_control_and_only_statistics_have_them():
    with pytest.raises(ValueError, match="states its null"):
        spec(Check("s", "statistic", "m", Criterion(">=", 1)))
    with pytest.raises(ValueError, match="only a precondition can be misses-only"):
        spec(Check("h", "harness", "m", Criterion(">=", 1), misses_only=True))
    with pytest.raises(ValueError, match="an excess needs a criterion"):
        Null("x", "x_excess")
    assert "d_excess" in spec(CONTRAST).names


def test_tolerance_is_in_the_criterions_favour_only():
    assert Criterion("<=", -0.8, tolerance=1e-9).holds(-0.7999999999999999)
    assert not Criterion("<=", -0.8, tolerance=1e-9).holds(-0.7999)
    assert Criterion(">=", 1.0, tolerance=1e-9).holds(0.9999999999999999)
    assert not Criterion(">=", 1.0).holds(0.9999999999999999)
    with pytest.raises(ValueError, match="tolerance is for rounding only"):
        Criterion(">=", 1.0, tolerance=0.01)


def test_stability_margin_and_bootstrap_share():
    check = Check("s", "statistic", "m", Criterion(">=", 0.8), null=Null("n"))
    far = stability(check, seed_mean([0.95, 1.0, 1.05]))
    assert far["margin_sd"] == pytest.approx(4.0) and far["bootstrap_share"] == 1.0
    edge = stability(check, seed_mean([0.6, 0.8, 1.1]))
    assert 0.3 < edge["bootstrap_share"] < 0.9
    worst = Check("w", "statistic", "m", Criterion(">=", 0.8), null=Null("n"), every_seed=True)
    assert stability(worst, seed_mean([0.79, 0.9, 0.9]))["bootstrap_share"] < 0.8
    replicated = Value(0.9, replicates=(0.9, 0.7, 0.85, 0.81))
    assert stability(check, replicated)["bootstrap_share"] == 0.75
    assert stability(check, Value(0.9)) == {"margin_sd": None, "bootstrap_share": None}


def test_a_dead_run_fails_even_where_the_statistic_is_only_reported():
    control = Control("c", Criterion(">", -0.8), "c")
    rank = Check(
        "rho", "statistic", "r", Criterion("<=", -0.8), control=control, reported_at=("fast",)
    )
    values = {"rho": Value(-0.9), "c": Value(0.0, dead=("seed 1",))}
    assert evaluate(spec(rank), "rho", values, scale="fast").verdict == DEAD
    values = {"rho": Value(-0.9, dead=("seed 1",)), "c": Value(0.0)}
    assert evaluate(spec(rank), "rho", values, scale="fast").verdict == DEAD


def test_each_claims_budget_is_claims_mds():
    """Budgets in reference-machine seconds (CLAIMS.md, Common ground: 300 s each, depth_wave
    420, iterative_linearisation 480); the report compares the fast tier's time with them."""
    from sgdclaims import claims

    expected = {"depth_wave": 420.0, "iterative_linearisation": 480.0}
    assert {c: claims.spec(c).budget for c in claims.CLAIMS} == {
        c: expected.get(c, 300.0) for c in claims.CLAIMS
    }
