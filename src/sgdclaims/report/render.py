"""Render reports/index.html (one row per claim statistic) from the recorded results."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from sgdclaims.cache import write_atomic

VERDICTS = ("supported", "not reproduced", "failed", "skipped", "error", "reported")


def verdict(entry: dict[str, Any]) -> str:
    """The verdict of one claim-test entry."""
    if entry.get("xfail"):
        return "not reproduced"
    if entry["outcome"] == "skipped":
        return "skipped"
    if entry["outcome"] == "passed":
        return "supported"
    recorded = entry.get("recorded") or {}
    if entry.get("when") == "call" and any(
        r["asserted"] and not r["passed"] for r in recorded.get("records", [])
    ):
        return "failed"
    return "error"


def render_all(data: dict[str, Any], outdir: Path) -> None:
    """Write index.html for every recorded claim test."""
    rows = []
    for nodeid, entry in sorted(data["tests"].items()):
        stats = "; ".join(
            html.escape(f"{r['statistic']}={r['value']:.4g}")
            for r in (entry.get("recorded") or {}).get("records", [])
        )
        rows.append(
            "<tr>"
            + "".join(
                f"<td>{html.escape(str(v))}</td>"
                for v in (
                    entry["claim"],
                    entry["statistic"],
                    entry["scale"],
                    entry["dataset"],
                    verdict(entry),
                    entry.get("reason", ""),
                    entry.get("run_at", ""),
                )
            )
            + f"<td>{stats}</td><td>{html.escape(nodeid)}</td></tr>"
        )
    page = (
        "<!doctype html><meta charset='utf-8'><title>sgdclaims report</title>"
        "<table><tr><th>claim</th><th>statistic</th><th>scale</th><th>data set</th>"
        "<th>verdict</th><th>reason</th><th>run at</th><th>values</th><th>test</th></tr>"
        + "".join(rows)
        + "</table>"
    )
    write_atomic(outdir / "index.html", page.encode())
