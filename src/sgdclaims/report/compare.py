"""`sgdclaims report --compare REV` / `--since WHEN`: only what moved, as text.

Each case's latest run is compared with its baseline: for --compare, its last earlier run
made at the commit REV names (a git revision, a commit prefix) or in session REV; for
--since, its last run that finished before WHEN (a date, a time or a session id). A
statistic moved when its verdict or its value as the page shows it differs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sgdclaims.report import history as hist
from sgdclaims.report.provenance import git_output


def resolve(rev: str, repo: Path) -> str | None:
    """The full commit a git revision names in `repo`, or None."""
    if not re.fullmatch(r"[\w./~^@{}-]{1,200}", rev) or rev.startswith("-"):
        return None
    return git_output(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")


def baseline(
    history: dict[str, list[hist.Run]], rev: str | None, since: str | None, repo: Path
) -> tuple[str, Callable[[list[hist.Run]], hist.Run | None]]:
    """(description, picker) of the baseline; ValueError when REV matches no recorded run."""
    if since:
        return f"the last run before {since}", hist.baseline_before(since)
    assert rev is not None
    commit = resolve(rev, repo)
    pick = hist.baseline_at(rev, commit)
    if not any(hist.made_at(r, rev, commit) for runs in history.values() for r in runs):
        commits = sorted({str(r.get("commit"))[:10] for rs in history.values() for r in rs})
        sessions = sorted({str(r.get("session")) for rs in history.values() for r in rs})
        raise ValueError(
            f"no recorded run was made at {rev!r}"
            + (f" (commit {commit[:10]})" if commit else "")
            + f"; recorded commits: {', '.join(commits) or 'none'}; sessions: "
            + (", ".join(sessions[-5:]) or "none")
        )
    what = f"commit {commit[:10]} ({rev})" if commit and commit[:10] != rev[:10] else rev
    return f"the last run at {what}", pick


def moves_text(data: dict[str, Any], rev: str | None, since: str | None, repo: Path) -> str:
    """The report of what moved between each case's baseline and its latest run."""
    history = data.get("history") or {}
    described, pick = baseline(history, rev, since, repo)
    lines, unchanged, without = [], [], []
    for key, runs in sorted(history.items()):
        label = key.replace("/", " · ")
        base = pick(runs)
        if base is None:
            without.append(label)
            continue
        found = hist.changes(base, runs, values=True)
        verdicts = (hist.run_verdict(base), hist.run_verdict(runs[-1]))
        if not found and verdicts[0] == verdicts[1]:
            unchanged.append(label)
            continue
        before, after = hist.run_stamp(base), hist.run_stamp(runs[-1])
        lines.append(f"{label}  ({before} → {after})")
        if verdicts[0] != verdicts[1]:
            lines.append(f"  {'verdict':24s} {verdicts[0]} → {verdicts[1]}")
        for ch in found:
            lines.append(f"  {ch.statistic:24s} {_side(ch.before)} → {_side(ch.after)}")
    moved = len(history) - len(unchanged) - len(without)
    head = f"Compared with {described}: {moved} of {len(history)} cases moved."
    tail = []
    if unchanged:
        tail.append(f"{len(unchanged)} unchanged: {', '.join(unchanged)}")
    if without:
        tail.append(f"{len(without)} without an earlier run to compare with: {', '.join(without)}")
    return "\n".join([head, *lines, *tail]) + "\n"


def _side(p: hist.Point | None) -> str:
    """'0.91 ± 0.01 (supported)', or 'not run'."""
    if p is None:
        return "not run"
    return p.verdict if p.value is None else f"{p.shown} ({p.verdict})"
