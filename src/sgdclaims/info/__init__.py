"""Plug-in mutual information of discrete labels, batched over checkpoints.

Every MI-based claim reads its numbers from here: I(F;Y), I(F;Y|L), the performance
correlation mu_Y(F;L) = I(F;Y) - I(F;Y|L) (Nakkiran et al. 2019, Sec. 2, eq. 1) and the
per-class terms I(F;Y=y), I(F;Y=y|L) (Schouten & Toonen 2023, eq. 3-4), in bits unless
`base` says otherwise, with 0 log 0 = 0 exactly (zero cells are skipped, never smoothed).

One joint count table of shape (T, kF, kY, kL) is built with a single bincount over
combined indices, for all T checkpoints at once (numpy input with one (T, n) variable:
one bincount per block of a few checkpoints, while the block sits in cache); every
quantity is read from it (`Contingency`). Each of F, Y, L is a 1-D array (n,) or a 2-D
array (T, n) of non-negative integer labels; numpy input gives numpy float64 results,
torch input gives float64 tensors on the input's device (numpy arguments mixed with
tensors are moved to the tensors' device once). Values are exact up to float rounding (~1e-15), so a
quantity that is zero in exact arithmetic may come out as -1e-17; nothing is clipped.

The package: `encoding` checks the labels and turns them into compact codes, `counting`
builds the joint tables, `contingency` reads every quantity from a table (`Contingency`),
`estimators` offers each quantity as a function of the labels, `bootstrap` gives
resampled values and percentile intervals, and `per_class` the per-class curves over
checkpoints (plug-in and Miller-Madow corrected, with recall).
"""

# _cells, _count and _encode_all are private; tests use them through this package
from sgdclaims.info.bootstrap import bootstrap_interval, bootstrap_statistic
from sgdclaims.info.contingency import Contingency, Values
from sgdclaims.info.counting import MAX_CELLS
from sgdclaims.info.counting import _cells as _cells
from sgdclaims.info.counting import _count as _count
from sgdclaims.info.encoding import LabelArray
from sgdclaims.info.encoding import _encode_all as _encode_all
from sgdclaims.info.estimators import (
    conditional_mutual_information,
    entropy,
    mutual_information,
    per_class_mutual_information,
    performance_correlation,
)
from sgdclaims.info.per_class import miller_madow_per_class, per_class_curves, per_class_recall

__all__ = [
    "MAX_CELLS",
    "Contingency",
    "LabelArray",
    "Values",
    "bootstrap_interval",
    "bootstrap_statistic",
    "conditional_mutual_information",
    "entropy",
    "miller_madow_per_class",
    "mutual_information",
    "per_class_curves",
    "per_class_mutual_information",
    "per_class_recall",
    "performance_correlation",
]
