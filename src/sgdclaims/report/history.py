"""History of the results store: one record per run of a case (claim, scale, data set),
bounded to the last `HISTORY_RUNS`, each with its session, commit, date, cache key and
every check's verdict, value and per-seed values; what changed between two runs; the
points and geometry of a statistic's sparkline.

A run's record keeps what a researcher compares across runs and nothing it can redraw
(figure data stays only for the latest run, in the store's `cases`).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Iterable
from typing import Any

from sgdclaims.report.format import fmt_number, fmt_when
from sgdclaims.report.summary import DECIDING, claim_verdict

#: runs kept per case
HISTORY_RUNS = 20
Run = dict[str, Any]


def case_key(claim: Any, scale: Any, dataset: Any) -> str:
    """'claim/scale/dataset', the key of a case in the store."""
    return f"{claim}/{scale}/{dataset}"


def run_record(session: dict[str, Any], entries: list[dict[str, Any]], payload: Any) -> Run:
    """The history record of one case's run from its session, tests and case payload."""
    first = entries[0]
    payload = payload if isinstance(payload, dict) else {}
    checks = {}
    for e in sorted(entries, key=lambda e: str(e.get("statistic"))):
        record = e.get("record") if isinstance(e.get("record"), dict) else {}
        check = {"verdict": str(e.get("verdict") or "error"), "kind": str(e.get("kind") or "")}
        for key in ("value", "spread", "per_seed"):
            if record.get(key) not in (None, []):
                check[key] = record[key]
        if e.get("reason"):
            check["reason"] = str(e["reason"])[:300]
        checks[str(e.get("statistic"))] = check
    return {
        "session": str(session.get("session_id")),
        "finished_at": session.get("finished_at"),
        "commit": session.get("git_commit"),
        "dirty": session.get("git_dirty"),
        "scale": first.get("scale"),
        "dataset": first.get("dataset"),
        "cache_key": payload.get("cache_key"),
        "compute_seconds": payload.get("compute_seconds"),
        "checks": checks,
    }


def append_history(
    history: dict[str, list[Run]] | None,
    entries: Iterable[dict[str, Any]],
    cases: dict[str, Any],
    session: dict[str, Any],
    *,
    keep: int = HISTORY_RUNS,
) -> dict[str, list[Run]]:
    """`history` with one run per case this session tested (cases whose tests were all
    skipped are no run), each case cut to its last `keep` runs."""
    out = {key: list(runs) for key, runs in (history or {}).items()}
    grouped: dict[str, list[dict[str, Any]]] = {}
    for e in entries:
        grouped.setdefault(case_key(e.get("claim"), e.get("scale"), e.get("dataset")), []).append(e)
    for key, tests in sorted(grouped.items()):
        if all(t.get("verdict") == "skipped" for t in tests):
            continue
        runs = out.setdefault(key, [])
        runs.append(run_record(session, tests, cases.get(key)))
        out[key] = runs[-keep:]
    return out


def history_from_tests(tests: dict[str, Any], sessions: list[dict[str, Any]]) -> dict[str, Any]:
    """History seeded from a store without one: one run per case and recorded session."""
    known = {str(s.get("session_id")): s for s in sessions}
    order = {sid: i for i, sid in enumerate(known)}
    by_session: dict[str, list[dict[str, Any]]] = {}
    for entry in tests.values():
        by_session.setdefault(str(entry.get("session")), []).append(entry)
    history: dict[str, list[Run]] = {}
    for sid in sorted(by_session, key=lambda s: (order.get(s, -1), s)):
        session = known.get(sid, {"session_id": sid})
        history = append_history(history, by_session[sid], {}, session)
    return history


@dataclasses.dataclass(frozen=True)
class Point:
    """One statistic in one run."""

    session: str
    when: str
    commit: str
    dirty: bool
    verdict: str
    value: Any = None
    spread: Any = None
    per_seed: tuple[Any, ...] = ()
    reason: str = ""

    @property
    def stamp(self) -> str:
        """'2026-11-30 22:22 UTC · 8f633b6+' (+ for uncommitted changes)."""
        return stamp(self.when, self.session, self.commit, self.dirty)

    @property
    def shown(self) -> str:
        """The value as the page shows it ('0.91 ± 0.01', or the verdict without a value)."""
        if self.value is None:
            return self.verdict
        spread = f" ± {fmt_number(self.spread)}" if self.spread is not None else ""
        return fmt_number(self.value) + spread

    @property
    def title(self) -> str:
        """The tooltip of the point in a sparkline."""
        return f"{self.stamp}: {self.shown} ({self.verdict})"


def stamp(when: Any, session: Any, commit: Any, dirty: Any) -> str:
    """'2026-11-30 22:22 UTC · 8f633b6+': when and at which commit (+: uncommitted changes)."""
    made = (str(commit)[:7] + ("+" if dirty else "")) if commit else "no commit"
    return f"{fmt_when(when) or session} · {made}"


def run_stamp(run: Run) -> str:
    """The stamp of a run."""
    return stamp(run.get("finished_at"), run.get("session"), run.get("commit"), run.get("dirty"))


def point(run: Run, statistic: str) -> Point | None:
    """The statistic's point in a run, None where the run did not record it."""
    check = (run.get("checks") or {}).get(statistic)
    if not isinstance(check, dict):
        return None
    return Point(
        session=str(run.get("session") or ""),
        when=str(run.get("finished_at") or ""),
        commit=str(run.get("commit") or ""),
        dirty=bool(run.get("dirty")),
        verdict=str(check.get("verdict") or "error"),
        value=check.get("value"),
        spread=check.get("spread"),
        per_seed=tuple(check.get("per_seed") or ()),
        reason=str(check.get("reason") or ""),
    )


def series(runs: list[Run], statistic: str) -> list[Point]:
    """The statistic's points over the runs that recorded it, oldest first."""
    return [p for p in (point(r, statistic) for r in runs) if p is not None]


def run_verdict(run: Run) -> str:
    """The verdict of a case in one run, from its deciding checks (and those that crashed
    before their kind was known)."""
    checks = (run.get("checks") or {}).values()
    deciding = [c for c in checks if c.get("kind") in (*DECIDING, "")]
    return claim_verdict(str(c.get("verdict") or "error") for c in deciding)


@dataclasses.dataclass(frozen=True)
class Change:
    """A statistic of a case whose verdict or shown value differs between two runs."""

    statistic: str
    before: Point | None
    after: Point | None

    @property
    def verdict_changed(self) -> bool:
        """True when the verdict differs (or the statistic is new or gone)."""
        return (self.before and self.before.verdict) != (self.after and self.after.verdict)


def changes(base: Run | None, runs: list[Run], *, values: bool = False) -> list[Change]:
    """What moved from `base` to the latest run: statistics whose verdict differs (and, with
    `values`, whose shown value differs), new ones, and with a base, ones no longer run.
    Without `base`, each statistic is compared with the last earlier run that recorded it."""
    if not runs:
        return []
    latest = runs[-1]
    names = sorted(latest.get("checks") or {})
    if base is not None:
        names = sorted(set(names) | set(base.get("checks") or {}))
    out = []
    for name in names:
        after = point(latest, name)
        if base is not None:
            before = point(base, name)
        else:
            earlier = series(runs[:-1], name)
            if not earlier:
                continue
            before = earlier[-1]
        change = Change(name, before, after)
        shown = (before and before.shown) != (after and after.shown)
        if change.verdict_changed or (values and shown):
            out.append(change)
    return out


def made_at(run: Run, rev: str, commit: str | None) -> bool:
    """True when the run was made in session `rev` or at the commit REV names (resolved
    `commit`, or a prefix of at least 4 hex digits)."""
    prefix = (commit or rev).lower()
    made = str(run.get("commit") or "").lower()
    by_commit = len(prefix) >= 4 and bool(made) and made.startswith(prefix)
    return run.get("session") == rev or by_commit


def baseline_at(rev: str, commit: str | None) -> Callable[[list[Run]], Run | None]:
    """The run a case is compared with for `--compare REV`: its last run before the latest
    that was made at REV (see made_at), else the latest itself when it was made at REV."""

    def pick(runs: list[Run]) -> Run | None:
        """The baseline run among a case's runs (oldest first), or None."""
        found = [r for r in runs[:-1] if made_at(r, rev, commit)]
        if found:
            return found[-1]
        return runs[-1] if runs and made_at(runs[-1], rev, commit) else None

    return pick


def baseline_before(when: str) -> Callable[[list[Run]], Run | None]:
    """The run a case is compared with for `--since WHEN` (a date, a time or a session id):
    its last run that finished before WHEN."""
    m = re.fullmatch(r"(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z(-\d+)?", when)
    cutoff = f"{m[1]}-{m[2]}-{m[3]}T{m[4]}:{m[5]}:{m[6]}" if m else when.replace(" ", "T")

    def pick(runs: list[Run]) -> Run | None:
        """The baseline run among a case's runs (oldest first), or None."""
        before = [r for r in runs if str(r.get("finished_at") or "") < cutoff]
        return before[-1] if before else None

    return pick


@dataclasses.dataclass(frozen=True)
class Spark:
    """A sparkline's geometry: the line's path, one dot per run, the threshold line."""

    width: int
    height: int
    path: str
    dots: tuple[tuple[float, float, str, str], ...]
    threshold_y: float | None


def sparkline(points: list[Point], threshold: Any = None, *, width: int = 120) -> Spark:
    """Values over runs, oldest left, on an axis that includes the threshold; a NaN or
    missing value is a hollow dot on the baseline, infinity one on the top edge."""
    height, pad = 26, 4.0
    finite = [float(p.value) for p in points if _finite(p.value)]
    if _finite(threshold):
        finite.append(float(threshold))
    lo, hi = (min(finite), max(finite)) if finite else (0.0, 1.0)
    span = hi - lo

    def y_of(v: float) -> float:
        """The sparkline's y for a value."""
        return round(height / 2 if span <= 1e-12 else pad + (hi - v) / span * (height - 2 * pad), 1)

    step = (width - 2 * pad) / max(len(points) - 1, 1)
    dots, path, pen = [], [], "M"
    for i, p in enumerate(points):
        x = round(width - pad if len(points) == 1 else pad + i * step, 1)
        if _finite(p.value):
            y, kind = y_of(float(p.value)), ""
            path.append(f"{pen}{x} {y}")
            pen = "L"
        else:
            inf = isinstance(p.value, (int, float)) and math.isinf(p.value) and p.value > 0
            y, kind, pen = (pad if inf else height - pad), " gap", "M"
        dots.append((x, y, p.verdict.replace(" ", "-") + kind, p.title))
    line = y_of(float(threshold)) if _finite(threshold) else None
    return Spark(width, height, " ".join(path), tuple(dots), line)


def _finite(value: Any) -> bool:
    """True for a finite int or float (not a bool)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
