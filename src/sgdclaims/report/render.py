"""Render reports/index.html and one reports/<claim>.html per claim from the recorded JSON.

The pages are a pure function of results.json and the catalogue: no clock, no host
lookup, every collection sorted, so the same JSON gives byte-identical HTML. Every
string goes through Jinja2's autoescaping; figures are embedded as base64 SVG images,
so a page is one self-contained file and an SVG can never run code in it.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
import json
import math
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jinja2

from sgdclaims.cache import write_atomic
from sgdclaims.report.catalogue import CATALOGUE, ClaimInfo, StatisticInfo, claim_info

#: verdicts of one claim test (one statistic at one scale on one data set)
VERDICTS = ("supported", "not reproduced", "failed", "skipped", "error")
#: verdicts of a whole claim, most serious first
CLAIM_VERDICTS = (
    "error",
    "failed",
    "not reproduced",
    "partly supported",
    "supported",
    "skipped",
    "not run",
)
SCALE_ORDER = {"fast": 0, "full": 1}
OPS = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "==": "="}
TEMPLATES = Path(__file__).parent / "templates"


def verdict(entry: dict[str, Any]) -> str:
    """The verdict of one claim-test entry: supported, not reproduced, failed, skipped, error."""
    if entry.get("xfail"):
        return "not reproduced"
    outcome = entry.get("outcome")
    if outcome == "skipped":
        return "skipped"
    if outcome == "passed":
        return "supported"
    recorded = entry.get("recorded") or {}
    if entry.get("when") == "call" and any(
        r.get("asserted") and not r.get("passed") for r in recorded.get("records", [])
    ):
        return "failed"
    return "error"


def claim_verdict(verdicts: Iterable[str]) -> str:
    """One verdict for a claim from those of its tests (skips count only when all skip)."""
    seen = [v for v in verdicts]
    ran = [v for v in seen if v != "skipped"]
    if not seen:
        return "not run"
    if not ran:
        return "skipped"
    for worst in ("error", "failed"):
        if worst in ran:
            return worst
    if all(v == "supported" for v in ran):
        return "supported"
    if all(v == "not reproduced" for v in ran):
        return "not reproduced"
    return "partly supported"


def page_name(claim_id: str) -> str:
    """File name of a claim's page: the id when it is a plain identifier, else a safe slug."""
    if re.fullmatch(r"[A-Za-z0-9_-]{1,80}", claim_id):
        return f"{claim_id}.html"
    slug = re.sub(r"[^A-Za-z0-9_-]+", "_", claim_id)[:40].strip("_") or "claim"
    digest = hashlib.sha256(claim_id.encode()).hexdigest()[:8]
    return f"{slug}-{digest}.html"


def fmt_number(value: Any) -> str:
    """A statistic for display: 4 significant digits, inf as ∞, missing as an em dash."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return value
    if not isinstance(value, (int, float)):
        return str(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    if isinstance(value, int):
        return str(value)
    return f"{value:.4g}".replace("-", "−")


def fmt_spread(value: Any) -> str:
    """A spread over seeds for display: 2 significant digits."""
    if isinstance(value, (int, float)) and math.isfinite(value):
        return f"{value:.2g}".replace("-", "−")
    return fmt_number(value)


def fmt_glyphs(text: Any) -> str:
    """Comparison operators in catalogue text as ≥ and ≤."""
    return str(text).replace(">=", "≥").replace("<=", "≤")


def fmt_criterion(record: dict[str, Any]) -> str:
    """'≥ 0.8' for an asserted record, 'reported' for one without a threshold."""
    if not record.get("op"):
        return "reported"
    return f"{OPS.get(record['op'], record['op'])} {fmt_number(record.get('threshold'))}"


def fmt_when(stamp: Any) -> str:
    """'2026-11-22 06:40 UTC' from an ISO time stamp (as recorded; no clock is read)."""
    text = str(stamp or "")
    m = re.fullmatch(r"(\d{4}-\d\d-\d\d)T(\d\d:\d\d)(:\d\d)?(\.\d+)?(\+00:00|Z)?", text)
    if not m:
        return text
    return f"{m.group(1)} {m.group(2)}" + (" UTC" if m.group(5) else "")


def fmt_seconds(seconds: Any) -> str:
    """'4.2 s', '3 min 05 s' or '1 h 02 min' for a duration."""
    if seconds is None:
        return "—"
    s = float(seconds)
    if s < 60:
        return f"{s:.1f} s"
    if s < 3600:
        return f"{int(s // 60)} min {int(s % 60):02d} s"
    return f"{int(s // 3600)} h {int(s % 3600 // 60):02d} min"


def fmt_value(value: Any) -> str:
    """A config or provenance value: numbers as numbers, everything else as compact JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return repr(value)
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def svg_data_uri(svg: str) -> str:
    """The SVG text as a base64 data URI for an <img> (self-contained, scripts inert)."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")


def case_label(scale: Any, dataset: Any) -> str:
    """'fast · mnist' for a (scale, data set) case."""
    return " · ".join(str(p) for p in (scale, dataset) if p not in (None, ""))


@dataclasses.dataclass
class EntryView:
    """One claim test (one statistic at one scale on one data set), ready to render."""

    nodeid: str
    statistic: str
    scale: str
    dataset: str
    verdict: str
    reason: str
    duration: float
    run_at: str
    session: str
    main: dict[str, Any] | None
    side: list[dict[str, Any]]
    figures: list[dict[str, str]]
    tables: list[dict[str, Any]]
    setup: list[dict[str, Any]]

    @property
    def case(self) -> tuple[int, str, str]:
        return (SCALE_ORDER.get(self.scale, 9), self.scale, self.dataset)

    @property
    def label(self) -> str:
        return case_label(self.scale, self.dataset)


@dataclasses.dataclass
class ClaimView:
    """A claim with all its recorded tests, grouped for the index row and its page."""

    info: ClaimInfo
    page: str
    entries: list[EntryView]
    latest_session: str | None

    @property
    def verdict(self) -> str:
        return claim_verdict(e.verdict for e in self.entries)

    @property
    def counts(self) -> list[tuple[str, int]]:
        """(verdict, number of tests) for each verdict present, in VERDICTS order."""
        vs = [e.verdict for e in self.entries]
        return [(v, vs.count(v)) for v in VERDICTS if v in vs]

    @property
    def cases(self) -> list[tuple[int, str, str]]:
        return sorted({e.case for e in self.entries})

    @property
    def ran_cases(self) -> list[tuple[int, str, str]]:
        """Cases with at least one test that was not skipped."""
        return sorted({e.case for e in self.entries if e.verdict != "skipped"})

    @property
    def datasets_by_scale(self) -> list[tuple[str, list[str]]]:
        out: dict[str, list[str]] = {}
        for _, scale, dataset in self.cases:
            out.setdefault(scale, []).append(dataset)
        return list(out.items())

    @property
    def statistics(self) -> list[tuple[str, StatisticInfo | None]]:
        """Statistic names in catalogue order, then any others that were recorded."""
        names = [s.name for s in self.info.statistics]
        names += sorted({e.statistic for e in self.entries} - set(names))
        return [(n, self.info.statistic(n)) for n in names]

    def cell(self, statistic: str, case: tuple[int, str, str]) -> EntryView | None:
        """The test of `statistic` in `case`, if it was run."""
        return next((e for e in self.of(statistic) if e.case == case), None)

    def of(self, statistic: str) -> list[EntryView]:
        """The tests of `statistic`; for one only recorded beside another test's statistic,
        those records as 'reported' views of their tests."""
        own = [e for e in self.entries if e.statistic == statistic]
        if own:
            return own
        return [
            dataclasses.replace(e, statistic=statistic, verdict="reported", main=r, side=[])
            for e in self.entries
            for r in e.side
            if r.get("statistic") == statistic
        ]

    @property
    def skipped(self) -> list[tuple[str, list[str]]]:
        """(reason, [case labels]) for the skipped tests, grouped by reason."""
        return group_reasons(e for e in self.entries if e.verdict == "skipped")

    @property
    def problems(self) -> list[tuple[str, str, list[str]]]:
        """(verdict, reason, [statistic @ case]) for tests not reproduced, failed or in error."""
        out = []
        for v in ("error", "failed", "not reproduced"):
            tests = [e for e in self.entries if e.verdict == v]
            out += [(v, reason, where) for reason, where in group_reasons(tests, with_stat=True)]
        return out

    @property
    def seconds(self) -> float:
        return sum(e.duration for e in self.entries)

    @property
    def experiment_seconds(self) -> float:
        """Wall time of the experiments behind this claim's results, each counted once."""
        unique = {
            s.get("cache_key") or json.dumps(s, sort_keys=True, default=str): s
            for e in self.entries
            for s in e.setup
        }
        return sum(float(s.get("seconds") or 0.0) for s in unique.values())

    @property
    def last_run(self) -> str:
        return max((e.run_at for e in self.entries), default="")

    @property
    def earlier(self) -> bool:
        """True when none of this claim's results come from the latest session."""
        return bool(self.entries) and all(e.session != self.latest_session for e in self.entries)

    @property
    def sessions(self) -> list[str]:
        return sorted({e.session for e in self.entries if e.session})

    def figures_by_case(self) -> list[tuple[str, list[dict[str, str]]]]:
        """Figures of each case, each distinct figure once."""
        return self._by_case("figures", lambda f: (f.get("name"), f.get("svg")))

    def tables_by_case(self) -> list[tuple[str, list[dict[str, Any]]]]:
        """Tables of each case, each distinct table once."""
        return self._by_case("tables", lambda t: json.dumps(t, sort_keys=True, default=str))

    def setup_by_case(self) -> list[tuple[str, list[dict[str, Any]]]]:
        """Experiment setups (configs) of each case, one per cache key."""
        return self._by_case(
            "setup", lambda s: s.get("cache_key") or json.dumps(s, sort_keys=True, default=str)
        )

    def setup_tables(self) -> list[SetupTable]:
        """One table per config class: a column per (case, cache key), the paper beside."""
        columns: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        for label, setups in self.setup_by_case():
            for s in setups:
                columns.setdefault(str(s.get("config_class") or "config"), []).append((label, s))
        return [setup_table(name, cols) for name, cols in sorted(columns.items())]

    def _by_case(self, attr: str, key: Any) -> list[tuple[str, list[Any]]]:
        out = []
        for case in self.cases:
            seen: dict[Any, Any] = {}
            for e in sorted(self.entries, key=lambda e: e.nodeid):
                if e.case == case:
                    for item in getattr(e, attr):
                        seen.setdefault(key(item), item)
            if seen:
                out.append((case_label(case[1], case[2]), list(seen.values())))
        return out


@dataclasses.dataclass
class SetupRow:
    """One config field: its value in each column, the paper's value and why they differ."""

    key: str
    values: list[Any]
    paper: Any
    changed: bool
    why: str


@dataclasses.dataclass
class SetupTable:
    """The configs of one class used by a claim, side by side."""

    config_class: str
    columns: list[tuple[str, dict[str, Any]]]
    rows: list[SetupRow]


def setup_table(config_class: str, columns: list[tuple[str, dict[str, Any]]]) -> SetupTable:
    """Merge the recorded setups of one config class into rows of field values."""
    keys = sorted({k for _, s in columns for k in (s.get("config") or {})})
    rows = []
    for key in keys:
        diffs = [
            (s.get("paper_differences") or {}).get(key)
            for _, s in columns
            if (s.get("paper_differences") or {}).get(key)
        ]
        whys = sorted({str(d.get("why") or "") for d in diffs} - {""})
        rows.append(
            SetupRow(
                key=key,
                values=[(s.get("config") or {}).get(key) for _, s in columns],
                paper=diffs[0].get("paper") if diffs else None,
                changed=bool(diffs),
                why="; ".join(whys) if whys else ("no reason recorded" if diffs else ""),
            )
        )
    return SetupTable(config_class=config_class, columns=columns, rows=rows)


def group_reasons(
    entries: Iterable[EntryView], *, with_stat: bool = False
) -> list[tuple[str, list[str]]]:
    """(reason, [case labels, or 'statistic (case)']) of `entries`, grouped by reason."""
    out: dict[str, set[str]] = {}
    for e in entries:
        label = f"{e.statistic} ({e.label})" if with_stat else e.label
        out.setdefault(e.reason or "no reason recorded", set()).add(label)
    return [(r, sorted(labels)) for r, labels in sorted(out.items())]


def entry_view(nodeid: str, entry: dict[str, Any]) -> EntryView:
    """Turn one recorded entry (as conftest.py writes it) into an EntryView."""
    recorded = entry.get("recorded") or {}
    records = [r for r in recorded.get("records", []) if isinstance(r, dict)]
    statistic = str(entry.get("statistic") or "")
    main = next((r for r in records if r.get("statistic") == statistic), None)
    if main is None:
        main = next((r for r in records if r.get("asserted")), None)
    side = [r for r in records if r is not main]
    return EntryView(
        nodeid=str(nodeid),
        statistic=statistic,
        scale=str(entry.get("scale") or ""),
        dataset=str(entry.get("dataset") or ""),
        verdict=verdict(entry),
        reason=str(entry.get("reason") or ""),
        duration=float(entry.get("duration") or 0.0),
        run_at=str(entry.get("run_at") or ""),
        session=str(entry.get("session") or ""),
        main=main,
        side=side,
        figures=[f for f in recorded.get("figures", []) if isinstance(f, dict)],
        tables=[t for t in recorded.get("tables", []) if isinstance(t, dict)],
        setup=[s for s in recorded.get("setup", []) if isinstance(s, dict)],
    )


def claim_views(data: dict[str, Any]) -> list[ClaimView]:
    """Every catalogued claim (run or not) and every other recorded claim, in catalogue order."""
    sessions = data.get("sessions") or []
    latest = str(sessions[-1].get("session_id")) if sessions else None
    grouped: dict[str, list[EntryView]] = {}
    for nodeid, entry in sorted(data.get("tests", {}).items()):
        grouped.setdefault(str(entry.get("claim") or "unknown"), []).append(
            entry_view(nodeid, entry)
        )
    ids = list(CATALOGUE) + sorted(set(grouped) - set(CATALOGUE))
    return [
        ClaimView(
            info=claim_info(cid),
            page=page_name(cid),
            entries=sorted(grouped.get(cid, []), key=lambda e: (e.case, e.statistic, e.nodeid)),
            latest_session=latest,
        )
        for cid in ids
    ]


@functools.lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    """The Jinja2 environment (autoescaping on), compiled once per process."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        num=fmt_number,
        spread=fmt_spread,
        glyphs=fmt_glyphs,
        criterion=fmt_criterion,
        when=fmt_when,
        seconds=fmt_seconds,
        value=fmt_value,
        svg_uri=svg_data_uri,
        slug=lambda v: re.sub(r"[^a-z]+", "-", str(v).lower()).strip("-"),
    )
    env.globals["group_skips"] = lambda entries: group_reasons(
        e for e in entries if e.verdict == "skipped"
    )
    return env


def render_pages(data: dict[str, Any]) -> dict[str, str]:
    """File name -> HTML text of the index and every claim page, from the recorded JSON."""
    env = _environment()
    claims = claim_views(data)
    sessions = {str(s.get("session_id")): s for s in data.get("sessions") or []}
    latest = (data.get("sessions") or [None])[-1]
    latest_id = str(latest.get("session_id")) if latest else None
    earlier = sorted({s for c in claims for s in c.sessions} - {latest_id})
    common = {
        "note": data.get("note"),
        "latest": latest,
        "sessions": sessions,
        "earlier_sessions": earlier,
    }
    tally = [
        (v, sum(c.verdict == v for c in claims))
        for v in CLAIM_VERDICTS
        if any(c.verdict == v for c in claims)
    ]
    pages = {
        "index.html": env.get_template("index.html").render(claims=claims, tally=tally, **common)
    }
    page = env.get_template("claim.html")
    for claim in claims:
        pages[claim.page] = page.render(claim=claim, claims=claims, **common)
    return pages


def render_all(data: dict[str, Any], outdir: Path) -> list[Path]:
    """Write index.html and one page per claim into `outdir`; return the paths written."""
    written = []
    for name, text in render_pages(data).items():
        path = outdir / name
        write_atomic(path, text.encode("utf-8"))
        path.chmod(0o644)
        written.append(path)
    return written
