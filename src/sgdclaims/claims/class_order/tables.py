"""class_order's tables: the learned order per model (the paper's Sec. 4 orders) and the
learning times tau_c, built from `figures.figure_data`."""

from __future__ import annotations

from typing import Any

import numpy as np

from sgdclaims import ranking
from sgdclaims.claims.class_order.figures import TITLES
from sgdclaims.figure import Table


def _order(tau: Any) -> list[int]:
    """Classes by mean rank over seeds (rank 1 = learned first)."""
    mean_rank = ranking.ranks(np.asarray(tau, dtype=float)).mean(axis=0)
    return list(np.argsort(mean_rank, kind="stable"))


def order_table(data: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """The learned order per model (rank 1 = first), by the MI-based tau_c (mean rank over
    seeds) and by recall (first step from which a class's recall stays at half its final)."""
    names = data["classes"]
    columns, orders = ["rank"], []
    for model in data["models"]:
        for key, label in (("tau", "MI"), ("tau_recall", "recall")):
            columns.append(f"{TITLES.get(model, model)} ({label})")
            orders.append([names[c] for c in _order(data[key][model])])
    return columns, [[i + 1, *(o[i] for o in orders)] for i in range(len(names))]


def learning_time_table(data: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """tau_c per class (rows) and model: seed mean and std, in SGD steps."""
    columns = ["class"]
    cells = []
    for model in data["models"]:
        tau = np.asarray(data["tau"][model], dtype=float)
        columns += [f"{TITLES.get(model, model)} mean", f"{TITLES.get(model, model)} std"]
        with np.errstate(invalid="ignore"):  # inf (never learned) gives a NaN spread
            spread = tau.std(axis=0, ddof=1) if len(tau) > 1 else np.zeros(tau.shape[1])
        cells.append((tau.mean(axis=0), spread))
    rows = [
        [name, *(round(float(v), 1) for m, s in cells for v in (m[c], s[c]))]
        for c, name in enumerate(data["classes"])
    ]
    return columns, rows


TABLES = (
    Table(
        "learned_order",
        "Learned order per model, rank 1 = learned first: by the MI-based tau_c (mean rank "
        "over seeds; ties in class order) and by recall (first step from which the class's "
        "recall stays at half its final value). Paper: MNIST 0 and 1 first, 5 and 8 last; "
        "CIFAR-10 frog, ship and airplane first (Sec. 4).",
        order_table,
    ),
    Table(
        "learning_time_table",
        "tau_c in SGD steps, mean and std over seeds.",
        learning_time_table,
    ),
)
