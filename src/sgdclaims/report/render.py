"""Render reports/index.html and one reports/<claim>.html per claim from the results store,
with each claim page's downloads (statistics and history CSV, figure data JSON) beside it.

The pages are a pure function of results.json and the claims' specs and report modules: no
clock, no host lookup, every collection sorted, so the same JSON gives byte-identical HTML.
Every string goes through Jinja2's autoescaping; figures are drawn from the stored data and
embedded as base64 SVG images, sparklines are inline SVG of numbers only, so a page is one
self-contained file (its downloads are linked relatively) and an SVG can never run code.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import jinja2

from sgdclaims.cache import write_atomic
from sgdclaims.report import format as fmt
from sgdclaims.report.downloads import download_names, downloads
from sgdclaims.report.views import CLAIM_VERDICTS, claim_views, group_reasons
from sgdclaims.verdicts import VERDICTS

TEMPLATES = Path(__file__).parent / "templates"


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
        num=fmt.fmt_number,
        spread=fmt.fmt_spread,
        glyphs=fmt.fmt_glyphs,
        criterion=fmt.fmt_criterion,
        when=fmt.fmt_when,
        seconds=fmt.fmt_seconds,
        value=fmt.fmt_value,
        svg_uri=fmt.svg_data_uri,
        slug=lambda v: re.sub(r"[^a-z]+", "-", str(v).lower()).strip("-"),
    )
    env.globals["group_skips"] = lambda entries: group_reasons(
        e for e in entries if e.verdict == "skipped"
    )
    env.globals["download_names"] = download_names
    return env


def render_pages(data: dict[str, Any]) -> dict[str, str]:
    """File name -> text of the index, every claim page and its downloads, from the store."""
    env = _environment()
    views = claim_views(data)
    sessions = {str(s.get("session_id")): s for s in data.get("sessions") or []}
    latest = (data.get("sessions") or [None])[-1]
    latest_id = str(latest.get("session_id")) if latest else None
    earlier = sorted({s for c in views for s in c.sessions} - {latest_id})
    common = {
        "note": data.get("note"),
        "latest": latest,
        "sessions": sessions,
        "earlier_sessions": earlier,
    }
    tally = [
        (v, sum(c.verdict == v for c in views))
        for v in CLAIM_VERDICTS
        if any(c.verdict == v for c in views)
    ]
    tests = [e.verdict for c in views for e in c.entries]
    test_tally = [(v, tests.count(v)) for v in VERDICTS if v in tests]
    moved = sum(len(c.moved) for c in views)
    index = env.get_template("index.html")
    pages = {
        "index.html": index.render(
            claims=views, tally=tally, test_tally=test_tally, moved=moved, **common
        )
    }
    page = env.get_template("claim.html")
    for claim in views:
        pages[claim.page] = page.render(claim=claim, claims=views, **common)
        if claim.entries:
            pages.update(downloads(claim))
    return pages


def render_all(data: dict[str, Any], outdir: Path) -> list[Path]:
    """Write index.html, one page per claim and its downloads into `outdir`; return the
    paths written."""
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render_pages(data).items():
        path = outdir / name
        write_atomic(path, text.encode("utf-8"))
        path.chmod(0o644)
        written.append(path)
    return written
