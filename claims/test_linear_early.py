"""Claim linear_early (Nakkiran et al. 2019, Sec. 3, Fig. 4): early in SGD a linear classifier
explains almost all of a CNN's information on the label, and the CNN keeps it later.

`test_spec` checks every statistic, control, precondition and harness check of the spec
(sgdclaims.claims.linear_early.spec.SPEC, from shared/CLAIMS.md) on every case; the tests below
check what is always true of the recorded curves, whatever the verdicts.
"""

from __future__ import annotations

import numpy as np


def test_spec(spec_check):
    """One check of the spec on one (scale, data set) case."""
    spec_check.assert_holds()


def test_mu_within_bounds(case):
    """The plug-in estimate always has mu_Y(F;X) <= min(I(F;Y), I(X;Y)) (Nakkiran eq. 1), for
    X = L, the control C and the k-NN, and for the accuracy-matched surrogate F' (whose
    I(F';Y) equals I(F;Y) on a binary task), at every checkpoint of every seed."""
    curves = case.result.frame("curves")
    i_ly = float(case.result.scalars["I_LY"].iloc[0])
    tolerance = 1e-9
    i_fy = curves["I_FY"].to_numpy()
    for column in ("mu_L", "mu_control", "mu_knn", "mu_surrogate_L", "mu_surrogate_control"):
        assert np.all(curves[column].to_numpy() <= i_fy + tolerance), f"{column} exceeds I(F;Y)"
    assert np.all(curves["mu_L"].to_numpy() <= i_ly + tolerance), "mu_Y(F;L) exceeds I(L;Y)"


def test_nonlinear_control_has_the_accuracy_of_l(case):
    """CLAIMS.md: the nonlinear classifier's test accuracy is within 1 pp of L's."""
    scalars = case.result.scalars.iloc[0]
    assert abs(scalars["knn_acc"] - scalars["l_acc"]) <= 0.01 + 1e-9


def test_test_set_is_large_enough(case):
    """CLAIMS.md, common ground: at least 2,000 test images, the same for every checkpoint."""
    assert case.result.provenance["n_test"] >= 2000


def test_every_seed_finite(case):
    """No NaN or inf in any recorded curve: a diverged run must show here, not vanish."""
    curves = case.result.frame("curves")
    trained = curves[curves["step"] > 0]  # the loss at step 0 averages no step: NaN by design
    numbers = trained.select_dtypes("number")
    assert np.isfinite(numbers.to_numpy()).all(), "a recorded curve holds NaN or inf"
