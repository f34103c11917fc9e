"""The one registry of claim statistics that do not reproduce at a scale (CLAIMS.md).

Each entry marks the matching claim test xfail(strict=True): CI stays green, the report
shows "not reproduced" with the reason, and an unexpected pass fails the run so the
registry is kept true. Add an entry only after an honest search, and list what was tried.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class NotReproduced:
    """A (claim, statistic, scale, data set) case that did not reproduce, and why."""

    claim: str
    statistic: str
    scale: str
    dataset: str
    reason: str
    tried: str

    def matches(self, claim: str, statistic: str, scale: str | None, dataset: str | None) -> bool:
        """True for the case (dataset '*' matches every data set)."""
        return (
            self.claim == claim
            and self.statistic == statistic
            and self.scale == scale
            and self.dataset in ("*", dataset)
        )


REGISTRY: tuple[NotReproduced, ...] = ()


def lookup(
    claim: str, statistic: str, scale: str | None, dataset: str | None
) -> NotReproduced | None:
    """The registry entry for a case, or None."""
    for entry in REGISTRY:
        if entry.matches(claim, statistic, scale, dataset):
            return entry
    return None
