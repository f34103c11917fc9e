"""A claim's spec as data (shared/CLAIMS.md): its paper, statistics, controls, preconditions,
harness checks and thresholds, and the cases declared not reproduced.

The claim test, the report and the README table all read the spec; nothing else holds a
threshold. A claim's spec is `SPEC` in its package's spec module
(`sgdclaims.claims.<id>.spec`), which is not part of the cache key, so editing a threshold
or a text never invalidates cached experiment results.
"""

from __future__ import annotations

import dataclasses
import math
import operator
import re
from collections.abc import Callable, Mapping

#: the comparisons a criterion may use
OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
}
#: kinds of checks: asserted statistic (has a control; may need preconditions), precondition
#: (its failure makes dependent statistics "not testable here"), harness check (asserted, not
#: a finding about the claim), reported value (recorded, never asserted)
KINDS = ("statistic", "precondition", "harness", "reported")
SCALES = ("fast", "full")


@dataclasses.dataclass(frozen=True)
class Criterion:
    """`value <op> threshold`; NaN never meets a criterion (a diverged run fails)."""

    op: str
    threshold: float

    def __post_init__(self) -> None:
        if self.op not in OPS:
            raise ValueError(f"op must be one of {sorted(OPS)}, got {self.op!r}")
        if not isinstance(self.threshold, (int, float)) or math.isnan(self.threshold):
            raise ValueError(f"threshold must be a number, got {self.threshold!r}")

    def holds(self, value: float) -> bool:
        """True when `value` meets the criterion (never for NaN)."""
        value = float(value)
        return not math.isnan(value) and bool(OPS[self.op](value, float(self.threshold)))

    @property
    def text(self) -> str:
        """'>= 0.8'."""
        return f"{self.op} {self.threshold:g}"


@dataclasses.dataclass(frozen=True)
class Control:
    """The control of an asserted statistic: a value that must meet `criterion` (usually the
    negation of the statistic's), so that a statistic that is always high is caught."""

    name: str
    criterion: Criterion
    measures: str


@dataclasses.dataclass(frozen=True)
class Check:
    """One statistic, precondition, harness check or reported value of a claim.

    datasets None means every data set of the claim at the listed scales; `requires` names
    preconditions; `reference` maps a data set ('*' = any) to the paper's value as text.
    """

    name: str
    kind: str
    measures: str
    criterion: Criterion | None = None
    falsified_by: str = ""
    control: Control | None = None
    requires: tuple[str, ...] = ()
    scales: tuple[str, ...] = SCALES
    datasets: tuple[str, ...] | None = None
    reference: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def applies(self, scale: str, dataset: str) -> bool:
        """True when this check is part of the (scale, data set) case."""
        return scale in self.scales and (self.datasets is None or dataset in self.datasets)

    def reference_for(self, dataset: str) -> str | None:
        """The paper's value for `dataset` as text, if the spec gives one."""
        return self.reference.get(dataset, self.reference.get("*"))

    @property
    def criterion_text(self) -> str:
        """'>= 0.8', or 'reported'."""
        return self.criterion.text if self.criterion else "reported"


@dataclasses.dataclass(frozen=True)
class NotReproduced:
    """A statistic that a faithful setup missed at a scale after an honest search (CLAIMS.md,
    Verdicts). `reason` says why in words, without measured numbers (they go stale; the
    report shows the measured values beside it); `tried` lists the settings tried."""

    statistic: str
    scale: str
    dataset: str
    reason: str
    tried: str

    def matches(self, statistic: str, scale: str, dataset: str) -> bool:
        """True for the case (dataset '*' matches every data set)."""
        return (
            self.statistic == statistic and self.scale == scale and self.dataset in ("*", dataset)
        )


@dataclasses.dataclass(frozen=True)
class Paper:
    """The paper a claim comes from and where in it the claim is made."""

    authors: str
    year: str
    title: str
    reference: str

    @property
    def cite(self) -> str:
        """'Authors (year)'."""
        return f"{self.authors} ({self.year})" if self.year else self.authors


#: a decimal number or a percentage: measured outcomes that must not stand in a registry reason
MEASURED = re.compile(r"\d\.\d|\d\s*%|\bpp\b")


@dataclasses.dataclass(frozen=True)
class ClaimSpec:
    """Everything the claim test, the report and the README read about one claim."""

    paper: Paper
    claim: str
    paragraph: str
    shows: str
    checks: tuple[Check, ...]
    not_reproduced: tuple[NotReproduced, ...] = ()

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ValueError for an inconsistent spec (names, kinds, controls, preconditions)."""
        names = [c.name for c in self.checks] + [c.control.name for c in self.checks if c.control]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"spec names {repeated} more than once")
        kinds = {c.name: c.kind for c in self.checks}
        for c in self.checks:
            if c.kind not in KINDS:
                raise ValueError(f"{c.name}: kind must be one of {KINDS}, got {c.kind!r}")
            if (c.kind == "reported") != (c.criterion is None):
                raise ValueError(f"{c.name}: only a reported value has no criterion")
            if c.kind == "statistic" and c.control is None:
                raise ValueError(f"{c.name}: an asserted statistic needs a control")
            if c.kind != "statistic" and (c.control is not None or c.requires):
                raise ValueError(f"{c.name}: only a statistic has a control or preconditions")
            bad = [r for r in c.requires if kinds.get(r) != "precondition"]
            if bad:
                raise ValueError(f"{c.name}: requires {bad}, which are not preconditions")
            unknown_scales = sorted(set(c.scales) - set(SCALES))
            if unknown_scales or not c.scales:
                raise ValueError(f"{c.name}: scales must be within {SCALES}, got {c.scales}")
        for nr in self.not_reproduced:
            if kinds.get(nr.statistic) != "statistic":
                raise ValueError(
                    f"not_reproduced names {nr.statistic!r}, which is not a statistic of the "
                    f"spec; statistics: {sorted(n for n, k in kinds.items() if k == 'statistic')}"
                )
            if nr.scale not in SCALES:
                raise ValueError(f"not_reproduced {nr.statistic}: scale {nr.scale!r}")
            if not nr.reason.strip() or not nr.tried.strip():
                raise ValueError(f"not_reproduced {nr.statistic}: give a reason and what was tried")
            if MEASURED.search(nr.reason):
                raise ValueError(
                    f"not_reproduced {nr.statistic}: the reason quotes a measured value "
                    f"({MEASURED.search(nr.reason).group(0)!r}); measured values go stale, the "
                    "report shows them beside the reason"
                )

    @property
    def names(self) -> tuple[str, ...]:
        """Every value the claim's statistics() must return: checks and their controls."""
        out = [c.name for c in self.checks]
        out += [c.control.name for c in self.checks if c.control is not None]
        return tuple(out)

    def check(self, name: str) -> Check:
        """The check called `name`; ValueError naming the known ones otherwise."""
        for c in self.checks:
            if c.name == name:
                return c
        raise ValueError(f"unknown check {name!r}; known: {[c.name for c in self.checks]}")

    def checks_for(self, scale: str, dataset: str) -> tuple[Check, ...]:
        """The checks that are part of the (scale, data set) case."""
        return tuple(c for c in self.checks if c.applies(scale, dataset))

    def registered_miss(self, statistic: str, scale: str, dataset: str) -> NotReproduced | None:
        """The not-reproduced declaration of a case, if there is one."""
        return next((n for n in self.not_reproduced if n.matches(statistic, scale, dataset)), None)
