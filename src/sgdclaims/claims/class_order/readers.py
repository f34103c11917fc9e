"""class_order's readers of the stored curves: per-class and accuracy tables, the learning
times tau_c (CLAIMS.md, class_order) and their relabellings, for statistics and figures."""

from __future__ import annotations

import numpy as np

from sgdclaims import ranking
from sgdclaims.curves import final_value, unit_cube
from sgdclaims.runner import Result
from sgdclaims.streams import Streams

#: independent random relabellings of the classes that the controls are read from
RELABELLINGS = 200
#: the seeds of the relabellings of each model's tau_c, offsets from config.control_seed
STREAMS = Streams({"relabel cnn": 0, "relabel vit": 1})


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


def learning_times(result: Result, model: str, quantity: str = "mi") -> np.ndarray:
    """tau_c per seed and class, (seeds, C): the first checkpoint at which I(F_t;Y=c) reaches
    half its final value (mean over the last 5%); for recall, the first from which it stays
    there (an untrained net's recall is 1 for the class it predicts)."""
    steps, values = curve_table(result, model, quantity)
    final = final_value(steps, np.swapaxes(values, -1, -2))
    return ranking.learning_times(values, steps, sustained=quantity == "recall", final=final)


def relabelled(result: Result, model: str) -> np.ndarray:
    """RELABELLINGS independent per-seed relabellings of the classes of the model's tau_c,
    (n, seeds, C), drawn from the model's stream ('cnn' or 'vit')."""
    base = result.config.control_seed  # type: ignore[attr-defined]
    seed = STREAMS.seed(f"relabel {model}", base)
    return ranking.relabellings(learning_times(result, model), RELABELLINGS, seed)


def mid_training_gap(result: Result, model: str, quantity: str = "cmi_mm") -> np.ndarray:
    """I(F;Y=c) - mu_c = I(F;Y=c|L) at the checkpoint nearest half the run, (seeds, C)."""
    steps, cmi = curve_table(result, model, quantity)
    return cmi[:, int(np.argmin(np.abs(steps - steps[-1] / 2))), :]
