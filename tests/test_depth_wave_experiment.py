"""depth_wave pieces: the persistent d(k), t_neg, smoothing, exact rank correlations and their
shuffle p, train-mode preactivations, the one-lr member optimiser and the grouped training
loop (against separately built models, the divergence rule per member), configs, data."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from tiny_data import write_idx_split

from sgdclaims.claims.depth_wave.config import CASES
from sgdclaims.claims.depth_wave.experiment import evaluations, grouped_model, load_task
from sgdclaims.data.dataset import Dataset, DatasetInfo
from sgdclaims.data.synthetic_variants import translated
from sgdclaims.data.tasks import stratified_indices
from sgdclaims.depth import (
    MemberSchedule,
    MemberSGD,
    augment_batch,
    divergence_step,
    first_negative_step,
    rank_correlations,
    shuffle_p,
    smooth,
    train_members,
    train_mode_preactivations,
)
from sgdclaims.models.basenet import BaseNet, narrow_layers, partly_linear_mask
from sgdclaims.ranking import spearman
from sgdclaims.spec import Criterion

STEPS = np.arange(0, 1000, 50)
MAIN = np.clip(0.3 + 0.6 * STEPS / 300, 0, 0.9)


def test_divergence_is_the_start_of_a_persistent_drop():
    drop = np.where(STEPS >= 500, 0.8, 1.0) * MAIN
    assert divergence_step(STEPS, MAIN, drop, chance=0.1) in (450.0, 500.0)
    dip = np.where((STEPS >= 200) & (STEPS < 500), 0.8, 1.0) * MAIN
    assert divergence_step(STEPS, MAIN, dip, chance=0.1) == np.inf  # it recovers
    assert divergence_step(STEPS, MAIN, 0.99 * MAIN, chance=0.1) == np.inf


def test_divergence_skips_the_first_two_evaluations_and_low_main_accuracy():
    low = 0.5 * MAIN
    assert divergence_step(STEPS, MAIN, low, chance=0.1) == STEPS[2]
    assert divergence_step(STEPS, MAIN, low, chance=0.28) == 150.0  # smoothed main >= 0.56
    flat = np.full(len(STEPS), 0.3)
    assert divergence_step(STEPS, flat, 0.5 * flat, chance=0.25) == np.inf


def test_divergence_keeps_nan_and_runs_over_leading_axes():
    nan = MAIN.copy()
    nan[3] = np.nan
    assert np.isnan(divergence_step(STEPS, MAIN, nan, chance=0.1))
    rows = np.stack([np.where(STEPS >= s, 0.8, 1.0) * MAIN for s in (200, 500, 2000)])
    d = divergence_step(STEPS, MAIN, rows, chance=0.1)
    assert d.shape == (3,) and d[2] == np.inf
    assert [divergence_step(STEPS, MAIN, r, chance=0.1) for r in rows[:2]] == list(d[:2])


@given(st.integers(1, 15))
def test_savgol_keeps_quadratics(n):
    t = np.arange(n + 5, dtype=float)
    curve = 0.5 * t**2 - 2 * t + 1
    assert np.allclose(smooth(curve), curve)


def test_smoothing_needs_five_points():
    with pytest.raises(ValueError, match="at least 5"):
        smooth(np.ones(4))


def test_t_neg_per_layer():
    steps = np.arange(10) * 10
    pre = np.zeros((4, 10))
    for layer, first in enumerate([None, 70, 40, 10]):
        if first is not None:
            pre[layer, steps >= first] = -0.2
    t_neg = first_negative_step(steps, pre)
    assert t_neg[0] == np.inf and list(t_neg[1:]) == [70, 40, 10]


@given(st.lists(st.integers(0, 6), min_size=3, max_size=8))
def test_rank_correlation_is_spearman_with_inf_last(values):
    y = np.where(np.array(values) == 6, np.inf, np.array(values, dtype=float))
    x = np.arange(len(y))
    expected = spearman(x, y)
    got = float(rank_correlations(x, y))
    assert (np.isnan(got) and np.isnan(expected)) or got == pytest.approx(expected, abs=1e-12)


def test_rank_correlation_of_minus_0_8_compares_exactly():
    rho = float(rank_correlations(np.arange(5), np.array([4, 5, 2, 3, 1])))
    assert rho == -0.8 and Criterion("<=", -0.8).holds(rho) and not Criterion(">", -0.8).holds(rho)


def test_shuffle_p_enumerates_one_group_and_draws_for_several():
    rho, p = shuffle_p([np.arange(5)], [np.arange(5.0)[::-1]])
    assert rho == -1.0 and p == pytest.approx(2 / 121)  # the identity order counted once more
    rho, p = shuffle_p([np.arange(8)] * 3, [np.arange(8.0)[::-1]] * 3)
    assert rho == -1.0 and p == pytest.approx(1 / 10_000)
    rho, p = shuffle_p([np.arange(8)] * 3, [np.arange(8.0)] * 3)
    assert rho == 1.0 and p == 1.0
    assert np.isnan(shuffle_p([np.arange(1)], [np.ones(1)])[1])


def test_train_mode_preactivations_are_the_mean_bn_shift_and_leave_running_stats():
    net = BaseNet(narrow_layers(4), (1, 14, 14), 4, members=2)
    with torch.no_grad():
        for b in net.blocks:
            b[1].bias.normal_()
            b[1].weight.uniform_(0.5, 2.0)
    before = [t.clone() for t in net.buffers()]
    net.eval()
    means = train_mode_preactivations(net, torch.randn(500, 1, 14, 14) * 3 + 1)
    shifts = torch.stack([b[1].bias.view(2, -1).mean(1) for b in net.blocks], dim=1)
    assert means.shape == (2, 10) and torch.allclose(means, shifts, atol=1e-5)
    assert all(torch.equal(a, b) for a, b in zip(before, net.buffers()))
    assert not net.training


def test_member_sgd_is_torch_sgd_per_member_with_one_lr_and_freezes():
    torch.manual_seed(0)
    w = torch.nn.Parameter(torch.randn(3, 2))
    ref = torch.nn.Parameter(w.detach()[0].clone())
    opt = MemberSGD([w], 3, lr=0.1, momentum=0.9, patience=1, factor=0.1)
    ref_opt = torch.optim.SGD([ref], lr=0.1, momentum=0.9)
    opt.freeze(2)
    frozen = w.detach()[2].clone()
    for _ in range(3):
        (w**2).sum().backward()
        (ref**2).sum().backward()
        opt.step()
        ref_opt.step()
        ref_opt.zero_grad()
    assert torch.allclose(w[0], ref) and torch.equal(w[2], frozen)
    for loss in (1.0, 0.5, 0.6, 0.6):
        opt.observe(loss)
    assert opt.lr == pytest.approx(0.01)


def _task(n: int = 48, side: int = 8, classes: int = 3, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, side, side, generator=gen)
    return x, torch.arange(n) % classes


def _plan(patience: int | None = None, **changes) -> MemberSchedule:
    marks = np.array([0, 2, 4, 5, 6])
    plan = MemberSchedule(6, 8, 0.1, 0.9, patience, 0.1, True, marks, marks[:3], 6)
    return MemberSchedule(**{**plan.__dict__, **changes})


def _group(mask: torch.Tensor, layers, seeds) -> BaseNet:
    group = BaseNet(layers, (1, 8, 8), 3, members=len(mask))
    group.init_members(seeds)
    group.set_relu(mask)
    return group


@pytest.mark.parametrize("channels_last", [False, True])
def test_grouped_members_train_like_separately_built_models(channels_last):
    """k = 0, 2 and all as members of one model train exactly as three separately built
    one-member models from the same seed and batches."""
    layers = narrow_layers(2, (1, 1))
    mask = partly_linear_mask(len(layers), [0, 2, None])
    data = _task(), _task(12, seed=1), _task(12, seed=2)
    plan = _plan(channels_last=channels_last)
    out = train_members(_group(mask, layers, [5, 5, 5]), *data, plan, data_seed=3)
    assert out["acc"].shape == (3, 5) and out["preact"].shape == (3, len(layers), 5)
    assert np.isnan(out["val_loss"][:, 3:]).all() and np.isfinite(out["val_loss"][:, :3]).all()
    for e in range(3):
        alone = train_members(_group(mask[e : e + 1], layers, [5]), *data, plan, data_seed=3)
        for key in ("acc", "val_loss", "preds", "n_predicted", "preact"):
            assert np.allclose(out[key][e], alone[key][0], atol=1e-4, equal_nan=True), key


def test_one_lr_schedule_decided_by_the_lead_member():
    layers = narrow_layers(2, (1, 1))
    mask = partly_linear_mask(len(layers), [0, None])
    data = _task(), _task(12, seed=1), _task(12, seed=2)
    marks = np.arange(9)
    plan = _plan(patience=0, steps=8, checkpoints=marks, plateau_checkpoints=marks)
    lrs = []
    for lead in (0, 1):
        lead_plan = MemberSchedule(**{**plan.__dict__, "lead": lead})
        led = train_members(_group(mask, layers, [5, 5]), *data, lead_plan, data_seed=3)
        alone = train_members(_group(mask[lead : lead + 1], layers, [5]), *data, plan, 3)
        assert np.array_equal(led["lr"], alone["lr"]) and led["lr"].shape == (9,)
        lrs.append(led["lr"])
    assert not np.array_equal(*lrs) and min(lrs[0].min(), lrs[1].min()) < 0.1


def test_a_member_whose_loss_turns_nan_is_frozen_and_named_alone():
    layers = narrow_layers(2, (1, 1))
    mask = partly_linear_mask(len(layers), [0, 0])
    group = _group(mask, layers, [5, 5])
    with torch.no_grad():
        group.head_bias[1] = float("nan")
    data = _task(), _task(12, seed=1), _task(12, seed=2)
    out = train_members(group, *data, _plan(), data_seed=3)
    alone = train_members(_group(mask[:1], layers, [5]), *data, _plan(), data_seed=3)
    assert out["diverged"] == ["", "loss not finite"] and list(out["diverged_at"]) == [-1, 1]
    assert np.allclose(out["acc"][0], alone["acc"][0], atol=1e-6)
    assert np.isnan(out["train_loss"][1, 1:]).all() and (out["n_predicted"][1, 1:] == 1).all()


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


def test_translation_pastes_every_image_whole_somewhere_in_the_canvas():
    x = torch.rand(300, 1, 4, 4) + 0.1
    info = DatasetInfo("t", "T", "tiny", False, False, 300, 300, (1, 4, 4), ("a", "b"))
    ds = Dataset(x, torch.arange(300) % 2, x.clone(), torch.arange(300) % 2, info)
    out = translated(ds)
    assert out.x_train.shape == (300, 1, 6, 6) and out.info.shape == (1, 6, 6)
    corners = set()
    for image, orig in zip(out.x_train, x):
        rows, cols = torch.nonzero(image[0], as_tuple=True)
        top, left = int(rows.min()), int(cols.min())
        assert torch.equal(image[0, top : top + 4, left : left + 4], orig[0])
        corners.add((top, left))
    assert len(corners) == 9  # every offset of a 4 px image in a 6 px canvas
    assert out.info.synthetic and "synthetic" in out.info.display
    assert torch.equal(out.y_train, ds.y_train)


def test_fast_config_is_the_claims_fast_scale():
    cfg = CASES.config("fast", "fashion_mnist_translated")
    assert cfg.ks == (0, 2, 4, 6, 8, None) and cfg.last_ks == (2, 4, 6, 8)
    assert len(cfg.seeds) >= 3 and len(cfg.layer_specs()) == 10
    marks, plateau = evaluations(cfg)
    assert ((marks > 0) & (marks <= cfg.steps / 10)).sum() >= 10
    assert (marks >= 0.95 * cfg.steps).sum() >= 3 and set(plateau) <= set(marks)
    assert CASES.datasets("full") == ["cifar10", "imagenet", "fashion_mnist"]


def test_grouped_model_members_first_last_and_twins():
    cfg = CASES.config("fast", "fashion_mnist_translated")
    assert cfg.labels()[:6] == ("0", "2", "4", "6", "8", "all")
    assert cfg.labels()[6:] == ("last2", "last4", "last6", "last8", "twin_a", "twin_b")
    info = DatasetInfo("t", "T", "tiny", False, False, 4, 4, (1, 14, 14), tuple("abcd"))
    x = torch.zeros(4, 1, 14, 14)
    model = grouped_model(cfg, Dataset(x, torch.arange(4), x, torch.arange(4), info), seed=3)
    mask = model.relu_mask()
    assert mask[1].tolist() == [0, 0] + [1] * 8 and mask[7].tolist() == [1] * 6 + [0] * 4
    assert mask[10:].min() == 1 and mask[5].max() == 0
    w = model.blocks[0][0].weight.view(12, -1)
    assert all(torch.equal(w[0], w[i]) for i in range(10))
    assert not torch.equal(w[0], w[10]) and not torch.equal(w[10], w[11])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"ks": (0, 2, 11)}, r"ks \[11\] outside 0..10"),
        ({"last_ks": (2, 10)}, r"ks \[10\] outside 0..10"),
        ({"last_ks": (2,)}, "last_ks must hold >= 2"),
        ({"ks": (2, 4, None)}, "ks must be distinct, start with 0"),
        ({"eval_every": 300}, "eval_every"),
        ({"momentum": 1.0}, "momentum"),
        ({"arch": "vgg"}, "arch"),
        ({"seeds": (0,)}, "seeds"),
        ({"early_every": 0}, "early_every"),
        (
            {"image_side": 3},
            r"image_side 3 is too small for the narrow stem 'small' \(needs >= 4\)",
        ),
    ],
)
def test_bad_config_is_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        CASES.config("fast", "fashion_mnist_translated").replace(**changes)


def test_imagenet_side_the_stem_cannot_take_is_refused():
    with pytest.raises(ValueError, match=r"image_side 16 is too small .* \(needs >= 32\)"):
        CASES.config("full", "imagenet").replace(image_side=16)


def test_a_data_set_with_one_class_is_refused(tmp_path):
    write_idx_split(tmp_path / "FashionMNIST" / "raw", 40, 20, classes=1)
    cfg = CASES.config("full", "fashion_mnist").smoke()
    with pytest.raises(ValueError, match=r"has 1 class\(es\) in its training split"):
        load_task(cfg, tmp_path)
