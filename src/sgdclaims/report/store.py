"""The results store (reports/results.json): merge a session's entries and case payloads,
keep every case's history, write, render.

Entries are keyed by test node id, case payloads (setup, values, figure data) by
'claim/scale/dataset'; a session that ran only some claims keeps the other claims' last
entries and cases (each carries the session it comes from). `history` keeps the last
runs of every case (report/history.py). Sessions that finish at once take turns: the
whole read-merge-write-render runs under an exclusive lock on `.results.lock`, and the
file is replaced atomically, so neither a record nor the file is ever lost.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sgdclaims.cache import write_atomic
from sgdclaims.report.history import append_history, case_key, history_from_tests
from sgdclaims.report.provenance import collect_provenance

RESULTS_FILE = "results.json"
LOCK_FILE = ".results.lock"
#: the store's schema: 1 = entries with 'recorded' (before the claim contract), 2 = entries
#: with 'record' and case payloads, 3 = 2 with a `schema` field and per-case `history`
SCHEMA = 3


class StoreError(ValueError):
    """A results store this version cannot read (its message says why and what to do)."""


def empty_store() -> dict[str, Any]:
    """A store without results."""
    return {"schema": SCHEMA, "tests": {}, "cases": {}, "sessions": [], "history": {}}


def schema_of(data: dict[str, Any]) -> int:
    """The schema version of a parsed store (a store without the field is 1 or 2)."""
    if "schema" in data:
        version = data["schema"]
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise StoreError(f"its schema field is {version!r}, not a version number")
        return version
    tests = data.get("tests") or {}
    if any(isinstance(e, dict) and "recorded" in e for e in tests.values()):
        return 1
    return 2


def migrate(data: dict[str, Any], path: Path) -> dict[str, Any]:
    """The store at the current schema: schema 2 gains its history; schema 1 and anything
    newer than this version are refused with a message naming the version."""
    version = schema_of(data)
    if version > SCHEMA:
        raise StoreError(
            f"{path} has schema version {version}, newer than this sgdclaims reads "
            f"(up to {SCHEMA}); upgrade sgdclaims, or write to another --report-dir"
        )
    if version == 1:
        raise StoreError(
            f"{path} has schema version 1 (written before the claim contract: its tests "
            "hold 'recorded' lists, not verdicts of the current specs), which cannot be "
            f"migrated to version {SCHEMA}; move it aside and rerun `pytest claims -m fast`"
        )
    if version == 2:
        data = {**data, "schema": SCHEMA}
        data["history"] = history_from_tests(data.get("tests") or {}, data.get("sessions") or [])
    for key, default in empty_store().items():
        data.setdefault(key, default)
    return data


def read_store(outdir: Path) -> tuple[dict[str, Any], int]:
    """The store in `outdir` at the current schema (older ones migrated) and the schema it
    was read at; an empty store when there is none yet; StoreError for a file this version
    cannot read."""
    path = outdir / RESULTS_FILE
    if not path.exists():
        return empty_store(), SCHEMA
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise StoreError(f"{path} is not valid JSON ({exc}); delete it to start afresh") from exc
    if not isinstance(data, dict) or not isinstance(data.get("tests"), dict):
        raise StoreError(f"{path} is not a sgdclaims results file (no 'tests' mapping)")
    try:
        version = schema_of(data)
    except StoreError as exc:
        raise StoreError(f"{path}: {exc}") from None
    return migrate(data, path), version


def load_results(outdir: Path) -> dict[str, Any]:
    """The recorded results in `outdir` at the current schema (see read_store)."""
    return read_store(outdir)[0]


def write_results(outdir: Path, data: dict[str, Any]) -> Path:
    """Replace results.json atomically with `data`."""
    path = outdir / RESULTS_FILE
    write_atomic(path, json.dumps(data, indent=1, sort_keys=True).encode())
    path.chmod(0o644)
    return path


@contextlib.contextmanager
def store_lock(outdir: Path) -> Iterator[None]:
    """Hold the store's exclusive lock (blocks until another session releases it)."""
    import fcntl

    outdir.mkdir(parents=True, exist_ok=True)
    with open(outdir / LOCK_FILE, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def kept_sessions(
    sessions: list[dict[str, Any]], tests: dict[str, Any], *, recent: int = 20
) -> list[dict[str, Any]]:
    """The last `recent` sessions and every older one that a kept entry still comes from."""
    used = {str(entry.get("session")) for entry in tests.values()}
    cutoff = len(sessions) - recent
    return [s for i, s in enumerate(sessions) if i >= cutoff or str(s.get("session_id")) in used]


def prune_stale(tests: dict[str, Any], collected: set[str]) -> dict[str, Any]:
    """Drop entries of tests that no longer exist: those of a claim file collected this
    session (before any -k/-m deselection) whose node id was not among its items."""
    files = {nodeid.split("::")[0] for nodeid in collected}
    return {
        nodeid: entry
        for nodeid, entry in tests.items()
        if nodeid.split("::")[0] not in files or nodeid in collected
    }


def unique_session(session: dict[str, Any], sessions: list[dict[str, Any]]) -> dict[str, Any]:
    """`session` with an id no recorded session has (two sessions ending in the same second
    get '<id>-2', '<id>-3', ...)."""
    taken = {str(s.get("session_id")) for s in sessions}
    base = str(session.get("session_id"))
    sid, n = base, 1
    while sid in taken:
        n += 1
        sid = f"{base}-{n}"
    return {**session, "session_id": sid}


def merge(
    data: dict[str, Any],
    entries: list[dict[str, Any]],
    cases: dict[str, dict[str, Any]],
    session: dict[str, Any],
    collected: set[str] | None = None,
) -> dict[str, Any]:
    """The store with one session's entries, case payloads and history runs merged in."""
    data = {**data}
    tests = prune_stale(data["tests"], collected) if collected else dict(data["tests"])
    session = unique_session(session, data.get("sessions") or [])
    sid = session["session_id"]
    for entry in entries:
        tests[entry["nodeid"]] = {**entry, "session": sid}
    merged_cases = {**data["cases"], **{k: {**p, "session": sid} for k, p in cases.items()}}
    live = {case_key(e.get("claim"), e.get("scale"), e.get("dataset")) for e in tests.values()}
    history = append_history(data.get("history"), entries, cases, session)
    data.update(
        tests=tests,
        cases={k: v for k, v in merged_cases.items() if k in live},
        history={k: v for k, v in history.items() if k in live},
        sessions=kept_sessions([*data.get("sessions", []), session], tests),
    )
    return data


def merge_and_write(
    entries: list[dict[str, Any]],
    cases: dict[str, dict[str, Any]],
    outdir: Path,
    *,
    repo: Path,
    collected: set[str] | None = None,
    render: bool = True,
) -> Path:
    """Merge this session's claim-test entries and case payloads into results.json and
    render the HTML, all under the store's lock.

    collected: node ids of every claim test collected this session, to prune renamed ones.
    """
    provenance = collect_provenance(repo)
    with store_lock(outdir):
        data = merge(load_results(outdir), entries, cases, provenance, collected)
        path = write_results(outdir, data)
        if render:
            from sgdclaims.report.render import render_all

            render_all(data, outdir)
    return path


def rerender(outdir: Path) -> tuple[dict[str, Any], int]:
    """Render the pages from the store again (under its lock), writing a migrated store back;
    returns the store and the schema version it was read at."""
    from sgdclaims.report.render import render_all

    with store_lock(outdir):
        data, version = read_store(outdir)
        if data["tests"]:
            if version != SCHEMA:
                write_results(outdir, data)
            render_all(data, outdir)
    return data, version
