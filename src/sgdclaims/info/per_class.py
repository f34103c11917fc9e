"""Per-class information curves over checkpoints (Schouten & Toonen 2023, eq. 3-4): per-class
I(F;Y=c), I(F;Y=c|L) plug-in and Miller-Madow corrected, mu_c, and per-class recall."""

from __future__ import annotations

import numpy as np
import torch

from sgdclaims.info.contingency import Contingency


def per_class_recall(preds: torch.Tensor, y: torch.Tensor, num_classes: int) -> np.ndarray:
    """Per-class recall at every checkpoint, (T, C), from predictions (T, n) and labels (n,)."""
    hits = (preds == y).double()
    onehot = torch.nn.functional.one_hot(y, num_classes).double()
    return (hits @ onehot / onehot.sum(0).clamp_min(1)).cpu().numpy()


def miller_madow_per_class(table: np.ndarray) -> np.ndarray:
    """Miller-Madow correction of the per-class terms I(F;Y=y|L), (T, kY) in nats, from joint
    counts (T, kF, kY, kL): to second order the plug-in term of class y is biased by
    [m_FYL(y) - m_YL(y) + sum_l p(y|l) - sum_{f,l} p(y|f,l)] / 2N (m: occupied cells with
    Y = y), so the corrections sum over y to the total's (m_FL + m_YL - m_FYL - m_L) / 2N.
    Like every Miller-Madow correction it undercorrects where most cells are empty."""
    t = np.asarray(table, dtype=np.float64)
    n = t.sum(axis=(1, 2, 3)).reshape(-1, 1)
    fl, yl, l_ = t.sum(axis=2, keepdims=True), t.sum(axis=1), t.sum(axis=(1, 2))[:, None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        y_given_fl = np.where(fl > 0, t / fl, 0.0).sum(axis=(1, 3))
        y_given_l = np.where(l_ > 0, yl / l_, 0.0).sum(axis=2)
    m_fyl, m_yl = (t > 0).sum(axis=(1, 3)), (yl > 0).sum(axis=2)
    return (m_yl - m_fyl + y_given_fl - y_given_l) / (2 * n)


def per_class_curves(
    preds: torch.Tensor, y: torch.Tensor, l_pred: torch.Tensor, num_classes: int
) -> dict[str, np.ndarray]:
    """Per checkpoint and class, in bits (Schouten & Toonen 2023, eq. 3-4): I(F_t;Y=c),
    I(F_t;Y=c|L) plug-in and Miller-Madow corrected, mu_c, recall (each (T, C)), and the
    totals I(F_t;Y), mu_Y(F_t;L) ((T,)), from predictions (T, n), labels and L (n,)."""
    table = Contingency.from_labels(preds, y, l_pred, num_classes=num_classes)
    mi = np.asarray(table.per_class_mutual_information())
    cmi = np.asarray(table.per_class_conditional_mutual_information())
    return {
        "mi": mi,
        "cmi": cmi,
        "cmi_mm": cmi + miller_madow_per_class(np.asarray(table.counts)) / np.log(2),
        "mu": mi - cmi,
        "recall": per_class_recall(preds, y, num_classes),
        "I_FY": np.asarray(table.mutual_information()),
        "mu_FY": np.asarray(table.performance_correlation()),
    }
