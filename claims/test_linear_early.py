"""Claim linear_early (Nakkiran et al. 2019, Sec. 3, Fig. 4): early in SGD a linear classifier
explains almost all of a CNN's information on the label, and the CNN keeps it later.

`test_spec` checks every statistic, control, precondition and harness check of the spec
(sgdclaims.claims.linear_early.spec.SPEC, from shared/CLAIMS.md) on every case (the test
set's size, k-NN's accuracy match, L's convergence and `alive` are harness checks there);
the test below checks what is always true of the recorded curves, whatever the verdicts.
"""

from __future__ import annotations

import numpy as np


def test_spec(spec_check):
    """One check of the spec on one (scale, data set) case."""
    spec_check.assert_holds()


def test_mu_within_bounds(case):
    """The plug-in estimate always has mu_Y(F;X) <= min(I(F;Y), I(X;Y)) (Nakkiran eq. 1):
    checked against I(F;Y) for X = L, the control C and the k-NN, and against I(L;Y) for L
    (I(C;Y) and I(K;Y) are not stored), at every checkpoint of every seed (lr_sensitivity
    runs included). True of the recorded curves whatever the verdicts."""
    i_ly = float(case.result.scalars["I_LY"].iloc[0])
    tolerance = 1e-9
    for name in ("curves", "lr_curves"):
        if name not in case.result.frames:
            continue
        curves = case.result.frame(name)
        i_fy = curves["I_FY"].to_numpy()
        for column in ("mu_L", "mu_control", "mu_knn"):
            assert np.all(curves[column].to_numpy() <= i_fy + tolerance), f"{column} > I(F;Y)"
        assert np.all(curves["mu_L"].to_numpy() <= i_ly + tolerance), "mu_Y(F;L) exceeds I(L;Y)"
