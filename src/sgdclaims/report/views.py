"""The report's view of the results store: claims, their checks per case, and the cases'
setups, figures and provenance, ready for the templates (pure functions of the store and
the claims' specs; no clock)."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import re
from collections.abc import Callable, Iterable
from typing import Any

from sgdclaims import claims
from sgdclaims.costtable import cost_rows
from sgdclaims.report import history as hist
from sgdclaims.report import summary
from sgdclaims.report.items import CaseView, EntryView, entry_view
from sgdclaims.report.summary import CLAIM_VERDICTS, claim_verdict
from sgdclaims.spec import Check, ClaimSpec
from sgdclaims.verdicts import VERDICTS

__all__ = [
    "CLAIM_VERDICTS",
    "CaseView",
    "ClaimView",
    "EntryView",
    "claim_verdict",
    "claim_views",
    "page_name",
]


@dataclasses.dataclass
class Row:
    """One check of a claim (from the spec, or a harness test of the claim file)."""

    name: str
    check: Check | None
    entries: list[EntryView]

    @property
    def kind(self) -> str:
        """The check's kind (from the spec, else from its tests)."""
        if self.check is not None:
            return self.check.kind
        return self.entries[0].kind if self.entries else "harness"

    def cell(self, case: tuple[int, str, str]) -> EntryView | None:
        """The row's test in one case, if it ran there."""
        return next((e for e in self.entries if e.case == case), None)


@dataclasses.dataclass
class ClaimView:
    """A claim with its recorded tests and cases, for the index row and its page."""

    id: str
    spec: ClaimSpec | None
    page: str
    entries: list[EntryView]
    cases: dict[tuple[int, str, str], CaseView]
    latest_session: str | None
    history: dict[str, list[dict[str, Any]]] = dataclasses.field(default_factory=dict)

    @property
    def verdict(self) -> str:
        """The claim's verdict from its asserted statistics and harness checks."""
        return claim_verdict(e.verdict for e in self.entries if e.kind in ("statistic", "harness"))

    @property
    def counts(self) -> list[tuple[str, int]]:
        """(verdict, number of tests) for every verdict the claim's tests have."""
        vs = [e.verdict for e in self.entries]
        return [(v, vs.count(v)) for v in VERDICTS if v in vs]

    @property
    def all_cases(self) -> list[tuple[int, str, str]]:
        """Every case with a test or a stored payload, in order."""
        return sorted({e.case for e in self.entries} | set(self.cases))

    @property
    def ran_cases(self) -> list[tuple[int, str, str]]:
        """The cases where at least one test ran (was not skipped)."""
        return sorted({e.case for e in self.entries if e.verdict != "skipped"})

    @functools.cached_property
    def rows(self) -> list[Row]:
        """Spec checks in spec order, then harness tests of the claim file."""
        named = [c.name for c in self.spec.checks] if self.spec else []
        extra = sorted({e.statistic for e in self.entries} - set(named))
        return [
            Row(
                name,
                self.spec.check(name) if self.spec and name in named else None,
                [e for e in self.entries if e.statistic == name],
            )
            for name in [*named, *extra]
        ]

    def rows_of(self, *kinds: str) -> list[Row]:
        """The rows of the given kinds."""
        return [r for r in self.rows if r.kind in kinds]

    @property
    def problems(self) -> list[tuple[str, str, list[str]]]:
        """(verdict, reason, [statistic (case)]) for tests that did not hold."""
        out = []
        for v in ("error", "failed", "not reproduced", "not testable here"):
            tests = [e for e in self.entries if e.verdict == v]
            out += [(v, why, where) for why, where in group_reasons(tests, self.why)]
        return out

    @property
    def skipped(self) -> list[tuple[str, list[str]]]:
        """(reason, [case labels]) of the skipped tests."""
        return group_reasons(e for e in self.entries if e.verdict == "skipped")

    @property
    def compute_seconds(self) -> float:
        """Seconds the experiments behind this claim took when computed."""
        return sum(float(c.payload.get("compute_seconds") or 0.0) for c in self.cases.values())

    @property
    def fast_reference_seconds(self) -> float | None:
        """The fast cases' compute in reference-machine seconds (CPU seconds x the computing
        machine's calibration figure / 68); None where no case recorded it."""
        known = [c.reference_seconds for c in self.cases.values() if c.scale == "fast"]
        known = [k for k in known if k is not None]
        return sum(known) if known else None

    @property
    def calibration(self) -> str:
        """The calibration figures (GFLOP/s) the fast cases' times were converted with."""
        figures = {
            round(float(c.session_gflops or g))
            for c in self.cases.values()
            if c.scale == "fast"
            for g in (c.payload.get("gflops") or [0])[:1]
            if c.session_gflops or g
        }
        return ", ".join(f"{g:g}" for g in sorted(figures))

    @property
    def budget(self) -> float | None:
        """The fast tier's budget in reference-machine seconds (from the spec)."""
        return self.spec.budget if self.spec is not None else None

    @property
    def last_run(self) -> str:
        """When the claim's latest test ran (ISO time)."""
        return max((e.run_at for e in self.entries), default="")

    @property
    def earlier(self) -> bool:
        """True when none of the claim's results come from the latest session."""
        return bool(self.entries) and all(e.session != self.latest_session for e in self.entries)

    @property
    def sessions(self) -> list[str]:
        """The sessions the claim's current results come from."""
        return sorted({e.session for e in self.entries if e.session})

    def case_views(self) -> list[CaseView]:
        """The stored cases in order."""
        return [self.cases[c] for c in sorted(self.cases)]

    @property
    def summary(self) -> str:
        """How many cases ran and were supported, not reproduced, not testable, in words."""
        return summary.cases_sentence(self.entries)

    @property
    def findings(self) -> list[dict[str, Any]]:
        """The claim's findings by verdict (summary.findings)."""
        return summary.findings(self.entries, self.spec)

    @functools.cached_property
    def costs(self) -> list[dict[str, Any]]:
        """The claim's full-scale cost rows (sgdclaims/costs.json, `sgdclaims costs`)."""
        return cost_rows(self.id)

    def why(self, entry: EntryView) -> str:
        """The reason of a test's verdict (registry reason and what was tried included)."""
        return summary.why(entry, self.spec)

    def runs(self, case: tuple[int, str, str]) -> list[dict[str, Any]]:
        """The kept runs of a case, oldest first."""
        return self.history.get(hist.case_key(self.id, case[1], case[2])) or []

    def series(self, entry: EntryView) -> list[hist.Point]:
        """The entry's statistic over the runs of its case, up to the entry's own run."""
        points = hist.series(self.runs(entry.case), entry.statistic)
        mine = [i for i, p in enumerate(points) if p.session == entry.session]
        return points[: mine[-1] + 1] if mine else points

    def previous(self, entry: EntryView) -> hist.Point | None:
        """The entry's statistic in the run before the entry's own."""
        points = self.series(entry)
        return points[-2] if len(points) >= 2 else None

    def spark(self, entry: EntryView) -> hist.Spark | None:
        """The sparkline of the entry's statistic over runs (None without a value)."""
        points = self.series(entry)
        if not any(p.value is not None for p in points):
            return None
        return hist.sparkline(points, (entry.record or {}).get("threshold"))

    @functools.cached_property
    def moved(self) -> list[tuple[tuple[int, str, str], list[hist.Change]]]:
        """Cases whose verdicts changed since their previous run, with what changed."""
        out = []
        for case in self.all_cases:
            found = hist.changes(None, self.runs(case))
            if found:
                out.append((case, found))
        return out

    @property
    def moved_cases(self) -> list[tuple[int, str, str]]:
        """The cases whose verdicts changed since their previous run."""
        return [case for case, _ in self.moved]

    def moved_in(self, case: tuple[int, str, str], statistic: str) -> hist.Change | None:
        """The verdict change of one statistic of a case since its previous run."""
        for c, found in self.moved:
            if c == case:
                return next((ch for ch in found if ch.statistic == statistic), None)
        return None


def group_reasons(
    entries: Iterable[EntryView], why: Callable[[EntryView], str] | None = None
) -> list[tuple[str, list[str]]]:
    """(reason, [case labels]) of `entries` grouped by reason; with `why`, (why(entry),
    ['statistic (case)'])."""
    out: dict[str, set[str]] = {}
    for e in entries:
        label = f"{e.statistic} ({e.label})" if why else e.label
        out.setdefault((why(e) if why else e.reason) or "no reason recorded", set()).add(label)
    return [(r, sorted(labels)) for r, labels in sorted(out.items())]


def page_name(claim_id: str) -> str:
    """File name of a claim's page: the id when it is a plain identifier, else a safe slug."""
    if re.fullmatch(r"[A-Za-z0-9_-]{1,80}", claim_id):
        return f"{claim_id}.html"
    slug = re.sub(r"[^A-Za-z0-9_-]+", "_", claim_id)[:40].strip("_") or "claim"
    return f"{slug}-{hashlib.sha256(claim_id.encode()).hexdigest()[:8]}.html"


def _spec(claim: str) -> ClaimSpec | None:
    """The spec of a registered claim; None for an unregistered one. A registered claim whose
    spec cannot be loaded is a programming error and raises."""
    return claims.spec(claim) if claim in claims.CLAIMS else None


def claim_views(data: dict[str, Any]) -> list[ClaimView]:
    """Every registered claim (run or not) and every other recorded claim, registry order."""
    sessions = data.get("sessions") or []
    figures = {str(s.get("session_id")): s.get("calibration_gflops") for s in sessions}
    latest = str(sessions[-1].get("session_id")) if sessions else None
    history = data.get("history") if isinstance(data.get("history"), dict) else {}
    tests = sorted((data.get("tests") or {}).items())
    cases: dict[str, dict[tuple[int, str, str], CaseView]] = {}
    for _, payload in sorted((data.get("cases") or {}).items()):
        view = CaseView(
            str(payload.get("claim")), payload, figures.get(str(payload.get("session")))
        )
        cases.setdefault(view.claim, {})[view.case] = view
    recorded = {str(entry.get("claim") or "unknown") for _, entry in tests}
    ids = list(claims.CLAIMS) + sorted((recorded | set(cases)) - set(claims.CLAIMS))
    specs = {cid: _spec(cid) for cid in ids}
    entries: dict[str, list[EntryView]] = {}
    for nodeid, entry in tests:
        cid = str(entry.get("claim") or "unknown")
        entries.setdefault(cid, []).append(entry_view(nodeid, entry, specs[cid]))
    return [
        ClaimView(
            id=cid,
            spec=specs[cid],
            page=page_name(cid),
            entries=sorted(entries.get(cid, []), key=lambda e: (e.case, e.statistic, e.nodeid)),
            cases=cases.get(cid, {}),
            latest_session=latest,
            history={k: v for k, v in history.items() if k.rsplit("/", 2)[0] == cid},
        )
        for cid in ids
    ]
