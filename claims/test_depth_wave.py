"""Claim depth_wave (Pinson et al., Sec. 2-3, App. A): layers turn effectively nonlinear from
deep to shallow; partly-linear variants diverge from the main model earlier the more layers
are linear, and mean preactivations turn negative deep layers first.

`test_spec` checks every statistic, control, precondition and harness check of the spec
(sgdclaims.claims.depth_wave.spec.SPEC, from shared/CLAIMS.md) on every case; the tests below
check what is true of the recorded result whatever the verdicts.
"""

from __future__ import annotations

import numpy as np


def test_spec(spec_check):
    """One check of the spec on one (scale, data set) case."""
    spec_check.assert_holds()


def test_every_member_recorded_at_every_evaluation(case):
    """Each seed holds every member (first-k, last-k, twins) at the same evaluations, from
    step 0 to the last step, and each member's divergence record."""
    cfg, curves = case.config, case.result.frame("curves")
    counts = curves.groupby(["unit", "variant"])["step"].agg(["min", "max", "count"])
    assert len(counts) == len(cfg.seeds) * len(cfg.labels())
    assert (counts["min"] == 0).all() and (counts["max"] == cfg.steps).all()
    assert counts["count"].nunique() == 1
    runs = case.result.frame("runs")
    assert sorted(runs["variant"]) == sorted(cfg.labels() * len(cfg.seeds))


def test_accuracy_matches_the_stored_predictions(case):
    """The recorded test accuracy of every member, seed and evaluation is the share of its
    stored argmax predictions that equal the test labels (mu_baseline reads them)."""
    result = case.result
    for unit, curve in zip(result.units, result.per_unit("curves")):
        preds, y = result.arrays[unit]["preds"], result.arrays[unit]["y_test"]
        for v, label in enumerate(result.provenance["variants"]):
            acc = curve[curve["variant"] == label]["acc"].to_numpy()
            assert np.allclose((preds[v] == y).mean(axis=1), acc, atol=1e-6)


def test_one_learning_rate_schedule_that_only_decays(case):
    """Every member of a seed trains at the same learning rate at every evaluation (the main
    model's schedule), which never rises (the plateau rule only decays)."""
    for curve in case.result.per_unit("curves"):
        by_member = curve.pivot(index="step", columns="variant", values="lr").to_numpy()
        assert (by_member == by_member[:, :1]).all()
        assert (np.diff(by_member[:, 0]) <= 0).all()
