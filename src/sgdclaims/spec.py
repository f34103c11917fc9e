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
    """`value <op> threshold`; NaN never meets a criterion (a diverged run fails).

    `tolerance` widens the criterion in its own favour (a rank statistic compared exactly:
    rho = -0.8 computed as -0.7999999999999999 meets "<= -0.8" with tolerance 1e-9)."""

    op: str
    threshold: float
    tolerance: float = 0.0

    def __post_init__(self) -> None:
        if self.op not in OPS:
            raise ValueError(f"op must be one of {sorted(OPS)}, got {self.op!r}")
        if not isinstance(self.threshold, (int, float)) or math.isnan(self.threshold):
            raise ValueError(f"threshold must be a number, got {self.threshold!r}")
        if not 0 <= self.tolerance < 1e-6:
            raise ValueError(f"tolerance is for rounding only (0 to 1e-6), got {self.tolerance}")

    def holds(self, value: float) -> bool:
        """True when `value` meets the criterion (never for NaN)."""
        value = float(value)
        if math.isnan(value):
            return False
        favour = self.tolerance if self.op in (">=", ">") else -self.tolerance
        return bool(OPS[self.op](value + favour, float(self.threshold)))

    @property
    def lower_is_better(self) -> bool:
        """True for '<=' and '<': the worst seed is the largest value."""
        return self.op in ("<=", "<")

    @property
    def text(self) -> str:
        """'>= 0.8' (and '(exact)' for a rank comparison with a rounding tolerance)."""
        return f"{self.op} {self.threshold:g}" + (" (exact)" if self.tolerance else "")


@dataclasses.dataclass(frozen=True)
class Null:
    """The value an asserted statistic would take if the claim were false, measured in the
    same run; the statistic is a contrast against it (a difference, ratio, normalised excess
    or permutation p-value). `excess`, when given, names a second value (the statistic less
    the null's) that must meet `criterion` too, e.g. 'beats S by 0.02 bits'."""

    measures: str
    excess: str | None = None
    criterion: Criterion | None = None

    def __post_init__(self) -> None:
        if (self.excess is None) != (self.criterion is None):
            raise ValueError(f"null {self.measures!r}: an excess needs a criterion and vice versa")


@dataclasses.dataclass(frozen=True)
class Control:
    """The control of an asserted statistic: the statistic computed on its null, which must
    meet `criterion` (miss the statistic's threshold). A control must be able to fail: the
    claim's `demonstrations[name]` builds a result on which it does not (a unit test runs it
    through the verdict logic and expects "failed")."""

    name: str
    criterion: Criterion
    measures: str


@dataclasses.dataclass(frozen=True)
class Check:
    """One statistic, precondition, harness check or reported value of a claim.

    An asserted statistic states its `null` (it is a contrast against it) or has a
    `control` (or both). `every_seed`: the claim holds for every run, so the criterion is
    asserted on the worst seed (the mean reported beside it); a precondition always holds
    only if every seed meets it. `misses_only` (preconditions): a miss of a dependent
    statistic becomes "not testable here", a pass stands (an "eventually" statement that a
    truncated run can confirm but not refute). `reported_at`: scales at which an asserted
    statistic is recorded but not asserted (CLAIMS.md says why). datasets None means every
    data set of the claim at the listed scales; `requires` names preconditions; `reference`
    maps a data set ('*' = any) to the paper's value as text.
    """

    name: str
    kind: str
    measures: str
    criterion: Criterion | None = None
    falsified_by: str = ""
    control: Control | None = None
    null: Null | None = None
    requires: tuple[str, ...] = ()
    every_seed: bool = False
    misses_only: bool = False
    reported_at: tuple[str, ...] = ()
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
    #: the fast tier's compute budget in reference-machine seconds (CLAIMS.md, Budgets)
    budget: float = 300.0

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ValueError for an inconsistent spec (names, kinds, controls, preconditions)."""
        names = list(self.names)
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"spec names {repeated} more than once")
        kinds = {c.name: c.kind for c in self.checks}
        for c in self.checks:
            if c.kind not in KINDS:
                raise ValueError(f"{c.name}: kind must be one of {KINDS}, got {c.kind!r}")
            if (c.kind == "reported") != (c.criterion is None):
                raise ValueError(f"{c.name}: only a reported value has no criterion")
            if c.kind == "statistic" and c.control is None and c.null is None:
                raise ValueError(
                    f"{c.name}: an asserted statistic states its null (a contrast) or has a "
                    "control (shared/CLAIMS.md, Falsifiability)"
                )
            if c.kind != "statistic" and (c.control or c.null or c.requires or c.every_seed):
                raise ValueError(
                    f"{c.name}: only a statistic has a control, a null, preconditions or a "
                    "quantifier"
                )
            if c.reported_at and (c.kind != "statistic" or set(c.reported_at) - set(SCALES)):
                raise ValueError(f"{c.name}: only a statistic is reported at some scales")
            if c.misses_only and c.kind != "precondition":
                raise ValueError(f"{c.name}: only a precondition can be misses-only")
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
        """Every value the claim's statistics() must return: checks, their controls and the
        excesses over their nulls."""
        out = [c.name for c in self.checks]
        out += [c.control.name for c in self.checks if c.control is not None]
        out += [c.null.excess for c in self.checks if c.null is not None and c.null.excess]
        return tuple(out)

    @property
    def controls(self) -> tuple[tuple[Check, Control], ...]:
        """(statistic, control) for every controlled statistic."""
        return tuple((c, c.control) for c in self.checks if c.control is not None)

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
