"""What a claim page draws, declared as data: `Figure` (draw(data) -> matplotlib figure) and
`Table` (build(data) -> (columns, rows)), where `data` is what the claim's
`figure_data(result, values)` returned for a case, as the results store keeps it. Drawing
happens when pages are rendered (sgdclaims.report.figures), so `sgdclaims report` redraws
every figure without rerunning anything."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from typing import Any


@dataclasses.dataclass(frozen=True)
class Figure:
    """A figure of a claim page: draw(data) returns a matplotlib figure; `paper` names the
    paper's figure it redraws ('Fig. 4'; OURS for a figure the paper has no counterpart
    of), else the caption must name it."""

    name: str
    caption: str
    draw: Callable[[dict[str, Any]], Any]
    paper: str = ""


@dataclasses.dataclass(frozen=True)
class Table:
    """A table of a claim page: build(data) returns (column names, rows)."""

    name: str
    caption: str
    build: Callable[[dict[str, Any]], tuple[Sequence[str], Sequence[Sequence[Any]]]]


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
