"""Unit tests of the iterative_linearisation claim (Goldwaser & Ge, Sec. 3-4, Fig. 1-2): its
readout of the loss shapes, its statistics on the constructed results of `falsify`, and its
config."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from sgdclaims.claims.iterative_linearisation import falsify, readout, shapes
from sgdclaims.claims.iterative_linearisation.config import CASES
from sgdclaims.claims.iterative_linearisation.experiment import load_data
from sgdclaims.claims.iterative_linearisation.spec import SPEC
from sgdclaims.claims.iterative_linearisation.statistics import statistics
from sgdclaims.values import Value
from sgdclaims.verdicts import DEAD, evaluate


def test_window_ratios_count_a_rise_at_the_end():
    step = np.concatenate([np.exp(-np.arange(10)) + 2, np.exp(-np.arange(10)) + 1,
                           np.exp(-np.arange(10))])  # fmt: skip
    ratios = readout.window_ratios(step, 10)
    assert len(ratios) == 2 and (ratios < 0.25).all()
    rising = step.copy()
    rising[17:20] += np.array([0.1, 0.3, 0.6])  # the second window's end climbs
    assert readout.window_ratios(rising, 10)[0] > 0.25
    assert readout.median_or_nan(readout.window_ratios(np.linspace(3, 0, 30), 10)) == 1.0
    step[25:] = np.nan
    assert math.isnan(readout.median_or_nan(readout.window_ratios(step, 10)))


def test_boundary_ratios_progress_and_matching():
    smooth = np.exp(-np.arange(40) / 10)
    assert (readout.boundary_ratios(smooth, 10) > 1).all()
    assert readout.progress_share(smooth, 10) == 1.0
    saw = np.tile(np.linspace(2, 1, 10), 4)
    assert readout.progress_share(saw, 10) == 0.0
    assert readout.matched_step(smooth, 0.5) == 7 and readout.matched_step(smooth, -1) == -1


def test_upward_closed():
    div = {1.0: [False, False], 10.0: [True, False], 100.0: [True, True]}
    np.testing.assert_array_equal(readout.upward_closed(div), [1.0, 1.0])
    div[300.0] = [False, True]
    np.testing.assert_array_equal(readout.upward_closed(div), [0.0, 1.0])
    div[1.0] = [True, True]
    np.testing.assert_array_equal(readout.upward_closed(div), [0.0, 0.0])
    np.testing.assert_array_equal(readout.upward_closed({1.0: [False], 10.0: [False]}), [0.0])


def test_the_constructed_healthy_result_supports_every_statistic():
    values = statistics(falsify.healthy())
    for check in SPEC.checks:
        if check.kind == "statistic":
            assert evaluate(SPEC, check.name, values).verdict == "supported", check.name
    gap = values["k_insensitive"]
    assert gap.value == pytest.approx(np.mean(gap.per_seed))  # the mean of its column


def test_a_nan_gap_fails_k_insensitive():
    values = statistics(falsify.healthy())
    gap = values["k_insensitive"]
    nan = Value(math.nan, (gap.per_seed[0], math.nan), aggregate="mean")
    values["k_insensitive"] = nan
    assert evaluate(SPEC, "k_insensitive", values).verdict == "miss"


def test_staircase_k1_shows_that_a_smooth_fast_fall_meets_the_staircase():
    """The weakness staircase_k1 reports: a smooth exponential fall (tau 120 steps, no
    refreshes, no staircase) cut at K = 300's boundaries meets staircase's (a) < 0.25, at
    exp(-269 / 120) in every window (its last 10% starts 269 steps after its first), and (b)
    >= 0.75; put in the staircase K's place it is 'supported' while the control (boundary
    slopes of K = 1, ~1 on any smooth loss) misses."""
    runs = falsify.healthy_runs()
    cfg = CASES.config("fast", "mnist")
    for s in cfg.seeds:
        for k in (1.0, float(cfg.staircase_period)):
            runs[(s, "own", k, "main")].train_loss[:] = falsify.smooth(0.05, 120, cfg.steps)
    values = statistics(falsify.result_of(runs))
    k1 = values["staircase_k1"]
    assert k1.value == pytest.approx(math.exp(-269 / 120)) and k1.value < shapes.STAIRCASE_A
    assert k1.details["meets (a) < 0.25"] == 1.0 and k1.details["meets (b) >= 0.75"] == 1.0
    assert values["staircase_control"].value > 1.0
    assert evaluate(SPEC, "staircase", values).verdict == "supported"
    staircase = SPEC.check("staircase")
    assert (staircase.criterion.threshold, staircase.null.criterion.threshold) == (
        shapes.STAIRCASE_A,
        shapes.STAIRCASE_B,
    )


def test_staircase_k1_on_the_constructed_staircase_and_a_dead_k1():
    """On the healthy construction K = 1 (tau 200) misses (a) while the staircase K meets it;
    a K = 1 run that is not alive fails staircase and is named in staircase_k1."""
    values = statistics(falsify.healthy())
    assert values["staircase_k1"].details["meets (a) < 0.25"] == 0.0
    assert values["staircase"].value < 0.25
    dead = statistics(falsify.result_of(_with(falsify.healthy_runs(), 1.0, "main", 1)))
    assert dead["staircase_k1"].dead and set(dead["staircase_k1"].dead) <= set(
        dead["staircase"].dead
    )
    assert evaluate(SPEC, "staircase", dead, scale="fast").verdict == DEAD


def test_a_divergence_at_the_main_lr_fails_large_lr_unstable():
    """large_lr_unstable's null: the same finite K at the main lr must not diverge; a run
    there that diverges is not alive and fails the statistic (and alive)."""
    values = statistics(falsify.result_of(_with(falsify.healthy_runs(), 100.0, "main", 0)))
    assert evaluate(SPEC, "large_lr_unstable", values).verdict == DEAD
    assert values["alive"].value < 1.0
    assert evaluate(SPEC, "large_lr_unstable", statistics(falsify.healthy())).verdict == (
        "supported"
    )


def _with(runs: dict, period: float, which: str, seed: int) -> dict:
    """runs with one run (seed, own features, K, which step) diverged at step 400."""
    ident = (seed, "own", period, which)
    runs[ident] = falsify._diverged(runs[ident], 400)
    return runs


def test_the_full_config_is_the_papers_step_in_mean_loss_units():
    """Sec. 3 / App. A eq. 5 has no 1/n: eta 1e-5 per example on a summed loss is lr 0.6 on
    MNIST's 60,000 images with the mean loss the code uses (and 6 at eta 1e-4)."""
    cfg = CASES.config("full", "mnist")
    assert cfg.eta == 1e-5 and cfg.unstable_eta == 1e-4
    assert cfg.lr(60_000) == pytest.approx(0.6)
    assert cfg.lr(60_000, cfg.unstable_eta) == pytest.approx(6.0)
    assert CASES.config("full", "cifar10").lr(50_000) == pytest.approx(0.5)
    assert CASES.config("fast", "mnist").lr(128) == pytest.approx(0.01)


@pytest.mark.parametrize(
    ("field", "value"),
    [("eta", 0.0), ("periods", (10, 100, math.inf)), ("periods", (1, 0)),
     ("control_periods", (7,)), ("seeds", ()), ("n_train", -3), ("dataset", "imagenet"),
     ("side", 12), ("staircase_period", math.inf), ("maps", "jax"), ("kernel_from", 0)],
)  # fmt: skip
def test_config_validation_names_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        CASES.config("fast", "mnist").replace(**{field: value})


def test_fast_configs_follow_claims_md():
    for dataset in CASES.datasets("fast"):
        cfg = CASES.config("fast", dataset)
        assert cfg.n_train >= 128 and cfg.n_test >= 2000 and len(cfg.seeds) >= 2
        assert cfg.steps >= 1500 and cfg.staircase_period >= 300
        dense = cfg.dense_checkpoints()
        assert np.diff(dense[dense <= cfg.steps // 3]).max() <= 25
    assert "fashion_mnist" in CASES.datasets("full")


def test_n_train_beyond_the_data_set_names_both(tmp_path):
    from tiny_data import write_tiny_mnist

    write_tiny_mnist(tmp_path, 60, 40)
    cfg = CASES.config("full", "mnist").replace(n_train=100)
    with pytest.raises(ValueError, match="n_train 100 exceeds the 60 training images"):
        load_data(cfg, tmp_path)
    data = load_data(cfg.replace(n_train=20, n_test=30, side=16, standardise=True), tmp_path)
    assert data.x_train.shape == (20, 1, 16, 16) and len(data.x_test) == 30
    assert torch.bincount(data.y_train, minlength=10).tolist() == [2] * 10
    assert abs(float(data.x_train.mean())) < 1e-5
