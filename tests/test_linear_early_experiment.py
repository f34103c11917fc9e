"""Unit tests of the linear_early experiment: configs and bad input, the control classifier,
the claim statistics, the plug-in bound mu <= min(I(F;Y), I(L;Y)), and smoke runs of the
full configs on tiny data files that the tests write in the real on-disk formats."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from tiny_data import write_tiny_cifar, write_tiny_mnist

from sgdclaims.experiments import linear_early as le
from sgdclaims.info import mutual_information
from sgdclaims.runner import UnitResult, combine

TOL = 1e-12


# --- configs and bad input -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("scale", "dataset"),
    [("fast", d) for d in le.FAST] + [("full", d) for d in le.FULL],
)
def test_configs_are_valid_and_fast_changes_are_explained(scale, dataset):
    cfg = le.config(scale, dataset)
    assert cfg.dataset == dataset
    assert len(cfg.seeds) >= (10 if scale == "full" else 3)
    for name in cfg.paper_differences():
        assert cfg.WHY.get(name), f"fast change of {name} has no reason in WHY"
    if scale == "full":
        assert cfg.paper_differences() == {}
        assert (cfg.lr, cfg.batch_size, cfg.require_full) == (1e-3, 64, True)


def test_full_configs_use_the_papers_epochs():
    assert le.config("full", "mnist").epochs == 50
    assert le.config("full", "cifar10").epochs == 100


def test_fast_lr_change_is_written_in_why():
    cfg = le.config("fast", "mnist")
    assert cfg.lr != le.LinearEarlyConfig().lr
    assert "warm-up" in cfg.WHY["lr"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"dataset": "svhn"}, "dataset"),
        ({"groups": ((0, 1), ())}, "groups"),
        ({"groups": ((), (5,))}, "groups"),
        ({"groups": ((0, 1), (1, 2))}, "groups"),
        ({"groups": ((0,), (10,))}, "groups"),
        ({"groups": ((0, 1, 2),)}, "groups"),
        ({"n_test": 99}, "n_test"),
        ({"n_train": 0}, "n_train"),
        ({"model": "vit"}, "model"),
        ({"lr": 0.0}, "lr"),
        ({"lr": float("nan")}, "lr"),
        ({"epochs": -1.0}, "epochs"),
        ({"early_every": 0}, "early_every"),
        ({"n_log": -1}, "n_log"),
        ({"l_weight_decay": -1e-3}, "l_weight_decay"),
        ({"seeds": ()}, "seeds"),
        ({"seeds": (1, 1)}, "seeds"),
        ({"mlp_hidden": (0,)}, "mlp_hidden"),
    ],
)
def test_bad_config_names_the_field(changes, field):
    with pytest.raises(ValueError, match=field):
        le.config("fast", "mnist").replace(**changes)


def test_cnn_on_the_disc_is_refused():
    with pytest.raises(ValueError, match="model"):
        le.config("fast", "sinusoid_disc").replace(model="cnn")


def test_unknown_scale_or_dataset():
    with pytest.raises(ValueError, match="scale"):
        le.config("medium", "mnist")
    with pytest.raises(ValueError, match="dataset"):
        le.config("full", "fashion_mnist")


def test_too_few_test_examples_fail_before_training(tmp_path):
    write_tiny_mnist(tmp_path, n_train=200, n_test=60)
    cfg = le.config("full", "mnist").smoke()
    with pytest.raises(ValueError, match="fewer than the 100"):
        le.run(cfg, data_root=tmp_path, cache_root=tmp_path / "cache", progress=False)
    assert not list((tmp_path / "cache").rglob("unit-*.pkl"))


def test_a_side_missing_from_the_data_fails_before_training(tmp_path):
    write_tiny_mnist(tmp_path, n_train=300, n_test=300, classes=5)
    cfg = le.config("full", "mnist").smoke()
    with pytest.raises(ValueError, match="empty"):
        le.load_task(cfg, tmp_path)


def test_missing_full_data_raises_dataset_missing(tmp_path):
    from sgdclaims.data import DatasetMissing

    with pytest.raises(DatasetMissing):
        le.run(le.config("full", "cifar10"), data_root=tmp_path, cache_root=tmp_path)


def test_checkpoints_are_dense_early_then_linear():
    cfg = le.config("fast", "mnist")
    steps = cfg.steps(8000)
    marks = cfg.checkpoints(steps)
    assert steps == 375
    assert marks[0] == 0 and marks[-1] == steps
    assert np.all(np.diff(marks) > 0)
    early = marks[marks <= cfg.early_until]
    assert np.max(np.diff(early)) <= cfg.early_every
    full = le.config("full", "mnist")
    full_marks = full.checkpoints(full.steps(60000))
    assert full_marks[-1] == 50 * (60000 // 64)
    assert np.sum(full_marks <= full.early_until) > full.early_until // full.early_every


# --- L and the control ----------------------------------------------------------------------


def test_fit_linear_is_deterministic_and_converges():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(400, 5, generator=gen)
    y = (x @ torch.tensor([1.0, -2.0, 0.5, 0.0, 0.0]) > 0).long()
    from sgdclaims.data import Dataset, DatasetInfo

    info = DatasetInfo("toy", "toy", "test", False, True, 400, 400, (5,), ("a", "b"))
    data = Dataset(x, y, x, y, info)
    a, fit_a = le.fit_linear(data, weight_decay=1e-4, max_iter=200)
    b, _ = le.fit_linear(data, weight_decay=1e-4, max_iter=200)
    assert torch.equal(a.fc.weight, b.fc.weight)
    assert fit_a["l_train_acc"] > 0.97


@given(
    n=st.integers(20, 400),
    k=st.integers(2, 4),
    acc=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**31 - 1),
)
def test_control_has_the_per_class_accuracy_of_l(n, k, acc, seed):
    rng = np.random.default_rng(seed)
    y = torch.from_numpy(rng.integers(0, k, n))
    wrong = torch.from_numpy(rng.random(n) > acc)
    l_pred = torch.where(wrong, (y + 1) % k, y)
    control = le.control_predictions(y, l_pred, seed, k)
    assert torch.equal(control, le.control_predictions(y, l_pred, seed, k))
    assert int(control.min()) >= 0 and int(control.max()) < k
    for c in range(k):
        members = y == c
        assert int((control[members] == c).sum()) == int((l_pred[members] == c).sum())
    if k == 2:
        assert math.isclose(
            float(mutual_information(control, y)), float(mutual_information(l_pred, y)), abs_tol=TOL
        )


def test_control_errors_are_independent_of_l():
    rng = np.random.default_rng(1)
    n = 20000
    y = torch.from_numpy(rng.integers(0, 2, n))
    l_pred = torch.where(torch.from_numpy(rng.random(n) < 0.15), 1 - y, y)
    control = le.control_predictions(y, l_pred, seed=3)
    l_ok, c_ok = (l_pred == y).double(), (control == y).double()
    corr = float(torch.corrcoef(torch.stack([l_ok, c_ok]))[0, 1])
    assert abs(corr) < 0.03
    assert not torch.equal(control, le.control_predictions(y, l_pred, seed=4))
    assert not torch.equal(control, l_pred)


# --- statistics and the plug-in bound --------------------------------------------------------


@given(
    t=st.integers(1, 5),
    n=st.integers(2, 300),
    k=st.integers(2, 3),
    seed=st.integers(0, 2**31 - 1),
)
def test_mu_is_at_most_both_informations(t, n, k, seed):
    rng = np.random.default_rng(seed)
    y = torch.from_numpy(rng.integers(0, k, n))
    l_pred = torch.from_numpy(rng.integers(0, k, n))
    preds = torch.from_numpy(rng.integers(0, k, (t, n)))
    control = le.control_predictions(y, l_pred, seed, k)
    out = le.curves(preds, y, l_pred, control)
    i_ly = float(mutual_information(l_pred, y))
    assert np.all(out["mu_L"] <= np.minimum(out["I_FY"], i_ly) + TOL)
    assert np.all(out["I_LY_given_F"] >= -TOL) and np.all(out["H_Y_given_F"] >= -TOL)


def _fake_result(i_fy: list[list[float]], mu: list[list[float]], i_ly: float = 0.5):
    """A Result with given per-seed curves (rows: seeds), for the statistic functions."""
    cfg = le.config("fast", "mnist").replace(seeds=tuple(range(len(i_fy))))
    units = {}
    for seed, (a, b) in enumerate(zip(i_fy, mu)):
        frame = pd.DataFrame(
            {"step": np.arange(len(a)) * 10, "I_FY": a, "mu_L": b, "mu_control": np.zeros(len(a))}
        )
        units[seed] = UnitResult(frames={"curves": frame}, scalars={"I_LY": i_ly})
    return combine(cfg, "key", list(units), units, 0.0, 0)


def test_early_explained_averages_seeds_before_the_min():
    # seed 1 leaves the warm-up a checkpoint later than seed 0; the window is 0.09-0.36
    seed_i = [[0, 0.2, 0.4, 0.6], [0, 0, 0.2, 0.6]]
    seed_mu = [[0, 0.1, 0.4, 0.5], [0, 0, 0.2, 0.5]]
    res = _fake_result(seed_i, seed_mu, i_ly=0.45)
    value, per_seed = le.early_explained(res)
    mean_i = np.array([0, 0.1, 0.3, 0.6])
    mean_mu = np.array([0, 0.05, 0.3, 0.5])
    inside = (mean_i >= 0.09) & (mean_i <= 0.36)
    assert value == pytest.approx(np.min(mean_mu[inside] / mean_i[inside]))
    assert per_seed == pytest.approx([0.5, 1.0])
    assert le.window_size(res) == 2


def test_empty_window_is_nan_and_fails():
    res = _fake_result([[0, 0.45, 0.6]], [[0, 0.45, 0.5]])
    value, _ = le.early_explained(res)
    assert math.isnan(value)
    assert le.window_size(res) == 0


def test_final_statistics():
    res = _fake_result([[0, 0.3, 0.7], [0, 0.2, 0.6]], [[0, 0.45, 0.4], [0, 0.2, 0.5]], i_ly=0.5)
    assert le.outgrows_linear(res) == pytest.approx([0.3, 0.1])
    assert le.retained(res) == pytest.approx([0.8, 1.0])
    assert le.retention_drop(res) == pytest.approx([0.05, 0.0])


# --- smoke runs of the full configs ----------------------------------------------------------


@pytest.mark.parametrize("dataset", sorted(le.FULL))
def test_full_config_smoke_runs_on_cpu(tmp_path, dataset):
    if dataset == "mnist":
        write_tiny_mnist(tmp_path, n_train=600, n_test=300)
    else:
        write_tiny_cifar(tmp_path, n_train=500, n_test=300)
    cfg = le.config("full", dataset).smoke()
    assert cfg.require_full
    res = le.run(cfg, data_root=tmp_path, cache_root=tmp_path / "cache", progress=False)
    curves = res.frame("curves")
    steps = cfg.steps(cfg.n_train)
    assert len(curves) == len(cfg.seeds) * len(cfg.checkpoints(steps))
    assert set(curves.unit) == set(cfg.seeds)
    i_ly = le.mutual_information_of_l(res)
    assert np.all(curves.mu_L <= np.minimum(curves.I_FY, i_ly) + TOL)
    assert np.all(curves.mu_control <= np.minimum(curves.I_FY, res.scalars.I_CY.iloc[0]) + TOL)
    assert np.isfinite(le.outgrows_linear(res)).all()
    again = le.run(cfg, data_root=tmp_path, cache_root=tmp_path / "cache", progress=False)
    assert again.reused == len(cfg.seeds)
    pd.testing.assert_frame_equal(again.frame("curves"), curves)
    assert res.provenance["n_test"] == cfg.n_test
    assert dataclasses.asdict(cfg)["seeds"] == (0, 1)


def test_recorded_fast_curves_respect_the_bound(tmp_path):
    cfg = le.config("fast", "sinusoid_disc").replace(epochs=1.0, seeds=(0, 1))
    res = le.run(cfg, cache_root=tmp_path, progress=False)
    curves, i_ly = res.frame("curves"), le.mutual_information_of_l(res)
    assert np.all(curves.mu_L <= np.minimum(curves.I_FY, i_ly) + TOL)
    assert np.all(curves.mu_control <= np.minimum(curves.I_FY, res.scalars.I_CY.iloc[0]) + TOL)
    assert res.scalars.l_acc.iloc[0] > 0.75
