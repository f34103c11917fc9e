"""Figures and tables of a claim page, drawn from the data the results store keeps.

A claim's report module lists `FIGURES` (name, caption, draw(data) -> matplotlib figure)
and may list `TABLES` (name, caption, build(data) -> (columns, rows)); `data` is what its
`figure_data(result, values)` returned for a case, as stored. Drawing happens when pages
are rendered, so `sgdclaims report` redraws every figure without rerunning anything.
"""

from __future__ import annotations

import dataclasses
import io
import re
from collections.abc import Callable, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


@dataclasses.dataclass(frozen=True)
class Figure:
    """A figure of a claim page: draw(data) returns a matplotlib figure; `paper` names the
    paper's figure it redraws ('Fig. 4'; OURS for a figure the paper has no counterpart
    of), else the caption must name it."""

    name: str
    caption: str
    draw: Callable[[dict[str, Any]], Any]
    paper: str = ""


#: `Figure.paper` of a figure that has no counterpart in the paper (a diagnostic of ours)
OURS = "ours"
#: a figure or table reference in a caption: 'Fig. 4', 'Figs. 2-5', 'Figure 1b', 'Table 2'
PAPER_FIGURE = re.compile(r"\b(?:Fig(?:ure)?s?\.?|Tables?)\s*\d+[a-z]?(?:\s*[-–,]\s*\d+[a-z]?)*")


def paper_figure(figure: Figure) -> str:
    """The paper's figure that `figure` redraws: its `paper` field, else the figure
    references in its caption ('Fig. 1 and Fig. 2'), else ''."""
    if figure.paper:
        return figure.paper
    return " and ".join(dict.fromkeys(PAPER_FIGURE.findall(figure.caption)))


@dataclasses.dataclass(frozen=True)
class Table:
    """A table of a claim page: build(data) returns (column names, rows)."""

    name: str
    caption: str
    build: Callable[[dict[str, Any]], tuple[Sequence[str], Sequence[Sequence[Any]]]]


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


def draw_figures(module: Any, data: dict[str, Any] | None) -> list[dict[str, str]]:
    """Every figure of a claim's report module drawn from one case's data, as
    {name, caption, svg} or {name, caption, error} where drawing failed or no data exists."""
    if module is None:
        if not data:
            return []
        note = "no report module is registered for this claim here; its figure data is kept"
        return [{"name": "figures", "caption": "", "error": note}]
    out = []
    for figure in getattr(module, "FIGURES", ()):
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


def build_tables(module: Any, data: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Every table of a claim's report module built from one case's data."""
    out = []
    for table in getattr(module, "TABLES", ()):
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
