"""class_order's readers of the stored curves (shared/CLAIMS.md, class_order): per-class and
accuracy tables, the fixed per-class levels and the learning times tau_c, final recall,
warm-ups and the liveness of every run, for statistics and figures."""

from __future__ import annotations

import numpy as np

from sgdclaims import ranking
from sgdclaims.alive import Liveness, liveness, run_name
from sgdclaims.claims.class_order.config import NUM_CLASSES
from sgdclaims.curves import final_value, first_reaching, unit_cube
from sgdclaims.runner import Result

#: CLAIMS.md: tau_c is the first checkpoint from which I(F_t;Y=c) stays >= Q p(c) log2(1/p(c))
Q = 0.25
#: the recall-based order (reported): the first checkpoint from which recall stays >= 0.5,
#: the recall level of `classes_learned`
RECALL_LEVEL = 0.5
#: `warm_up` ends at the first checkpoint with test accuracy >= 2 x chance (CLAIMS.md)
WARM_UP_ACCURACY = 2.0 / NUM_CLASSES


def class_names(result: Result) -> list[str]:
    """The class names of the result's data set."""
    return str(result.provenance["classes"]).split(", ")


def curve_table(result: Result, model: str, quantity: str = "mi") -> tuple[np.ndarray, np.ndarray]:
    """(steps (T,), values (seeds, T, C)) of one per-class quantity of one model."""
    frame = result.frame("per_class")
    return unit_cube(frame[frame["model"] == model], result.units, quantity, by="class")


def accuracy_table(result: Result, model: str) -> tuple[np.ndarray, np.ndarray]:
    """(steps (T,), test accuracy (seeds, T)) of one model."""
    frame = result.frame("totals")
    return unit_cube(frame[frame["model"] == model], result.units, "test_acc")


def class_shares(result: Result) -> np.ndarray:
    """p(c), the share of each class among the test images, (seeds, C)."""
    frame = result.frame("test_classes")
    counts = frame.pivot_table(index="unit", columns="class", values="count").reindex(result.units)
    counts = counts.to_numpy(dtype=np.float64)
    return counts / counts.sum(axis=1, keepdims=True)


def mi_levels(result: Result) -> np.ndarray:
    """The fixed level Q p(c) log2(1/p(c)) of every class, (seeds, C): a quarter of the
    per-class term of a perfect classifier (0 for a class absent from the test set)."""
    p = class_shares(result)
    with np.errstate(divide="ignore", invalid="ignore"):
        cap = np.where(p > 0, -p * np.log2(p), 0.0)
    return Q * cap


def learning_times(result: Result, model: str, quantity: str = "mi") -> np.ndarray:
    """tau_c per seed and class, (seeds, C): the first checkpoint from which I(F_t;Y=c) stays
    at or above its fixed level to the end (for 'recall': recall >= RECALL_LEVEL); inf for a
    class that never gets there (it ranks last)."""
    steps, values = curve_table(result, model, quantity)
    level = mi_levels(result) if quantity == "mi" else RECALL_LEVEL
    return ranking.learning_times(values, steps, level)


def final_recall(result: Result, model: str) -> np.ndarray:
    """Each class's recall over the last 5% of the run, (seeds, C)."""
    steps, recall = curve_table(result, model, "recall")
    return final_value(steps, np.swapaxes(recall, -1, -2))


def warm_up(result: Result, model: str) -> np.ndarray:
    """SGD steps until the model's test accuracy first reaches 2 x chance, per seed (inf if
    never)."""
    return first_reaching(*accuracy_table(result, model), WARM_UP_ACCURACY)


def mid_training_gap(result: Result, model: str, quantity: str = "cmi_mm") -> np.ndarray:
    """I(F;Y=c) - mu_c = I(F;Y=c|L) at the checkpoint nearest half the run, (seeds, C)."""
    steps, cmi = curve_table(result, model, quantity)
    return cmi[:, int(np.argmin(np.abs(steps - steps[-1] / 2))), :]


def liveness_of(result: Result, model: str) -> list[Liveness]:
    """`alive` of one model in every seed (shared/CLAIMS.md, Common ground)."""
    totals, runs = result.frame("totals"), result.frame("runs")
    out = []
    for unit in result.units:
        curve = totals[(totals["unit"] == unit) & (totals["model"] == model)].sort_values("step")
        rule = runs[(runs["unit"] == unit) & (runs["model"] == model)]["diverged"]
        out.append(
            liveness(
                run_name(unit, model),
                curve["step"],
                curve["test_acc"],
                curve["n_predicted"],
                str(rule.iloc[0]) if len(rule) else "not recorded",
                NUM_CLASSES,
            )
        )
    return out
