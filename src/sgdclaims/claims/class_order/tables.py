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
    seeds) and by recall (first step from which a class's recall stays >= 0.5)."""
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


def tau_per_seed_table(data: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """tau_c per class (rows) for every seed of the CNN, the ViT and their surrogates, and
    the CNN's tau by recall, in SGD steps (inf: never learned)."""
    seeds = data.get("seeds") or [str(i) for i in range(len(data["tau"]["cnn"]))]
    blocks = [(f"{TITLES.get(m, m)}", data["tau"][m]) for m in ("cnn", "vit")]
    blocks += [(f"{TITLES.get(m, m)}", data["tau"][m]) for m in ("cnn_surrogate", "vit_surrogate")]
    blocks.append(("CNN recall", data["tau_recall"]["cnn"]))
    columns = ["class"] + [f"{name} s{seed}" for name, _ in blocks for seed in seeds]
    tables = [np.asarray(tau, dtype=float) for _, tau in blocks]
    rows = [
        [name, *(float(t[s, c]) for t in tables for s in range(len(seeds)))]
        for c, name in enumerate(data["classes"])
    ]
    return columns, rows


TABLES = (
    Table(
        "learned_order",
        "Learned order per model, rank 1 = learned first: by the MI-based tau_c (mean rank "
        "over seeds; ties in class order) and by recall (first step from which the class's "
        "recall stays >= 0.5). Paper: MNIST 0 and 1 first, 5 and 8 last; "
        "CIFAR-10 frog, ship and airplane first (Sec. 4).",
        order_table,
    ),
    Table(
        "learning_time_table",
        "tau_c in SGD steps, mean and std over seeds.",
        learning_time_table,
    ),
    Table(
        "tau_per_seed",
        "tau_c per seed in SGD steps (inf: the class never stays at its level) of the CNN, the "
        "ViT and their class-blind surrogates, and the CNN's by recall.",
        tau_per_seed_table,
    ),
)
