"""One results-store record per claim test and the one mapping from an evaluated check to its
verdict (shared/CLAIMS.md, "Verdicts"), shared by the pytest plugin, `sgdclaims run` and
the report, so the three can never disagree about what a case found.

The verdict comes from what happened, never from pytest's report strings: the check's
`Outcome` (sgdclaims.verdicts.evaluate), the not-reproduced declaration that applies to
the case, and the exception or skip reason of a test that did not get as far as an outcome.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sgdclaims.spec import NotReproduced
from sgdclaims.verdicts import CONTROL, DEAD, HARNESS, MISS, NotTestable, Outcome, SpecFailure

#: outcomes of evaluate() that fail the test
FAILING = (MISS, CONTROL, HARNESS, DEAD)


def verdict_of(outcome: Outcome, miss: NotReproduced | None) -> tuple[str, str]:
    """(verdict, reason) of an evaluated check. A declared miss turns a claim-statistic miss
    into "not reproduced"; a declared miss that now holds is "failed" (the declaration is
    stale); a failed control or harness check is "failed" whatever is declared."""
    if outcome.verdict == "not testable here":
        return "not testable here", outcome.message
    if miss is not None:
        if outcome.verdict == MISS:
            return "not reproduced", f"not reproduced: {miss.reason}"
        if outcome.verdict not in FAILING:
            return "failed", (
                f"declared not reproduced, but {outcome.message}: the declaration is stale "
                f"(not reproduced: {miss.reason})"
            )
    if outcome.verdict in FAILING:
        return "failed", outcome.message
    return outcome.verdict, ""


def verdict_without_outcome(
    error: BaseException | None, skip_reason: str | None
) -> tuple[str, str]:
    """(verdict, reason) of a test that produced no outcome: a skip (no GPU, no data), a
    spec failure raised by a claim file's own check, or an error (a crash, a corrupt file)."""
    if skip_reason is not None:
        return "skipped", skip_reason
    if error is None:
        return "passed", ""
    if isinstance(error, NotTestable):
        return "not testable here", str(error)
    message = f"{type(error).__name__}: {error}"
    return ("failed" if isinstance(error, SpecFailure) else "error"), message


def nodeid(claim: str, scale: str, dataset: str, check: str) -> str:
    """The pytest node id of a spec check (claims/test_<id>.py::test_spec[...])."""
    return f"claims/test_{claim}.py::test_spec[{scale}-{dataset}-{check}]"


@dataclasses.dataclass(frozen=True)
class StoreEntry:
    """One claim test in the results store: which check of which case, its verdict and
    reason, and the evaluated record (value, per seed, criterion, control, preconditions)."""

    claim: str
    scale: str
    dataset: str
    statistic: str
    kind: str
    nodeid: str
    verdict: str
    reason: str
    duration: float
    record: dict[str, Any] | None
    run_at: str = dataclasses.field(
        default_factory=lambda: dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    )

    def to_json(self) -> dict[str, Any]:
        """The entry as the store keeps it."""
        return dataclasses.asdict(self)


def entry_of(
    claim: str,
    scale: str,
    dataset: str,
    statistic: str,
    kind: str,
    test: str,
    outcome: Outcome | None,
    miss: NotReproduced | None,
    *,
    error: BaseException | None = None,
    skip_reason: str | None = None,
    duration: float = 0.0,
) -> StoreEntry:
    """The store entry of one claim test, from its outcome (or its error or skip)."""
    if outcome is not None:
        verdict, reason = verdict_of(outcome, miss)
    else:
        verdict, reason = verdict_without_outcome(error, skip_reason)
    return StoreEntry(
        claim=claim,
        scale=scale,
        dataset=dataset,
        statistic=statistic,
        kind=outcome.record.get("kind", kind) if outcome is not None else kind,
        nodeid=test,
        verdict=verdict,
        reason=reason,
        duration=float(duration),
        record=outcome.record if outcome is not None else None,
    )
