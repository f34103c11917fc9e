"""Reading the claim's stored runs (the 'curves', 'loss' and 'runs' tables of its experiment,
rows tagged with seed, K, features and which step): per-seed curves and final values per K,
divergence, liveness, and the shapes of the training loss the statistics test (Goldwaser &
Ge, Fig. 1-2). NaN is never dropped: a diverged run fails what it enters."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from sgdclaims.alive import Liveness, liveness, run_name
from sgdclaims.curves import final_of
from sgdclaims.linearise import k_label
from sgdclaims.runner import Result

#: the share of a K-window whose loss decrease is compared (first and last 10%)
WINDOW_EDGE = 0.1


@dataclasses.dataclass(frozen=True)
class Runs:
    """The runs of one kind (features, which step) per K, in seed order."""

    result: Result
    features: str = "own"
    which: str = "main"

    @property
    def seeds(self) -> tuple[int, ...]:
        return tuple(self.result.config.seeds)

    def _rows(self, frame: str, period: float, seed: int) -> pd.DataFrame:
        f = self.result.frame(frame)
        mask = (
            (f["K"] == float(period))
            & (f["seed"] == seed)
            & (f["features"] == self.features)
            & (f["which"] == self.which)
        )
        return f[mask.to_numpy()].sort_values("step") if "step" in f else f[mask.to_numpy()]

    def curve(self, period: float, seed: int) -> pd.DataFrame:
        """One run's checkpoints (step, test_acc, net_acc, n_predicted)."""
        return self._rows("curves", period, seed)

    def loss(self, period: float, seed: int) -> np.ndarray:
        """One run's training loss before every step (NaN after it stopped)."""
        return self._rows("loss", period, seed)["train_loss"].to_numpy(dtype=np.float64)

    def row(self, period: float, seed: int) -> Mapping[str, Any]:
        """One run's row of the 'runs' table (divergence, sharpness, lr)."""
        rows = self._rows("runs", period, seed)
        if len(rows) != 1:
            raise KeyError(f"{len(rows)} rows for K={k_label(period)} seed {seed}")
        return rows.iloc[0]

    def final(self, period: float, column: str = "test_acc") -> np.ndarray:
        """Per seed the final value (%, the mean over the last 5% of the run)."""
        return np.array([100 * final_of(self.curve(period, s), column) for s in self.seeds])

    def diverged_at(self, period: float) -> np.ndarray:
        """Per seed the step at which the divergence rule fired (-1: never)."""
        return np.array([float(self.row(period, s)["diverged_at"]) for s in self.seeds])

    def name(self, period: float, seed: int) -> str:
        """'seed 0 (K=10)', '(K=100, random)', '(K=1, large lr)'."""
        tags = [f"K={k_label(period)}"]
        tags += ["random"] if self.features == "random" else []
        tags += ["large lr"] if self.which == "large" else []
        return run_name(seed, ", ".join(tags))

    def alive(self, period: float, seed: int) -> Liveness:
        """`alive` of one run (10 classes)."""
        c = self.curve(period, seed)
        rule = str(self.row(period, seed)["diverged"] or "")
        classes = int(self.result.provenance["num_classes"])
        return liveness(
            self.name(period, seed), c["step"], c["test_acc"], c["n_predicted"], rule, classes
        )

    def dead(self, periods: Sequence[float]) -> tuple[str, ...]:
        """The runs of these K that are not alive."""
        return tuple(
            r.run for k in periods for s in self.seeds if not (r := self.alive(k, s)).alive
        )


def window_ratios(loss: np.ndarray, period: int) -> np.ndarray:
    """For each complete K-window after the first of a per-step training-loss trace: the loss
    change over its last 10% of steps (its size: a rise counts as much as a fall) divided by
    the decrease over its first 10% (NaN where the window holds NaN; inf where its first 10%
    does not decrease)."""
    if period < 1:
        raise ValueError(f"period must be >= 1, got {period}")
    m = max(1, round(WINDOW_EDGE * period))
    loss = np.asarray(loss, dtype=np.float64)
    out = []
    for start in range(period, len(loss) - period + 1, period):
        w = loss[start : start + period]
        first, last = w[0] - w[m], abs(w[-1 - m] - w[-1])
        if np.isnan(w).any():
            out.append(math.nan)
        else:
            out.append(last / first if first > 0 else math.inf)
    return np.asarray(out, dtype=np.float64)


def boundary_ratios(loss: np.ndarray, period: int) -> np.ndarray:
    """At each window boundary after the first window (steps K, 2K, ... with a full 10% on
    both sides): the loss fall over the 10% of steps before it divided by the fall over the
    10% after it (NaN where NaN; inf where the fall after is not positive)."""
    m = max(1, round(WINDOW_EDGE * period))
    loss = np.asarray(loss, dtype=np.float64)
    out = []
    for b in range(period, len(loss) - m, period):
        before, after = loss[b - m] - loss[b], loss[b] - loss[b + m]
        if math.isnan(before + after):
            out.append(math.nan)
        else:
            out.append(before / after if after > 0 else math.inf)
    return np.asarray(out, dtype=np.float64)


def refresh_losses(loss: np.ndarray, period: int) -> np.ndarray:
    """The network's own training loss at each refresh of period K (steps 0, K, 2K, ... < T:
    at a refresh the linearised model is the network itself)."""
    return np.asarray(loss, dtype=np.float64)[::period]


def progress_share(loss: np.ndarray, period: int) -> float:
    """The share of consecutive refreshes at which the loss is below the previous refresh's
    (NaN if any is NaN, or fewer than two refreshes)."""
    at = refresh_losses(loss, period)
    if len(at) < 2 or np.isnan(at).any():
        return math.nan
    return float(np.mean(at[1:] < at[:-1]))


def median_or_nan(ratios: np.ndarray) -> float:
    """The median; NaN when any value is NaN or there is none."""
    ratios = np.asarray(ratios, dtype=np.float64)
    if not len(ratios) or np.isnan(ratios).any():
        return math.nan
    return float(np.median(ratios))


def upward_closed(diverged: Mapping[float, np.ndarray]) -> np.ndarray:
    """Per seed: 1.0 when the smallest K (K = 1) converges and the diverging K form a
    non-empty upward-closed set, else 0.0. diverged: {K: per-seed bools}."""
    ks = sorted(diverged)
    if not ks:
        raise ValueError("upward_closed needs at least one K")
    flags = np.stack([np.asarray(diverged[k], dtype=bool) for k in ks])  # (K, seeds)
    closed = np.all(flags[:-1] <= flags[1:], axis=0)
    return (closed & ~flags[0] & flags[1:].any(axis=0)).astype(np.float64)


def matched_step(loss: np.ndarray, target: float) -> int:
    """The first step whose loss is at or below `target` (-1: never, or NaN target)."""
    hits = np.flatnonzero(np.asarray(loss) <= target)
    return int(hits[0]) if len(hits) and not math.isnan(target) else -1


def accuracy_at(curve: pd.DataFrame, step: int) -> tuple[float, int]:
    """The test accuracy (%) at the checkpoint nearest to `step` (the earlier on a tie), and
    that checkpoint (NaN, -1 for a step of -1: never reached)."""
    if step < 0 or curve.empty:
        return math.nan, -1
    steps = curve["step"].to_numpy()
    nearest = int(np.argmin(np.abs(steps - step)))
    return 100 * float(curve["test_acc"].iloc[nearest]), int(steps[nearest])
