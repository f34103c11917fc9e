"""Verdicts (shared/CLAIMS.md, "Verdicts"): one check of a claim's spec against the values
its experiment's `statistics(result)` returned.

- a statistic is supported when it meets its criterion and its control meets the control's;
  a miss raises `ClaimMiss` (the only exception the not-reproduced registry may expect);
  a control that passes the statistic raises `ControlPassed` (the statistic cannot tell);
- a failed precondition makes its dependent statistics "not testable here" (`NotTestable`,
  recorded with the precondition's value and threshold, not asserted);
- a failed harness check raises `HarnessCheckFailed`; NaN in a precondition or harness
  value is a failure, never "not testable".
Any other exception (a crash, a missing or corrupt file) is an error.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

from sgdclaims.spec import Check, ClaimSpec, Criterion
from sgdclaims.values import Value

#: verdicts of one check (one test), most serious first
VERDICTS = (
    "error",
    "failed",
    "not reproduced",
    "not testable here",
    "supported",
    "met",
    "not met",
    "passed",
    "reported",
    "skipped",
)


class SpecFailure(AssertionError):
    """A check of the spec failed: a finding about the run, not a crash."""


class ClaimMiss(SpecFailure):
    """An asserted claim statistic missed its threshold (may be declared not reproduced)."""


class ControlPassed(SpecFailure):
    """A control met the statistic's criterion: the statistic cannot tell claim from chance."""


class HarnessCheckFailed(SpecFailure):
    """A harness check (e.g. enough checkpoints in a window) failed."""


class NotTestable(Exception):
    """A precondition failed: the statistic is not testable at this scale (not asserted)."""


@dataclasses.dataclass(frozen=True)
class Outcome:
    """The verdict of one check, a one-line message and the record for the report."""

    verdict: str
    message: str
    record: dict[str, Any]


def _entry(name: str, value: Value | None, criterion: Criterion | None) -> dict[str, Any]:
    """A value with its criterion and whether it holds, as JSON."""
    out: dict[str, Any] = {"name": name}
    if value is not None:
        out.update(value.to_json())
    if criterion is not None:
        out.update(op=criterion.op, threshold=criterion.threshold)
        out["holds"] = bool(value is not None and criterion.holds(value.value))
    return out


def _describe(name: str, value: Value, criterion: Criterion) -> str:
    """'early_explained = 0.71 (needs >= 0.8)'."""
    return f"{name} = {value.value:.4g} (needs {criterion.text})"


def _value(values: Mapping[str, Value], name: str) -> Value:
    if name not in values:
        raise KeyError(f"statistics() returned no value {name!r}; it returned {sorted(values)}")
    return values[name]


def evaluate(
    spec: ClaimSpec, name: str, values: Mapping[str, Value], *, dataset: str = "*"
) -> Outcome:
    """The outcome of check `name` of `spec`, given every value of the case. The outcome of
    a failing check carries its record too; `enforce` then raises the matching exception."""
    check: Check = spec.check(name)
    value = _value(values, name)
    record = _entry(name, value, check.criterion)
    record.update(kind=check.kind, reference=check.reference_for(dataset))
    if check.kind == "reported":
        return Outcome("reported", f"{name} = {value.value:.4g} (reported)", record)
    assert check.criterion is not None
    holds = check.criterion.holds(value.value)
    described = _describe(name, value, check.criterion)
    if check.kind == "precondition":
        if math.isnan(value.value):
            return Outcome(HARNESS, f"precondition {name} is NaN: the run it needs failed", record)
        return Outcome("met" if holds else "not met", f"precondition {described}", record)
    if check.kind == "harness":
        return Outcome("passed" if holds else HARNESS, f"harness check {described}", record)
    # an asserted statistic: its preconditions, then its control, then the statistic
    preconditions = [_entry(r, _value(values, r), spec.check(r).criterion) for r in check.requires]
    record["preconditions"] = preconditions
    assert check.control is not None
    control = _value(values, check.control.name)
    record["control"] = _entry(check.control.name, control, check.control.criterion)
    nan = [p["name"] for p in preconditions if math.isnan(p["value"])]
    if nan:
        return Outcome(HARNESS, f"precondition {nan} is NaN: the run it needs failed", record)
    failed = [p for p in preconditions if not p["holds"]]
    if failed:
        why = "; ".join(
            f"precondition {p['name']} = {_fmt(p['value'])} (needs {p['op']} {p['threshold']:g})"
            for p in failed
        )
        return Outcome("not testable here", f"not testable here: {why}", record)
    if not check.control.criterion.holds(control.value):
        return Outcome(
            CONTROL,
            f"control {check.control.name} = {control.value:.4g} does not meet "
            f"{check.control.criterion.text}, so {name} cannot tell the claim from its control",
            record,
        )
    if not holds:
        return Outcome(MISS, described, record)
    return Outcome("supported", described, record)


#: outcomes that enforce() turns into exceptions
MISS, CONTROL, HARNESS = "miss", "control passed", "harness check failed"


def enforce(outcome: Outcome) -> None:
    """Raise the exception of a failing outcome (ClaimMiss, ControlPassed, HarnessCheckFailed)
    or NotTestable; return for every other outcome."""
    errors = {MISS: ClaimMiss, CONTROL: ControlPassed, HARNESS: HarnessCheckFailed}
    if outcome.verdict in errors:
        raise errors[outcome.verdict](outcome.message)
    if outcome.verdict == "not testable here":
        raise NotTestable(outcome.message)


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
