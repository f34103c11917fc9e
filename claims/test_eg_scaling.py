"""Claim eg_scaling (Goldt et al. 2020, Sec. 1-3): training only the first layer, eps_g grows
linearly with L = K - M; the ODEs match SGD; training both layers it falls with K.

`test_spec` checks every statistic, control, precondition, harness check and reported value of
the spec (sgdclaims.claims.eg_scaling.spec.SPEC, from shared/CLAIMS.md) on every case; the
case tests below check what is true of the recorded tables whatever the verdicts. The others
need no case: a config the claim cannot run with names its field; and the spec's
falsifiability beyond the generic suite (tests/test_falsifiability.py): the constructed base
on which the sabotages act supports every statistic, and eg_linear_in_L, a goodness-of-fit
check without a control, misses values flat in L and growing as L^2.
"""

from __future__ import annotations

import numpy as np
import pytest

from sgdclaims.claims.eg_scaling import CLAIM
from sgdclaims.claims.eg_scaling.config import CASES
from sgdclaims.claims.eg_scaling.falsify import flatten, healthy
from sgdclaims.claims.eg_scaling.fits import deviations
from sgdclaims.claims.eg_scaling.runs import match_grid
from sgdclaims.teacher_student.newton import RESIDUAL_TOL
from sgdclaims.teacher_student.reach import DRIFT, status_of
from sgdclaims.verdicts import evaluate


def test_spec(spec_check):
    """One check of the spec on one (scale, data set) case."""
    spec_check.assert_holds()


def test_every_start_carries_its_drift_and_status(case):
    """eps_reached of every start is its eps_g at alpha_max with the status its drift, pair
    and divergence rule give (settled: drift below 0.1% a decade); eps_branch's certificate
    is Newton's residual."""
    for part in ("reached", "both", "eq15"):
        frame = case.result.frame(part)
        for row in frame.itertuples():
            assert row.status == status_of(row.drift, row.pair, row.diverged)
            assert bool(row.settled) == (row.drift < DRIFT and not row.diverged)
    branch = case.result.frame("branch")
    assert (branch.residual[branch.converged.astype(bool)] <= RESIDUAL_TOL).all()


def test_bad_config_names_the_field():
    """ValueError naming the field of a config the claim cannot run with."""
    cfg = CASES.config("fast", "gaussian")
    for field, value in (("match_ks", (1, 2)), ("both_ks", (1, 3)), ("sgd_n", 0),
                         ("sigma", 0.0), ("ode_eta", -0.05), ("eq15_eta", 0.1),
                         ("both_vs", 0.0), ("sgd_ls", (0,)), ("slope_etas", (0.05,)),
                         ("slope_etas", (0.01, 0.02))):  # fmt: skip
        with pytest.raises(ValueError, match=field):
            cfg.replace(**{field: value})


def test_ode_matches_sgd_takes_its_median_over_the_uniform_checkpoints():
    """ode_matches_sgd's checkpoints are alpha_max i / count, i = 1..count (CLAIMS.md: a horizon
    covering the plateau and its exit); a deviation at the log-spaced early ones only is not
    counted."""
    alphas, even = match_grid(300.0, 10, 50)
    assert np.allclose(alphas[even], 6.0 * np.arange(1, 51))
    assert (alphas[~even] < 6.0).sum() >= 7  # the figure's log-spaced early points
    frame = healthy().frames["match"].copy()
    at = frame[frame.n == frame.n.min()]
    before = deviations(at, at.n.iloc[0])
    frame.loc[~frame.uniform.astype(bool), "eps_sgd"] *= 10.0
    assert np.allclose(deviations(frame, at.n.iloc[0]), before)


def _verdicts(result) -> dict[str, str]:
    values = CLAIM.statistics(result)
    checks = [c.name for c in CLAIM.spec.checks if c.kind == "statistic"]
    return {name: evaluate(CLAIM.spec, name, values).verdict for name in checks}


def test_the_sabotages_act_on_a_base_that_supports_every_statistic():
    """Every asserted statistic is supported on falsify's base: what turns a verdict in the
    sabotage suite is the sabotage."""
    verdicts = _verdicts(healthy())
    assert set(verdicts.values()) == {"supported"}, verdicts


@pytest.mark.parametrize("shape", ["flat", "square"])
def test_eg_linear_in_l_misses_flat_and_quadratic_values(shape):
    """eps_branch flat in L (every K at K = M's value) or growing as L^2 (at every eta):
    eg_linear_in_L misses (R^2 undefined, or 0.92 for L = 0..3)."""
    result = healthy()
    branch = result.frames["branch"]
    if shape == "flat":
        flatten(branch, "k", ["start", "eta"], skip=("L", "eq11"))
    else:
        base = branch.groupby("eta").eps_branch.transform("min")
        branch["eps_branch"] = base * (1 + branch.L**2)
    verdict = evaluate(CLAIM.spec, "eg_linear_in_L", CLAIM.statistics(result))
    assert verdict.verdict == "miss", verdict.message
    if shape == "square":
        assert np.isclose(CLAIM.statistics(result)["eg_linear_in_L"].value, 225 / 245)
