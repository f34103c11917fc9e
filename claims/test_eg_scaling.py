"""Claim eg_scaling (Goldt et al. 2020, Sec. 1-3): training only the first layer, eps_g* grows
linearly with L = K - M; the ODEs match SGD; training both layers it falls with K.

`test_spec` checks every statistic, control, harness check and reported value of the spec
(sgdclaims.claims.eg_scaling.spec.SPEC, from shared/CLAIMS.md) on every case; the tests below
check what is always true of the result, whatever the verdicts.
"""

from __future__ import annotations

import numpy as np

from sgdclaims.teacher_student.asymptote import AGREE, CERTIFIED, DRIFT, UNSTABLE


def test_spec(spec_check):
    """One check of the spec on one (scale, data set) case."""
    spec_check.assert_holds()


def test_every_eps_star_carries_its_certificate(case):
    """Each eps_g* used anywhere was certified by the attempt it came from: Newton within 1%
    of the integrated value, drift below 0.1% over the last decade, top eigenvalue <= 1e-5;
    an uncertified start has no eps_g*."""
    for part in ("ode", "both", "eq15"):
        frame = case.result.frame(part)
        for _, row in frame.iterrows():
            if not row.certified:
                assert np.isnan(row.eps_star), f"{part}: uncertified start with an eps_g*"
                continue
            att = "restart" if row.source == "restart" else "start"
            assert row[f"{att}_status"] == CERTIFIED
            assert abs(row[f"{att}_eps"] / row[f"{att}_eps_newton"] - 1) <= AGREE
            assert row[f"{att}_drift"] < DRIFT
            assert row[f"{att}_max_eig"] <= UNSTABLE
            assert row.eps_star == row[f"{att}_eps_newton"]


def test_cancelling_pairs_are_never_eps_star(case):
    """A start that ended on the cancelling-pair manifold is reported and restarted, never
    used as eps_g* itself."""
    for part in ("ode", "both"):
        frame = case.result.frame(part)
        on_pair = frame[frame.start_pair.astype(bool)]
        assert (on_pair.source != "start").all(), f"{part}: a start on a pair gave eps_g*"


def test_recorded_curves_are_finite(case):
    """No NaN or inf in any SGD or ODE curve (a diverged run must show here, not vanish), and
    no negative eps_g at the end of any integration (eps_g is a mean square)."""
    match = case.result.frame("match")
    assert np.isfinite(match[["eps_sgd", "eps_ode", "eps_ode_ref"]].to_numpy()).all()
    for part in ("sgd", "linear", "relu"):
        curves = case.result.frame(f"{part}_curves").select_dtypes("number").to_numpy()
        assert np.isfinite(curves).all(), f"{part}: a recorded SGD curve holds NaN or inf"
    for part in ("ode", "both", "eq15"):
        ends = case.result.frame(part).filter(regex="(start|restart)_eps$").to_numpy()
        assert (ends[np.isfinite(ends)] >= 0).all(), f"{part}: an integration ended at eps_g < 0"
