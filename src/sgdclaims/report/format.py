"""Display formats of the report: numbers, spreads, criteria, times, config values."""

from __future__ import annotations

import base64
import json
import math
import re
from typing import Any

OPS = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "==": "="}


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
