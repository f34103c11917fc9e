"""Claim class_order (Schouten & Toonen 2023, Sec. 3.2-4.3): classes are learned in a
consistent order; a ViT learns them in the CNN's order, but sooner and without a warm-up.

`test_spec` checks every statistic, control, precondition, harness check and reported value
of the spec (sgdclaims.claims.class_order.spec.SPEC, from shared/CLAIMS.md) on every case;
the test below checks what is true of the recorded curves whatever the verdicts.
"""

from __future__ import annotations

import numpy as np

TOL = 1e-9


def test_spec(spec_check):
    """One check of the spec on one (scale, data set) case."""
    spec_check.assert_holds()


def test_per_class_terms_sum_to_the_totals(case):
    """The per-class terms I(F;Y=c) sum over c to I(F;Y) (their eq. 3), mu_c to mu_Y(F;L),
    at every checkpoint of every model, surrogate and seed; I(F;Y=c) and recall are never
    negative."""
    per_class, totals = case.result.frame("per_class"), case.result.frame("totals")
    keys = ["unit", "model", "step"]
    summed = per_class.groupby(keys)[["mi", "mu"]].sum().sort_index()
    ordered = totals.set_index(keys).sort_index()
    np.testing.assert_allclose(summed["mi"], ordered["I_FY"], atol=TOL)
    np.testing.assert_allclose(summed["mu"], ordered["mu_FY"], atol=TOL)
    assert (per_class["recall"].between(0, 1)).all()
    assert (per_class["mi"] >= -TOL).all()
