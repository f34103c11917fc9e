"""linear_early's readings of one seed's curves (shared/CLAIMS.md, linear_early and Common
ground): the early window, the early ratio over it, F's final training accuracy, and the
maximum of a 3-checkpoint running mean (a maximum never rests on one noisy checkpoint)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sgdclaims.claims.linear_early.config import WINDOW
from sgdclaims.curves import final_mask

#: the running mean a maximum over time is taken of
RUNNING = 3


def early_window(i_fy: np.ndarray, info_l: float) -> np.ndarray:
    """The checkpoints with 0.2 I(L;Y) <= I(F_t;Y) <= 0.8 I(L;Y)."""
    return (i_fy >= WINDOW[0] * info_l) & (i_fy <= WINDOW[1] * info_l)


def early_ratio(curve: pd.DataFrame, column: str, info_l: float) -> float:
    """min over the seed's own early window of mu / I(F_t;Y); NaN when it is empty."""
    i_fy = curve["I_FY"].to_numpy()
    inside = early_window(i_fy, info_l)
    if not inside.any():
        return float("nan")
    return float(np.min(curve[column].to_numpy()[inside] / i_fy[inside]))


def final_train_accuracy(curve: pd.DataFrame) -> float:
    """F's training accuracy, mean over the checkpoints of the last 5% (where it is
    measured); NaN if any of them lacks it."""
    values = curve["train_acc"].to_numpy()[final_mask(curve["step"].to_numpy())]
    return float(values.mean())


def peak_of_running_mean(curve: pd.DataFrame, column: str) -> float:
    """max over time of the 3-checkpoint running mean of a curve."""
    values = curve[column].to_numpy(dtype=np.float64)
    if len(values) < RUNNING:
        return float(np.max(values))
    return float(np.max(np.convolve(values, np.ones(RUNNING) / RUNNING, mode="valid")))
