"""depth_wave's figure data and tables (Pinson et al., Fig. 1-2): what is stored with a case
(seed-mean accuracy per member, d(k) of the first-k and last-k variants, seed mean and per
seed, the twin groups' d, the main model's train-mode preactivation means and t_neg), and the
tables of d(k) and t_neg drawn from it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from sgdclaims.claims.depth_wave.curves import MAIN, divergences, preactivation_curves, read
from sgdclaims.claims.depth_wave.wave import twin_divergence
from sgdclaims.curves import final_value
from sgdclaims.depth import first_negative_step
from sgdclaims.runner import Result
from sgdclaims.values import Value


def figure_data(result: Result, values: Mapping[str, Value]) -> dict[str, Any]:
    """Everything the figures and tables draw, as JSON-able lists."""
    c = read(result)
    others = [lab for lab in c.labels if lab not in (MAIN, *c.twins)]
    pre_steps, pre = preactivation_curves(result, MAIN)
    after = pre_steps > 0
    mean_pre = pre.mean(0)
    return {
        "steps": c.steps.tolist(),
        "labels": c.labels,
        "first": c.first,
        "last": c.last,
        "twins": c.twins,
        "acc": c.acc.mean(0).tolist(),
        "n_layers": c.layers,
        "depths": {lab: c.depth(lab) for lab in others},
        "d": dict(zip(others, divergences(c, others, c.acc.mean(0)).tolist())),
        "d_per_seed": [dict(zip(others, divergences(c, others, a).tolist())) for a in c.acc],
        "d_twins": list(twin_divergence(c)),
        "final_acc": dict(zip(c.labels, final_value(c.steps, c.acc).mean(0).tolist())),
        "preact_steps": pre_steps.tolist(),
        "preact": mean_pre.tolist(),
        "t_neg": first_negative_step(pre_steps[after], mean_pre[:, after]).tolist(),
        "t_neg_per_seed": [
            first_negative_step(pre_steps[after], p[:, after]).tolist() for p in pre
        ],
        "title": f"{result.provenance.get('dataset', '')} ({len(result.units)} seeds)",
    }


def name(label: str) -> str:
    """'main (k=0)', 'first 4', 'last 2', 'twin_a'."""
    if label == MAIN:
        return "main (k=0)"
    if label.startswith(("last", "twin")):
        return label.replace("last", "last ")
    return f"first {label}"


def step_text(value: Any) -> str:
    """A step, 'never' or 'NaN'."""
    value = float(value)
    return "never" if np.isinf(value) else ("NaN" if np.isnan(value) else f"{value:g}")


def divergence_table(data: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """d(k) of every first-k and last-k variant from the seed-mean curves and per seed, with
    the final accuracy; the twin groups' d in the last row."""
    seeds = len(data["d_per_seed"])
    columns = [
        "variant",
        "d(k) (seed mean)",
        *[f"d(k) seed {s}" for s in range(seeds)],
        "final accuracy",
    ]
    rows = [
        [
            name(lab),
            step_text(data["d"][lab]),
            *[step_text(d[lab]) for d in data["d_per_seed"]],
            f"{data['final_acc'][lab]:.4f}",
        ]
        for lab in data["d"]
    ]
    twins = " / ".join(step_text(d) for d in data["d_twins"])
    finals = " / ".join(f"{data['final_acc'][t]:.4f}" for t in data["twins"])
    rows.append(["twin groups (a vs b / b vs a)", twins, *[""] * seeds, finals])
    return columns, rows


def t_neg_table(data: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """t_neg(l) of the main model per seed and of its seed-mean curve."""
    per_seed = data["t_neg_per_seed"]
    columns = ["layer", *[f"seed {s}" for s in range(len(per_seed))], "seed-mean curve"]
    rows = [
        [layer, *[step_text(t[layer]) for t in per_seed], step_text(data["t_neg"][layer])]
        for layer in range(int(data["n_layers"]))
    ]
    return columns, rows
