"""Verdicts (shared/CLAIMS.md, "Verdicts"): one check of a claim's spec against the values
its experiment's `statistics(result)` returned.

- a statistic is supported when it meets its criterion and its control meets the control's;
  a miss raises `ClaimMiss` (the only exception the not-reproduced registry may expect);
  a control that passes the statistic raises `ControlPassed` (the statistic cannot tell);
- a failed precondition makes its dependent statistics "not testable here" (`NotTestable`,
  recorded with the precondition's value and threshold, not asserted);
- a failed harness check raises `HarnessCheckFailed`; NaN in a precondition or harness
  value is a failure, never "not testable";
- a statistic, control or precondition value that enters a run that is not `alive` raises
  `DeadRun` (a failure, never "not testable here" or "not reproduced");
- "every seed" statistics and preconditions are asserted on the worst seed.
Any other exception (a crash, a missing or corrupt file) is an error.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from sgdclaims.spec import Check, ClaimSpec, Criterion
from sgdclaims.values import Value, seed_bootstrap

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


class DeadRun(SpecFailure):
    """A statistic enters a run that is not `alive` (diverged, or collapsed to one class):
    it fails, never "not testable here" or "not reproduced"."""


class NotTestable(Exception):
    """A precondition failed: the statistic is not testable at this scale (not asserted)."""


@dataclasses.dataclass(frozen=True)
class Outcome:
    """The verdict of one check, a one-line message and the record for the report."""

    verdict: str
    message: str
    record: dict[str, Any]


def _entry(
    name: str, value: Value | None, criterion: Criterion | None, lower: bool | None = None
) -> dict[str, Any]:
    """A value with its criterion and whether it holds, as JSON. With `lower` (the criterion
    is asserted on the worst seed) the record names the asserted worst-seed value too."""
    out: dict[str, Any] = {"name": name}
    if value is not None:
        out.update(value.to_json())
    if criterion is not None:
        out.update(op=criterion.op, threshold=criterion.threshold)
        asserted = None if value is None else _asserted(value, criterion, lower)
        if asserted is not None and value is not None and lower is not None:
            out.update(asserted=asserted, quantifier="worst seed")
        out["holds"] = bool(asserted is not None and criterion.holds(asserted))
    return out


def _asserted(value: Value, criterion: Criterion, lower: bool | None) -> float:
    """The number compared with the threshold: the worst seed's for an "every seed" check
    (lower: whether lower values are better), else the value itself."""
    return value.value if lower is None else value.worst(lower)


def _describe(name: str, asserted: float, criterion: Criterion, worst: bool = False) -> str:
    """'early_explained = 0.71 (needs >= 0.8)'."""
    where = " on the worst seed" if worst else ""
    return f"{name} = {asserted:.4g}{where} (needs {criterion.text})"


def _value(values: Mapping[str, Value], name: str) -> Value:
    if name not in values:
        raise KeyError(f"statistics() returned no value {name!r}; it returned {sorted(values)}")
    return values[name]


def evaluate(
    spec: ClaimSpec,
    name: str,
    values: Mapping[str, Value],
    *,
    dataset: str = "*",
    scale: str | None = None,
) -> Outcome:
    """The outcome of check `name` of `spec`, given every value of the case. The outcome of
    a failing check carries its record too; `enforce` then raises the matching exception.

    Order for an asserted statistic: a run it enters that is not alive fails it; a NaN
    precondition fails it; a failed precondition makes it "not testable here"; a control
    that meets the statistic's criterion fails it; then the statistic (on the worst seed
    for an "every seed" check) and the excess over its null; a miss under a failed
    misses-only precondition is "not testable here". At a scale in the check's
    `reported_at` the statistic is evaluated as above and recorded as "reported" (a run that
    is not alive still fails it)."""
    check: Check = spec.check(name)
    value = _value(values, name)
    crit = check.criterion
    per_seed = check.every_seed or check.kind == "precondition"
    lower = crit.lower_is_better if crit is not None and per_seed else None
    record = _entry(name, value, crit, lower)
    record.update(kind=check.kind, reference=check.reference_for(dataset))
    if check.kind == "reported":
        return Outcome("reported", f"{name} = {value.value:.4g} (reported)", record)
    assert crit is not None
    asserted = _asserted(value, crit, lower)
    described = _describe(name, asserted, crit, per_seed and bool(value.per_seed))
    if value.dead:
        return Outcome(DEAD, f"{name} enters runs that are not alive: {_runs(value.dead)}", record)
    if check.kind == "precondition":
        if math.isnan(asserted):
            return Outcome(HARNESS, f"precondition {name} is NaN: the run it needs failed", record)
        return Outcome(
            "met" if crit.holds(asserted) else "not met", f"precondition {described}", record
        )
    if check.kind == "harness":
        return Outcome(
            "passed" if crit.holds(asserted) else HARNESS, f"harness check {described}", record
        )
    outcome = _statistic(spec, check, values, value, asserted, described, record)
    if scale is not None and scale in check.reported_at and outcome.verdict != DEAD:
        record["would_be"] = outcome.verdict
        why = f"{outcome.message} (reported at {scale} scale, asserted at the others)"
        return Outcome("reported", why, record)
    return outcome


def _statistic(
    spec: ClaimSpec,
    check: Check,
    values: Mapping[str, Value],
    value: Value,
    asserted: float,
    described: str,
    record: dict[str, Any],
) -> Outcome:
    """The outcome of an asserted statistic (see evaluate)."""
    assert check.criterion is not None
    required = [(spec.check(r), _value(values, r)) for r in check.requires]
    preconditions = [
        _entry(r.name, v, r.criterion, r.criterion.lower_is_better if r.criterion else None)
        for r, v in required
    ]
    record["preconditions"] = preconditions
    record["stability"] = stability(check, value)
    dead = sorted({d for _, v in required for d in v.dead})
    if check.control is not None:
        control = _value(values, check.control.name)
        # the control takes the statistic's quantifier: its worst seed in the same direction
        record["control"] = _entry(
            check.control.name, control, check.control.criterion, _lower_of(check)
        )
        dead = sorted({*dead, *control.dead})
    excess = None
    if check.null is not None and check.null.excess is not None:
        excess = _value(values, check.null.excess)
        record["excess"] = _entry(check.null.excess, excess, check.null.criterion, _lower(check))
        dead = sorted({*dead, *excess.dead})
    if dead:
        return Outcome(DEAD, f"{check.name} enters runs that are not alive: {_runs(dead)}", record)
    nan = [p["name"] for p in preconditions if math.isnan(p.get("asserted", p["value"]))]
    if nan:
        return Outcome(HARNESS, f"precondition {nan} is NaN: the run it needs failed", record)
    failed = {p["name"]: p for p in preconditions if not p["holds"]}
    blocking = [p for n, p in failed.items() if not spec.check(n).misses_only]
    if blocking:
        return Outcome("not testable here", f"not testable here: {_why(blocking)}", record)
    if check.control is not None and not record["control"]["holds"]:
        shown = record["control"].get("asserted", control.value)
        return Outcome(
            CONTROL,
            f"control {check.control.name} = {shown:.4g} does not meet "
            f"{check.control.criterion.text}, so {check.name} cannot tell the claim from its "
            "control",
            record,
        )
    miss = None
    if not check.criterion.holds(asserted):
        miss = described
    elif excess is not None and not record["excess"]["holds"]:
        assert check.null is not None and check.null.criterion is not None
        worst = _asserted(excess, check.null.criterion, _lower(check))
        miss = (
            f"{described}, but its excess over the null {check.null.excess} = {worst:.4g} "
            f"(needs {check.null.criterion.text})"
        )
    if miss is None:
        return Outcome("supported", described, record)
    if failed:
        why = _why(list(failed.values()))
        return Outcome("not testable here", f"not testable here: {miss}; {why}", record)
    return Outcome(MISS, miss, record)


def _lower_of(check: Check) -> bool | None:
    """The worst-seed direction of an "every seed" statistic (None otherwise)."""
    if not check.every_seed or check.criterion is None:
        return None
    return check.criterion.lower_is_better


def _lower(check: Check) -> bool | None:
    """The worst-seed direction of an "every seed" check's null excess (None otherwise)."""
    if not check.every_seed or check.null is None or check.null.criterion is None:
        return None
    return check.null.criterion.lower_is_better


def _why(preconditions: list[dict[str, Any]]) -> str:
    return "; ".join(
        f"precondition {p['name']} = {_fmt(p.get('asserted', p['value']))} "
        f"(needs {p['op']} {p['threshold']:g})"
        for p in preconditions
    )


def _runs(dead: Any) -> str:
    return ", ".join(dead)


def stability(check: Check, value: Value) -> dict[str, float | None]:
    """Verdict stability of an asserted statistic (reported, not a verdict): its margin to
    the threshold in units of the seed spread (positive: on the passing side), and the share
    of seed-bootstrap resamples in which the criterion holds (from the value's replicates,
    or by resampling its per-seed values where the value is their mean or worst)."""
    crit = check.criterion
    assert crit is not None
    asserted = _asserted(value, crit, _lower_of(check))
    sign = -1.0 if crit.lower_is_better else 1.0
    spread = value.spread
    margin = None
    if spread is not None and math.isfinite(spread) and spread > 0 and math.isfinite(asserted):
        margin = sign * (asserted - crit.threshold) / spread
    replicates = value.replicates
    if (
        not replicates
        and len(value.per_seed) >= 2
        and (check.every_seed or value.aggregate == "mean")
    ):
        seeds = np.asarray(value.per_seed, dtype=np.float64)
        worst = np.max if crit.lower_is_better else np.min
        aggregate = worst if check.every_seed else np.mean
        replicates = seed_bootstrap(len(seeds), lambda idx: aggregate(seeds[idx]))
    share = float(np.mean([crit.holds(r) for r in replicates])) if replicates else None
    return {"margin_sd": margin, "bootstrap_share": share}


#: outcomes that enforce() turns into exceptions
MISS, CONTROL, HARNESS, DEAD = "miss", "control passed", "harness check failed", "not alive"


def enforce(outcome: Outcome) -> None:
    """Raise the exception of a failing outcome (ClaimMiss, ControlPassed, HarnessCheckFailed,
    DeadRun) or NotTestable; return for every other outcome."""
    errors = {MISS: ClaimMiss, CONTROL: ControlPassed, HARNESS: HarnessCheckFailed, DEAD: DeadRun}
    if outcome.verdict in errors:
        raise errors[outcome.verdict](outcome.message)
    if outcome.verdict == "not testable here":
        raise NotTestable(outcome.message)


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
