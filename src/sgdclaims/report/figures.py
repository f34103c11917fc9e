"""Figures and tables of a claim page (sgdclaims.figure), drawn from the data the results
store keeps, as inline SVG; a figure that cannot be drawn becomes an error line on the page.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from sgdclaims.figure import Figure, Table, paper_figure


def figure_to_svg(fig: Any) -> str:
    """Render `fig` to SVG text that is byte-identical for identical figures, and close it."""
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "sgdclaims", "svg.fonttype": "path"}):
        fig.savefig(
            buf, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight"
        )
    plt.close(fig)
    text = buf.getvalue()
    start = text.find("<svg")
    return text[start:] if start >= 0 else text


def draw_figures(
    figures: Sequence[Figure] | None, data: dict[str, Any] | None
) -> list[dict[str, str]]:
    """Every figure of a claim drawn from one case's data, as {name, caption, svg} or
    {name, caption, error} where drawing failed or no data exists; `figures` None: the
    claim is not registered here."""
    if figures is None:
        if not data:
            return []
        note = "this claim is not registered here; its figure data is kept"
        return [{"name": "figures", "caption": "", "error": note}]
    out = []
    for figure in figures:
        item = {"name": figure.name, "caption": figure.caption, "paper": paper_figure(figure)}
        if not data:
            item["error"] = "no figure data was stored for this case"
        else:
            try:
                item["svg"] = figure_to_svg(figure.draw(data))
            except Exception as exc:  # a page must render even when one figure cannot
                plt.close("all")
                item["error"] = f"could not draw {figure.name}: {type(exc).__name__}: {exc}"
        out.append(item)
    return out


def build_tables(tables: Sequence[Table], data: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Every table of a claim built from one case's data."""
    out = []
    for table in tables:
        item: dict[str, Any] = {"name": table.name, "caption": table.caption}
        if data:
            try:
                columns, rows = table.build(data)
                item.update(columns=[str(c) for c in columns], rows=[list(r) for r in rows])
            except Exception as exc:
                item["error"] = f"could not build {table.name}: {type(exc).__name__}: {exc}"
        else:
            item["error"] = "no table data was stored for this case"
        out.append(item)
    return out
