"""The estimators as functions of label arrays: each counts once (`Contingency`) and
reads one quantity."""

from __future__ import annotations

from sgdclaims.info.contingency import Contingency, Values
from sgdclaims.info.encoding import LabelArray


def entropy(
    X: LabelArray,
    given: LabelArray | None = None,
    *,
    base: float = 2,
    miller_madow: bool = False,
    num_classes: int | None = None,
) -> Values:
    """Plug-in H(X), or H(X|given), per checkpoint when X or given is (T, n)."""
    named = {"X": X, "Y": None, "given": given}
    table = Contingency._build(named, num_classes, optional=("Y", "given"))
    return table.entropy(
        "f", "l" if given is not None else "", base=base, miller_madow=miller_madow
    )


def mutual_information(
    F: LabelArray,
    Y: LabelArray,
    *,
    base: float = 2,
    miller_madow: bool = False,
    num_classes: int | None = None,
) -> Values:
    """Plug-in I(F;Y) (Nakkiran et al. 2019, Sec. 2); F or Y may be (T, n) for T checkpoints."""
    table = Contingency.from_labels(F, Y, num_classes=num_classes)
    return table.mutual_information(base=base, miller_madow=miller_madow)


def conditional_mutual_information(
    F: LabelArray,
    Y: LabelArray,
    L: LabelArray,
    *,
    base: float = 2,
    miller_madow: bool = False,
    num_classes: int | None = None,
) -> Values:
    """Plug-in I(F;Y|L) (Nakkiran et al. 2019, Sec. 2); any argument may be (T, n)."""
    table = Contingency.from_labels(F, Y, L, num_classes=num_classes)
    return table.conditional_mutual_information(base=base, miller_madow=miller_madow)


def performance_correlation(
    F: LabelArray,
    Y: LabelArray,
    L: LabelArray,
    *,
    base: float = 2,
    miller_madow: bool = False,
    num_classes: int | None = None,
) -> Values:
    """mu_Y(F;L) = I(F;Y) - I(F;Y|L) (Nakkiran et al. 2019, eq. 1); any argument may be (T, n)."""
    table = Contingency.from_labels(F, Y, L, num_classes=num_classes)
    return table.performance_correlation(base=base, miller_madow=miller_madow)


def per_class_mutual_information(
    F: LabelArray,
    Y: LabelArray,
    L: LabelArray | None = None,
    *,
    base: float = 2,
    num_classes: int | None = None,
) -> Values:
    """Per-class I(F;Y=y), or I(F;Y=y|L) when L is given (Schouten & Toonen 2023, eq. 3-4),
    shape (T, kY) or (kY,); columns follow the sorted labels of Y (0..num_classes-1 if given)."""
    table = Contingency.from_labels(F, Y, L, num_classes=num_classes)
    if L is None:
        return table.per_class_mutual_information(base=base)
    return table.per_class_conditional_mutual_information(base=base)
