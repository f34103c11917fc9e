"""The report's views of single recorded items: one claim test (`EntryView`) and one stored
case (`CaseView`: its payload, figures, setup and time), with the sort key and label of a
(scale, data set) case."""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

from sgdclaims import claims
from sgdclaims.calibration import reference_seconds
from sgdclaims.report.figures import build_tables, draw_figures
from sgdclaims.report.format import case_label
from sgdclaims.spec import SCALES, ClaimSpec
from sgdclaims.verdicts import VERDICTS

SCALE_ORDER = {scale: i for i, scale in enumerate(SCALES)}


class OfCase:
    """`case` (the sort key of a (scale, data set) case) and `label` of a view that has a
    scale and a data set."""

    scale: str
    dataset: str

    @property
    def case(self) -> tuple[int, str, str]:
        """The case's sort key: (scale order, scale, data set)."""
        return (SCALE_ORDER.get(self.scale, 9), self.scale, self.dataset)

    @property
    def label(self) -> str:
        """'fast · mnist'."""
        return case_label(self.scale, self.dataset)


@dataclasses.dataclass
class EntryView(OfCase):
    """One claim test: one check at one scale on one data set."""

    nodeid: str
    statistic: str
    kind: str
    scale: str
    dataset: str
    verdict: str
    reason: str
    duration: float
    run_at: str
    session: str
    record: dict[str, Any] | None


def entry_view(nodeid: str, entry: dict[str, Any], spec: ClaimSpec | None = None) -> EntryView:
    """An EntryView of one recorded entry (as the pytest plugin writes it); a check that
    crashed before it was evaluated takes its kind from the spec."""
    verdict = str(entry.get("verdict") or "error")
    statistic = str(entry.get("statistic") or "")
    kind = entry.get("kind")
    if not kind and spec is not None and statistic in {c.name for c in spec.checks}:
        kind = spec.check(statistic).kind
    return EntryView(
        nodeid=str(nodeid),
        statistic=statistic,
        kind=str(kind or "harness"),
        scale=str(entry.get("scale") or ""),
        dataset=str(entry.get("dataset") or ""),
        verdict=verdict if verdict in VERDICTS else "error",
        reason=str(entry.get("reason") or ""),
        duration=float(entry.get("duration") or 0.0),
        run_at=str(entry.get("run_at") or ""),
        session=str(entry.get("session") or ""),
        record=entry.get("record") if isinstance(entry.get("record"), dict) else None,
    )


@dataclasses.dataclass
class CaseView(OfCase):
    """One (scale, data set) case of a claim: its stored payload and drawn figures."""

    claim: str
    payload: dict[str, Any]
    #: the calibration figure (GFLOP/s) of the session that recorded this case, measured by
    #: its controller at the end, on a quiet machine
    session_gflops: float | None = None

    @property
    def reference_seconds(self) -> float | None:
        """The case's CPU seconds in reference-machine seconds (CPU s x figure / 68): with the
        recording session's figure, else the figures its units recorded while computing."""
        cpu = self.payload.get("cpu_seconds")
        if not cpu:
            return None
        if self.session_gflops:
            return reference_seconds(float(cpu), self.session_gflops)
        return self.payload.get("reference_seconds")

    @property
    def scale(self) -> str:
        """The case's scale."""
        return str(self.payload.get("scale") or "")

    @property
    def dataset(self) -> str:
        """The case's data set."""
        return str(self.payload.get("dataset") or "")

    @functools.cached_property
    def _face(self) -> claims.Claim | None:
        """The claim's parts (None for a claim not registered here)."""
        return claims.get(self.claim) if self.claim in claims.CLAIMS else None

    @functools.cached_property
    def figures(self) -> list[dict[str, str]]:
        """The case's figures drawn from its stored data."""
        face = self._face
        return draw_figures(face.figures if face else None, self.payload.get("figures"))

    @functools.cached_property
    def tables(self) -> list[dict[str, Any]]:
        """The case's tables built from its stored data."""
        face = self._face
        return build_tables(face.tables if face else (), self.payload.get("figures"))

    @property
    def changes(self) -> dict[str, dict[str, Any]]:
        """The config's changes from the paper's setting, by field."""
        return {c["field"]: c for c in self.payload.get("changes") or [] if isinstance(c, dict)}

    @property
    def unit_rows(self) -> list[tuple[str, Any, str]]:
        """(unit, compute seconds or None, 'reused' / 'computed' / '') per unit, from the
        payload's `unit_seconds` and `reused` where it has them."""
        seconds = self.payload.get("unit_seconds")
        seconds = seconds if isinstance(seconds, dict) else {}
        reused = self.payload.get("reused")
        known = isinstance(reused, list)
        flags = {str(u) for u in reused} if known else set()
        return [
            (str(u), seconds.get(str(u)), ("reused" if str(u) in flags else "computed") * known)
            for u in self.payload.get("units") or []
        ]

    @property
    def per_unit(self) -> bool:
        """True when the payload has compute times or reuse flags per unit."""
        return any(secs is not None or how for _, secs, how in self.unit_rows)

    @property
    def reuse(self) -> str:
        """'computed in this run', 'reused from the cache' or 'k of n units reused'."""
        units = len(self.payload.get("units") or [])
        reused = self.payload.get("reused_units")
        if not isinstance(reused, int) or not units:
            return ""
        if reused == 0:
            return f"all {units} units computed in this run"
        if reused >= units:
            return f"all {units} units reused from the cache (computed in an earlier run)"
        return f"{reused} of {units} units reused from the cache, {units - reused} computed"
