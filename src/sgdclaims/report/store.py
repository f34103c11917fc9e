"""The recorded claim results (reports/results.json): merge a session's entries, write, render.

Entries are keyed by test node id; a session that ran only some claims keeps the other
claims' last entries (each carries its `run_at` date).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sgdclaims.cache import write_atomic
from sgdclaims.report.provenance import collect_provenance

RESULTS_FILE = "results.json"


def load_results(outdir: Path) -> dict[str, Any]:
    """The recorded results in `outdir`, or an empty record when there are none yet."""
    path = outdir / RESULTS_FILE
    if not path.exists():
        return {"tests": {}, "sessions": []}
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON ({exc}); delete it to start afresh") from exc
    if not isinstance(data, dict) or "tests" not in data:
        raise ValueError(f"{path} is not a sgdclaims results file (no 'tests' key)")
    return data


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


def merge_and_write(
    entries: list[dict[str, Any]],
    outdir: Path,
    *,
    repo: Path,
    collected: set[str] | None = None,
) -> Path:
    """Merge this session's claim-test entries into results.json and render the HTML.

    collected: node ids of every claim test collected this session, to prune renamed ones.
    """
    outdir.mkdir(parents=True, exist_ok=True)
    data = load_results(outdir)
    if collected:
        data["tests"] = prune_stale(data["tests"], collected)
    provenance = collect_provenance(repo)
    for entry in entries:
        data["tests"][entry["nodeid"]] = {**entry, "session": provenance["session_id"]}
    data["sessions"] = kept_sessions([*data.get("sessions", []), provenance], data["tests"])
    write_atomic(outdir / RESULTS_FILE, json.dumps(data, indent=1, sort_keys=True).encode())
    from sgdclaims.report.render import render_all

    render_all(data, outdir)
    return outdir / RESULTS_FILE
