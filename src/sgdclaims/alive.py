"""`alive` (shared/CLAIMS.md, Common ground): whether one run (a seed of a model) trained at
all. Its training loss is finite at every step and never above 100x its initial value (the
divergence rule, checked at every step by the training loops: sgdclaims.training.Divergence),
and over the last 5% of the run it predicts at least 2 distinct classes on the test set with
test accuracy at least chance (1 / classes, the literal reading) + 5 pp. A run that is not
alive fails every statistic it enters (its name goes into `Value.dead`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

import numpy as np

from sgdclaims.curves import final_mask
from sgdclaims.values import Value

#: accuracy above chance that a live run reaches over the last 5% of the run
MARGIN = 0.05
#: distinct predicted classes a live run shows at every checkpoint of the last 5%
MIN_CLASSES = 2


@dataclasses.dataclass(frozen=True)
class Liveness:
    """Whether one run is alive, and why not."""

    run: str
    alive: bool
    why: str = ""


def liveness(
    run: str,
    steps: Sequence[float] | np.ndarray,
    test_acc: Sequence[float] | np.ndarray,
    n_predicted: Sequence[float] | np.ndarray,
    diverged: str,
    num_classes: int,
) -> Liveness:
    """Liveness of one run from its checkpoints (steps, test accuracy, number of distinct
    predicted classes) and the divergence rule that fired ('' if none)."""
    if diverged:
        return Liveness(run, False, f"diverged ({diverged})")
    steps = np.asarray(steps, dtype=np.float64)
    acc = np.asarray(test_acc, dtype=np.float64)
    classes = np.asarray(n_predicted, dtype=np.float64)
    last = final_mask(steps)
    final_acc = float(acc[last].mean())
    floor = 1.0 / num_classes + MARGIN
    if not np.isfinite(acc[last]).all():
        return Liveness(run, False, "test accuracy is not finite at the end")
    if classes[last].min() < MIN_CLASSES:
        return Liveness(run, False, "predicts a single class at the end")
    if final_acc < floor:
        return Liveness(run, False, f"final accuracy {final_acc:.3f} below chance + 5 pp")
    return Liveness(run, True)


def dead_runs(runs: Iterable[Liveness]) -> tuple[str, ...]:
    """The names of the runs that are not alive."""
    return tuple(r.run for r in runs if not r.alive)


def alive_value(runs: Sequence[Liveness]) -> Value:
    """The `alive` harness value: 1 when every run is alive; per run 1 or 0; the note says
    which run is not, and why."""
    flags = [1.0 if r.alive else 0.0 for r in runs]
    dead = [f"{r.run}: {r.why}" for r in runs if not r.alive]
    note = "every run alive" if not dead else "not alive: " + "; ".join(dead)
    return Value(min(flags), tuple(flags), f"{note} (runs: {', '.join(r.run for r in runs)})")


def run_name(seed: object, model: str | None = None) -> str:
    """'seed 2 (cnn)', the name of a run in notes and `Value.dead`."""
    return f"seed {seed}" + (f" ({model})" if model else "")
