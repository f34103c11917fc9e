"""class_order's harness checks and reported values (shared/CLAIMS.md, class_order and Common
ground): `alive` per seed and model, the test set, the recorded curves, warm-ups, the ratio
of vit_sooner from each model's warm-up end, the recall-based order and the per-class gap."""

from __future__ import annotations

import numpy as np

from sgdclaims import ranking
from sgdclaims.alive import alive_value, dead_runs
from sgdclaims.claims.class_order import orders
from sgdclaims.claims.class_order.config import MODELS
from sgdclaims.claims.class_order.readers import (
    accuracy_table,
    learning_times,
    liveness_of,
    mid_training_gap,
    warm_up,
)
from sgdclaims.curves import final_value
from sgdclaims.runner import Result
from sgdclaims.values import Value, seed_mean


def _curves_recorded(result: Result) -> np.ndarray:
    """Per seed 1 when every model and surrogate has the same checkpoints as the first and
    finite test accuracy, per-class information and recall at each of them, else 0."""
    totals, per_class = result.frame("totals"), result.frame("per_class")
    first = totals[totals["unit"] == result.units[0]]
    steps = tuple(np.sort(first[first["model"] == "cnn"]["step"].to_numpy()))
    out = []
    for unit in result.units:
        t, c = totals[totals["unit"] == unit], per_class[per_class["unit"] == unit]
        same = all(tuple(np.sort(g["step"].to_numpy())) == steps for _, g in t.groupby("model"))
        finite = (
            np.isfinite(t["test_acc"]).all() and np.isfinite(c[["mi", "recall"]].to_numpy()).all()
        )
        out.append(float(same and finite and set(t["model"]) >= set(MODELS)))
    return np.asarray(out)


def harness(result: Result) -> dict[str, Value]:
    """alive (every seed and model), n_test and curves_recorded."""
    runs = [r for m in MODELS for r in liveness_of(result, m)]
    counts = result.frame("test_classes").groupby("unit")["count"].sum().reindex(result.units)
    recorded = _curves_recorded(result)
    return {
        "alive": alive_value(runs),
        "n_test": Value(counts.min(), counts.to_numpy(), "test images, the same every checkpoint"),
        "curves_recorded": Value(
            recorded.min(), recorded, "1: every model recorded at every checkpoint, finite"
        ),
    }


def reported(result: Result) -> dict[str, Value]:
    """Warm-ups, vit_sooner from the warm-up ends, the recall order, the per-class gap and
    the final accuracies."""
    dead = {m: dead_runs(liveness_of(result, m)) for m in MODELS}
    tau = {m: learning_times(result, m) for m in MODELS}
    warm = {m: warm_up(result, m) for m in MODELS}
    steps = float(result.scalars["steps"].iloc[0])
    out: dict[str, Value] = {}
    for m in MODELS:
        out[f"warm_up_{m}"] = seed_mean(
            warm[m],
            f"SGD steps until the {m}'s test accuracy first reaches 2 x chance",
            dead=dead[m],
            fraction_of_run=np.mean(warm[m]) / steps,
        )
        out[f"final_accuracy_{m}"] = seed_mean(
            final_value(*accuracy_table(result, m)),
            "mean over the last 5% of the run",
            dead=dead[m],
        )
    means = {m: orders.mean_times(tau[m], warm[m]) for m in ("cnn", "vit")}
    ratio = orders.ratios(means["vit"], means["cnn"])
    out["vit_sooner_from_warm_up"] = Value(
        orders.geometric_mean(ratio),
        ratio,
        "vit_sooner with each tau_c counted from its model's warm-up end: geometric mean over "
        "seeds of mean_c (tau_c - warm_up)(ViT) / the same of the CNN",
        dead=dead["cnn"] + dead["vit"],
    )
    recall = learning_times(result, "cnn", "recall")
    out["recall_order_agreement"] = Value(
        orders.rho(tau["cnn"].mean(axis=0), recall.mean(axis=0)),
        [orders.rho(a, b) for a, b in zip(tau["cnn"], recall)],
        "CNN: rho of the seed-mean tau_c by MI and by recall (recall >= 0.5 to the end); per "
        "seed: its own pair",
        {"W by recall": orders.concordance(recall)},
        dead=dead["cnn"],
    )
    gap = {
        m: [ranking.spearman(t, g) for t, g in zip(tau[m], mid_training_gap(result, m))]
        for m in ("cnn", "vit")
    }
    out["gap_tracks_order"] = seed_mean(
        gap["cnn"],
        "CNN: rho(tau_c, Miller-Madow I(F;Y=c|L) at mid-training), per seed",
        dead=dead["cnn"] + dead["linear"],
        ViT=np.mean(gap["vit"]),
    )
    return out
