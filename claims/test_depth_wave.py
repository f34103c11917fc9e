"""Claim depth_wave (Pinson et al., Sec. 2-3, App. A): layers turn effectively nonlinear from
deep to shallow; partly-linear variants diverge from the main model earlier the more layers
are linear, and mean preactivations turn negative deep layers first.

`test_spec` checks every statistic, control, precondition and harness check of the spec
(sgdclaims.claims.depth_wave.spec.SPEC, from shared/CLAIMS.md) on every case; the tests below
check what is always true of the recorded result, whatever the verdicts.
"""

from __future__ import annotations

import numpy as np


def test_spec(spec_check):
    """One check of the spec on one (scale, data set) case."""
    spec_check.assert_holds()


def test_every_variant_recorded_at_every_checkpoint(case):
    """Each seed holds every variant at the same checkpoints, from step 0 to the last step,
    with 3 checkpoints in the last 5% of the run (CLAIMS.md's final value)."""
    cfg, curves = case.config, case.result.frame("curves")
    counts = curves.groupby(["unit", "variant"])["step"].agg(["min", "max", "count"])
    assert len(counts) == len(cfg.seeds) * len(cfg.ks)
    assert (counts["min"] == 0).all() and (counts["max"] == cfg.steps).all()
    assert counts["count"].nunique() == 1
    steps = np.sort(curves["step"].unique())
    assert (steps >= 0.95 * cfg.steps).sum() >= 3


def test_accuracy_matches_the_stored_predictions(case):
    """The recorded test accuracy of every variant, seed and checkpoint is the share of its
    stored argmax predictions that equal the test labels (mu_baseline reads them)."""
    result = case.result
    for unit, curve in zip(result.units, result.per_unit("curves")):
        preds, y = result.arrays[unit]["preds"], result.arrays[unit]["y_test"]
        for v, label in enumerate(result.provenance["variants"]):
            acc = curve[curve["variant"] == label]["acc"].to_numpy()
            assert np.allclose((preds[v] == y).mean(axis=1), acc, atol=1e-6)


def test_curves_finite_and_bounded(case):
    """No NaN or inf in a recorded curve after step 0 (a diverged run shows here), accuracies
    in [0, 1], learning rates never rising (the plateau rule only decays)."""
    curves = case.result.frame("curves")
    trained = curves[curves["step"] > 0]
    numbers = trained[["acc", "train_loss", "val_loss", "lr"]].to_numpy()
    assert np.isfinite(numbers).all(), "a recorded curve holds NaN or inf"
    assert ((curves["acc"] >= 0) & (curves["acc"] <= 1)).all()
    for _, group in curves.groupby(["unit", "variant"]):
        assert (np.diff(group.sort_values("step")["lr"].to_numpy()) <= 0).all()
    assert np.isfinite(case.result.frame("preact")["mean"].to_numpy()).all()
