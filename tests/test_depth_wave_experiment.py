"""depth_wave pieces: d(k), t_neg, smoothing, preactivation hooks, the member optimiser and
training loop (grouped members against separately built models), controls, configs, data."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from tiny_data import write_idx_split

from sgdclaims.claims.depth_wave.config import CASES
from sgdclaims.claims.depth_wave.experiment import load_task
from sgdclaims.data import load
from sgdclaims.data.dataset import Dataset, DatasetInfo
from sgdclaims.data.synthetic_variants import polarity_flips
from sgdclaims.data.tasks import stratified_indices
from sgdclaims.depth import (
    MemberSchedule,
    MemberSGD,
    augment_batch,
    deep_first_correlation,
    divergence_step,
    evaluate_members,
    first_negative_step,
    preactivation_means,
    shuffled_pass_fraction,
    smooth,
    train_members,
)
from sgdclaims.models.basenet import BaseNet, narrow_layers, partly_linear_mask

STEPS = np.arange(0, 1000, 50)


def _ramp(level: float, start: int) -> tuple[np.ndarray, np.ndarray]:
    """Accuracy 0.3 -> 0.9 by step 300, and a variant that falls to `level` x main from
    `start` on (a clean constructed curve)."""
    main = np.clip(0.3 + 0.6 * STEPS / 300, 0, 0.9)
    var = main.copy()
    var[STEPS >= start] = level * main[STEPS >= start]
    return main, var


def test_divergence_step_finds_the_drop():
    main, var = _ramp(0.8, 500)
    assert divergence_step(STEPS, main, var, chance=0.25) in (450.0, 500.0)


def test_divergence_step_is_inf_when_tracking_ignores_chance_level_and_keeps_nan():
    main, var = _ramp(0.99, 500)
    assert divergence_step(STEPS, main, var, chance=0.25) == np.inf
    low = np.full(len(STEPS), 0.3)
    assert divergence_step(STEPS, low, 0.5 * low, chance=0.25) == np.inf
    var[3] = np.nan
    assert np.isnan(divergence_step(STEPS, main, var, chance=0.25))


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


def test_shuffle_control_counts_every_permutation_or_draws():
    rho = lambda _, v: float(np.corrcoef(np.arange(len(v)), v)[0, 1])  # noqa: E731
    share, n = shuffled_pass_fraction([np.arange(5.0)[::-1]], rho, -0.99)
    assert n == math.factorial(5) and share == pytest.approx(1 / 120)
    share, n = shuffled_pass_fraction([np.arange(8.0), np.arange(8.0)], rho, 2.0)
    assert n == 1000 and share == 1.0


def test_preactivation_means_per_member_and_layer():
    net = BaseNet(narrow_layers(4), (1, 14, 14), 4, members=2)
    x = torch.randn(16, 1, 14, 14)
    means = preactivation_means(net, x)
    assert means.shape == (2, 10)
    with torch.no_grad():
        net.blocks[3][1].bias.view(2, -1)[1].fill_(-1.0)
    shifted = preactivation_means(net, x)
    assert shifted[1, 3] == pytest.approx(-1.0, abs=0.3) and abs(shifted[0, 3]) < 0.3
    assert net.training
    logits, first = evaluate_members(net, x, n_preact=6, batch=4)
    assert logits.shape == (16, 2, 4)
    assert np.allclose(first.numpy(), preactivation_means(net, x[:6]), atol=1e-5)


def test_member_sgd_is_torch_sgd_per_member_and_decays_on_a_plateau():
    torch.manual_seed(0)
    w = torch.nn.Parameter(torch.randn(2, 3))
    ref = torch.nn.Parameter(w.detach()[0].clone())
    opt = MemberSGD([w], 2, lr=0.1, momentum=0.9, patience=1, factor=0.1)
    ref_opt = torch.optim.SGD([ref], lr=0.1, momentum=0.9)
    for _ in range(3):
        (w[0] ** 2).sum().add((w[1] ** 3).sum()).backward()
        (ref**2).sum().backward()
        opt.step()
        ref_opt.step()
        ref_opt.zero_grad()
    assert torch.allclose(w[0], ref)
    for loss in ([1.0, 1.0], [0.5, 1.0], [0.6, 1.0]):
        opt.observe(torch.tensor(loss))
    assert opt.lr.tolist() == pytest.approx([0.1, 0.01])


def _task(n: int = 48, side: int = 8, classes: int = 3, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, side, side, generator=gen)
    return x, torch.arange(n) % classes


def test_grouped_members_train_like_separately_built_models():
    """The grouped-variant trick: k = 0, 2 and all as members of one model train exactly as
    three separately built one-member models from the same seed and batches."""
    layers, ks = narrow_layers(2, (1, 1)), [0, 2, None]
    mask = partly_linear_mask(len(layers), ks)
    train, val, test = _task(), _task(12, seed=1), _task(12, seed=2)
    marks = np.array([0, 2, 4, 5, 6])
    plan = MemberSchedule(6, 8, 0.1, 0.9, 1, 0.1, True, marks, 6)
    group = BaseNet(layers, (1, 8, 8), 3, members=3)
    group.init_members([5, 5, 5])
    group.set_relu(mask)
    out = train_members(group, train, val, test, plan, data_seed=3)
    assert out["acc"].shape == (3, 5) and out["preact"].shape == (3, len(layers), 5)
    for e in range(3):
        single = BaseNet(layers, (1, 8, 8), 3)
        single.init_members([5])
        single.set_relu(mask[e : e + 1])
        alone = train_members(single, train, val, test, plan, data_seed=3)
        for key in ("acc", "val_loss", "lr", "preds"):
            assert np.allclose(out[key][e], alone[key][0], atol=1e-4), key
        assert np.allclose(out["preact"][e], alone["preact"][0], atol=1e-4)


def test_augmented_batch_is_a_shifted_maybe_flipped_copy():
    x = torch.arange(2 * 8 * 8, dtype=torch.float32).view(2, 1, 8, 8) + 1
    out = augment_batch(x, torch.Generator().manual_seed(0))
    assert out.shape == x.shape
    for image, orig in zip(out, x):
        kept = image[image > 0]
        assert set(kept.tolist()) <= set(orig.flatten().tolist())
        assert len(kept) >= 7 * 7


def test_stratified_indices_keep_class_shares():
    y = torch.tensor([0] * 60 + [1] * 30 + [2] * 10)
    idx = stratified_indices(y, 20, seed=0)
    assert torch.bincount(y[idx]).tolist() == [12, 6, 2] and torch.equal(idx.sort().values, idx)
    assert torch.equal(stratified_indices(y, 20, seed=0), idx)
    assert not torch.equal(stratified_indices(y, 20, seed=1), idx)
    assert torch.bincount(y[stratified_indices(y, 7, seed=0)]).tolist() == [4, 2, 1]
    with pytest.raises(ValueError, match="n must be positive"):
        stratified_indices(y, 0)


def test_polarity_flips_invert_about_half_and_keep_labels():
    x = torch.rand(400, 1, 4, 4)
    info = DatasetInfo("t", "T", "tiny", False, False, 400, 400, (1, 4, 4), ("a", "b"))
    ds = Dataset(x, torch.arange(400) % 2, x.clone(), torch.arange(400) % 2, info)
    out = polarity_flips(ds)
    flipped = torch.isclose(out.x_train, 1 - x).flatten(1).all(1)
    kept = torch.isclose(out.x_train, x).flatten(1).all(1)
    assert bool((flipped | kept).all()) and 150 < int(flipped.sum()) < 250
    assert out.info.synthetic and "synthetic" in out.info.display
    assert torch.equal(out.y_train, ds.y_train)
    with pytest.raises(ValueError, match="unknown data set 'nope'"):
        load("nope")


def test_fast_config_is_the_claims_fast_scale():
    cfg = CASES.config("fast", "fashion_mnist_polarity")
    assert cfg.ks == (0, 2, 4, 6, 8, None) and len(cfg.seeds) >= 3
    assert len(cfg.layer_specs()) == 10
    assert CASES.datasets("full") == ["cifar10", "imagenet", "fashion_mnist"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"ks": (0, 2, 11)}, r"ks \[11\] outside 0..10"),
        ({"ks": (2, 4, None)}, "ks must be distinct, start with 0"),
        ({"ks": (2, 0, None)}, "ks must be distinct, start with 0"),
        ({"eval_every": 300}, "eval_every"),
        ({"momentum": 1.0}, "momentum"),
        ({"arch": "vgg"}, "arch"),
        ({"seeds": (0,)}, "seeds"),
        (
            {"image_side": 3},
            r"image_side 3 is too small for the narrow stem 'small' \(needs >= 4\)",
        ),
    ],
)
def test_bad_config_is_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        CASES.config("fast", "fashion_mnist_polarity").replace(**changes)


def test_imagenet_side_the_stem_cannot_take_is_refused():
    with pytest.raises(ValueError, match=r"image_side 16 is too small .* \(needs >= 32\)"):
        CASES.config("full", "imagenet").replace(image_side=16)


def test_a_data_set_with_one_class_is_refused(tmp_path):
    write_idx_split(tmp_path / "FashionMNIST" / "raw", 40, 20, classes=1)
    cfg = CASES.config("full", "fashion_mnist").smoke()
    with pytest.raises(ValueError, match=r"has 1 class\(es\) in its training split"):
        load_task(cfg, tmp_path)
