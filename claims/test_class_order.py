"""Claim class_order (Schouten & Toonen 2023, Sec. 3.2-4.3): classes are learned in a
consistent order; a ViT learns them in the CNN's order, but sooner and without a warm-up.

`test_spec` checks every statistic, control, precondition and reported value of the spec
(sgdclaims.claims.class_order.spec.SPEC, from shared/CLAIMS.md) on every case; the tests below
check what is always true of the recorded curves, whatever the verdicts.
"""

from __future__ import annotations

import numpy as np

TOL = 1e-9


def test_spec(spec_check):
    """One check of the spec on one (scale, data set) case."""
    spec_check.assert_holds()


def test_per_class_terms_sum_to_the_totals(case):
    """The per-class terms I(F;Y=c) sum over c to I(F;Y) (their eq. 3), mu_c to mu_Y(F;L),
    at every checkpoint of every model and seed; I(F;Y=c) and recall are never negative."""
    per_class, totals = case.result.frame("per_class"), case.result.frame("totals")
    keys = ["unit", "model", "step"]
    summed = per_class.groupby(keys)[["mi", "mu"]].sum().sort_index()
    ordered = totals.set_index(keys).sort_index()
    np.testing.assert_allclose(summed["mi"], ordered["I_FY"], atol=TOL)
    np.testing.assert_allclose(summed["mu"], ordered["mu_FY"], atol=TOL)
    assert (per_class["recall"].between(0, 1)).all()


def test_every_curve_is_finite_and_every_model_recorded(case):
    """No NaN or inf in any recorded curve (a diverged run must show here, not vanish), and
    every model has the same checkpoints in every seed."""
    totals = case.result.frame("totals")
    trained = totals[totals["step"] > 0]  # the loss at step 0 averages no step: NaN by design
    assert np.isfinite(trained.select_dtypes("number").to_numpy()).all(), "NaN or inf recorded"
    steps = totals.groupby(["unit", "model"])["step"].apply(tuple)
    assert steps.nunique() == 1, "models or seeds were recorded at different checkpoints"


def test_test_set_is_large_enough(case):
    """CLAIMS.md, common ground: at least 2,000 test images, the same for every model."""
    assert case.result.provenance["n_test"] >= 2000
