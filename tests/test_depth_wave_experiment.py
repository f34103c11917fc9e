"""depth_wave pieces: d(k), t_neg, smoothing, preactivation hooks, configs and smoke runs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from tiny_data import write_tiny_cifar, write_tiny_imagenet

from sgdclaims.depth import (
    deep_first_correlation,
    divergence_step,
    first_negative_step,
    preactivation_means,
    rank_correlation,
    smooth,
)
from sgdclaims.experiments import depth_wave as dw
from sgdclaims.models.basenet import BaseNet, narrow_layers

STEPS = np.arange(0, 1000, 50)
SLOW = pytest.mark.slow


def _ramp(level: float, start: int) -> np.ndarray:
    """Accuracy 0.3 -> 0.9 by step 300, then a variant that falls to `level` x main after
    `start` (a clean constructed curve)."""
    main = np.clip(0.3 + 0.6 * STEPS / 300, 0, 0.9)
    var = main.copy()
    var[STEPS >= start] = level * main[STEPS >= start]
    return main, var


def test_divergence_step_finds_the_drop():
    main, var = _ramp(0.8, 500)
    assert divergence_step(STEPS, main, var, chance=0.25) in (450.0, 500.0)


def test_divergence_step_is_inf_when_tracking_and_ignores_chance_level():
    main, var = _ramp(0.99, 500)
    assert divergence_step(STEPS, main, var, chance=0.25) == np.inf
    low = np.full(len(STEPS), 0.3)
    assert divergence_step(STEPS, low, 0.5 * low, chance=0.25) == np.inf


@given(st.integers(1, 15))
def test_savgol_keeps_quadratics(n):
    t = np.arange(n + 5, dtype=float)
    curve = 0.5 * t**2 - 2 * t + 1
    assert np.allclose(smooth(curve), curve)


def test_smoothing_needs_five_points():
    with pytest.raises(ValueError, match="at least 5"):
        smooth(np.ones(4))


def test_t_neg_and_deep_first():
    steps = np.arange(10) * 10
    pre = np.zeros((4, 10))
    for layer, first in enumerate([None, 70, 40, 10]):
        if first is not None:
            pre[layer, steps >= first] = -0.2
    t_neg = first_negative_step(steps, pre)
    assert t_neg[0] == np.inf and list(t_neg[1:]) == [70, 40, 10]
    rho, _ = deep_first_correlation(steps, pre)
    assert rho == pytest.approx(-1.0)
    assert np.isnan(deep_first_correlation(steps, pre[:2])[0])


def test_rank_correlation_ranks_inf_last():
    assert rank_correlation([0, 2, 4, 10], [np.inf, np.inf, 300, 50]) == pytest.approx(
        rank_correlation([0, 2, 4, 10], [999, 999, 300, 50])
    )
    assert rank_correlation([0, 2, 4, 10], [np.inf, 900, 300, 50]) == pytest.approx(-1.0)
    assert np.isnan(rank_correlation([0, 1, 2], [np.inf] * 3))


def test_preactivation_means_per_member_and_layer():
    net = BaseNet(narrow_layers(4), (1, 14, 14), 4, members=2)
    means = preactivation_means(net, torch.randn(16, 1, 14, 14))
    assert means.shape == (2, 10)
    with torch.no_grad():
        net.blocks[3][1].bias.view(2, -1)[1].fill_(-1.0)
    shifted = preactivation_means(net, torch.randn(16, 1, 14, 14))
    assert shifted[1, 3] == pytest.approx(-1.0, abs=0.3) and abs(shifted[0, 3]) < 0.3
    assert net.training


def test_fast_config_is_the_claims_fast_scale():
    cfg = dw.config("fast", "fashion_mnist")
    assert cfg.ks == (0, 2, 4, 6, 8, None) and len(cfg.seeds) == 3
    assert len(cfg.layer_specs()) == 10
    assert set(cfg.paper_differences()) <= set(cfg.WHY)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"ks": (0, 2, 11)}, "ks"),
        ({"ks": (2, 4)}, "ks"),
        ({"eval_every": 300}, "eval_every"),
        ({"momentum": 1.0}, "momentum"),
        ({"arch": "vgg"}, "arch"),
    ],
)
def test_bad_config_is_refused(changes, field):
    with pytest.raises(ValueError, match=field):
        dw.config("fast", "fashion_mnist").replace(**changes)


def test_image_size_the_stem_cannot_take_fails_before_training():
    with pytest.raises(ValueError, match="image_side 16 is too small"):
        dw.config("full", "imagenet").replace(image_side=16)
    with pytest.raises(ValueError, match="image_side 2 is too small"):
        dw.config("fast", "fashion_mnist").replace(image_side=2)


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: dw.config("full", "cifar10"), id="basenet18-cifar10"),
        pytest.param(lambda: dw.config("full", "imagenet"), id="basenet18-imagenet"),
        pytest.param(lambda: dw.resnet50_config("cifar10"), id="resnet50-cifar10", marks=SLOW),
        pytest.param(lambda: dw.resnet50_config("imagenet"), id="resnet50-imagenet", marks=SLOW),
    ],
)
def test_full_config_smoke_runs_on_cpu(make, tmp_path):
    cfg = make().smoke()
    if cfg.dataset == "cifar10":
        write_tiny_cifar(tmp_path, 200, 40)
    else:
        write_tiny_imagenet(tmp_path, 12, 6)
    result = dw.run(cfg, data_root=tmp_path, cache_root=tmp_path / "cache", progress=False)
    _, labels, acc = dw.accuracy_curves(result)
    assert acc.shape == (len(cfg.seeds), len(labels), cfg.steps // cfg.eval_every + 1)
    assert np.isfinite(acc).all()
    _, pre = dw.preactivation_curves(result, "0")
    assert pre.shape[1] == (49 if cfg.arch == "resnet50" else 17)
    assert set(dw.divergence_steps(result)) == set(labels)
    again = dw.run(cfg, data_root=tmp_path, cache_root=tmp_path / "cache", progress=False)
    assert again.reused == len(cfg.seeds)
