"""The downloads of a claim page, written beside it: its statistics and their history as CSV
and its figure data as JSON (deterministic text, so the same store gives the same bytes)."""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any

from sgdclaims.report import history as hist
from sgdclaims.report.views import ClaimView

STATISTICS = (
    "claim", "scale", "dataset", "statistic", "kind", "verdict", "value", "spread",
    "per_seed", "asserted", "op", "threshold", "control", "control_value", "margin_sd",
    "bootstrap_share", "dead", "paper", "reason", "session", "run_at",
)  # fmt: skip
HISTORY = (
    "claim", "scale", "dataset", "statistic", "session", "finished_at", "commit", "dirty",
    "cache_key", "verdict", "value", "spread", "per_seed",
)  # fmt: skip
#: spreadsheet programs run a cell that starts like a formula; such text gets a quote
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def download_names(page: str) -> dict[str, str]:
    """File names of a claim page's downloads ('toy.html' -> 'toy-statistics.csv', ...)."""
    stem = page.removesuffix(".html")
    return {
        "statistics": f"{stem}-statistics.csv",
        "history": f"{stem}-history.csv",
        "figures": f"{stem}-figures.json",
    }


def cell(value: Any) -> Any:
    """A CSV cell: numbers in full precision, lists joined by ';', text that a spreadsheet
    would run as a formula quoted."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return ";".join(str(cell(v)) for v in value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _csv(columns: tuple[str, ...], rows: list[dict[str, Any]]) -> str:
    """CSV text with a header and one line per row (LF line ends)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: cell(row.get(k)) for k in columns})
    return out.getvalue()


def statistics_csv(claim: ClaimView) -> str:
    """One line per claim test of the latest results: value, spread, per-seed values, the
    asserted (worst-seed) value, criterion, control, verdict stability (margin in seed-spread
    units, bootstrap share), runs not alive, the paper's value, verdict and reason."""
    rows = []
    for e in claim.entries:
        r = e.record or {}
        control = r.get("control") if isinstance(r.get("control"), dict) else {}
        stable = r.get("stability") if isinstance(r.get("stability"), dict) else {}
        rows.append(
            {
                "claim": claim.id,
                "scale": e.scale,
                "dataset": e.dataset,
                "statistic": e.statistic,
                "kind": e.kind,
                "verdict": e.verdict,
                "value": r.get("value"),
                "spread": r.get("spread"),
                "per_seed": r.get("per_seed"),
                "asserted": r.get("asserted"),
                "op": r.get("op"),
                "threshold": r.get("threshold"),
                "control": control.get("name"),
                "control_value": control.get("asserted", control.get("value")),
                "margin_sd": stable.get("margin_sd"),
                "bootstrap_share": stable.get("bootstrap_share"),
                "dead": r.get("dead"),
                "paper": r.get("reference"),
                "reason": claim.why(e),
                "session": e.session,
                "run_at": e.run_at,
            }
        )
    return _csv(STATISTICS, rows)


def history_csv(claim: ClaimView) -> str:
    """One line per kept run, case and check: the values over runs behind the sparklines."""
    rows = []
    for _, runs in sorted(claim.history.items()):
        for run in runs:
            for name in sorted(run.get("checks") or {}):
                p = hist.point(run, name)
                assert p is not None
                rows.append(
                    {
                        "claim": claim.id,
                        "scale": run.get("scale"),
                        "dataset": run.get("dataset"),
                        "statistic": name,
                        "session": p.session,
                        "finished_at": p.when,
                        "commit": p.commit,
                        "dirty": run.get("dirty"),
                        "cache_key": run.get("cache_key"),
                        "verdict": p.verdict,
                        "value": p.value,
                        "spread": p.spread,
                        "per_seed": list(p.per_seed),
                    }
                )
    return _csv(HISTORY, rows)


def strict(value: Any) -> Any:
    """`value` for strict JSON: NaN and infinities as the strings 'NaN', 'Infinity',
    '-Infinity' (which Python's float() reads back)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, list):
        return [strict(v) for v in value]
    if isinstance(value, dict):
        return {str(k): strict(v) for k, v in value.items()}
    return value


def figures_json(claim: ClaimView) -> str:
    """The data every figure of the page is drawn from, per case, with the values and the
    case's cache key (strict JSON)."""
    cases = {
        f"{cv.scale}/{cv.dataset}": {
            "scale": cv.scale,
            "dataset": cv.dataset,
            "cache_key": cv.payload.get("cache_key"),
            "session": cv.payload.get("session"),
            "figures": [f.get("name") for f in cv.figures],
            "values": cv.payload.get("values"),
            "figure_data": cv.payload.get("figures"),
        }
        for cv in claim.case_views()
    }
    about = (
        "Figure data of the claim page, as stored by the run and drawn by the claim's report "
        "module; non-finite numbers are written as the strings 'NaN', 'Infinity', '-Infinity'."
    )
    doc = {"claim": claim.id, "about": about, "cases": cases}
    return json.dumps(strict(doc), indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def downloads(claim: ClaimView) -> dict[str, str]:
    """File name -> text of every download of a claim page."""
    names = download_names(claim.page)
    return {
        names["statistics"]: statistics_csv(claim),
        names["history"]: history_csv(claim),
        names["figures"]: figures_json(claim),
    }
