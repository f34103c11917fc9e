"""my_claim's figures and tables, drawn from what `figure_data` stores for a case (so
`sgdclaims report` redraws them without rerunning anything)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from sgdclaims.figure import Figure, Table
from sgdclaims.runner import Result
from sgdclaims.values import Value


def figure_data(result: Result, values: Mapping[str, Value]) -> dict[str, Any]:
    """What the figures and tables are drawn from (stored as JSON with the case)."""
    return {"scores": list(values["score"].per_seed)}


def scores(data: dict[str, Any]) -> Any:
    """The score of each seed."""
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot(data["scores"], "o")
    ax.set_xlabel("seed")
    ax.set_ylabel("score")
    return fig


def score_table(data: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """One row per seed."""
    return ["seed", "score"], [[i, float(s)] for i, s in enumerate(data["scores"])]


FIGURES = (Figure("scores", "The score of each seed.", scores, paper="Fig. 1"),)
TABLES = (Table("scores", "The score of each seed.", score_table),)
