"""Unit tests of the class_order experiment and the rank statistics: configs and bad input,
learning times on constructed curves, Kendall's W on constructed rankings (and against
Friedman's test), the control, and smoke runs of the full configs on tiny data files that
the tests write in the real on-disk formats."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import stats
from tiny_data import write_tiny_cifar, write_tiny_mnist

from sgdclaims import ranking
from sgdclaims.data import Dataset
from sgdclaims.experiments import class_order as co

# --- configs and bad input -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("scale", "dataset"), [("fast", d) for d in co.FAST] + [("full", d) for d in co.FULL]
)
def test_configs_are_valid_and_fast_changes_are_explained(scale, dataset):
    cfg = co.config(scale, dataset)
    assert cfg.dataset == dataset
    assert len(cfg.seeds) >= (5 if scale == "full" else 3)
    assert cfg.batch_size == 64
    assert set(cfg.models) == {"linear", "cnn", "vit"}
    for name in cfg.paper_differences():
        if name != "dataset":
            assert cfg.WHY.get(name), f"fast change of {name} has no reason in WHY"
    if scale == "full":
        assert (cfg.lr, cfg.linear_lr, cfg.require_full) == (1e-3, 1e-2, True)
        assert cfg.epochs == {"mnist": 50, "cifar10": 100}[dataset]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"dataset": "svhn"}, "dataset"),
        ({"models": ("linear", "resnet")}, "models"),
        ({"models": ("cnn", "vit")}, "models"),
        ({"models": ("linear", "cnn", "cnn")}, "models"),
        ({"models": ()}, "models"),
        ({"vit_patch_size": 5}, "vit_patch_size"),
        ({"vit_heads": 3}, "vit_heads"),
        ({"n_test": 50}, "n_test"),
        ({"n_train": 0}, "n_train"),
        ({"lr": 0.0}, "lr"),
        ({"lr": float("nan")}, "lr"),
        ({"linear_lr": -1.0}, "linear_lr"),
        ({"epochs": 0.0}, "epochs"),
        ({"every": 0}, "every"),
        ({"seeds": ()}, "seeds"),
        ({"seeds": (2, 2)}, "seeds"),
    ],
)
def test_bad_config_names_the_field(changes, field):
    with pytest.raises(ValueError, match=field):
        co.config("full", "mnist").replace(**changes)


def test_patch_size_is_checked_against_each_data_set():
    co.config("full", "cifar10").replace(vit_patch_size=8)
    with pytest.raises(ValueError, match="vit_patch_size 8 does not divide the 28x28"):
        co.config("full", "mnist").replace(vit_patch_size=8)


def test_unknown_model_name_is_refused_by_the_factory():
    with pytest.raises(ValueError, match="model"):
        co.make_model(co.config("full", "mnist"), "mlp", (1, 28, 28), 0)


def test_unknown_scale_or_dataset():
    with pytest.raises(ValueError, match="scale"):
        co.config("medium", "mnist")
    with pytest.raises(ValueError, match="dataset"):
        co.config("full", "fashion_mnist")


def _dataset(shape: tuple[int, ...], n: int = 400, classes: int = 10) -> Dataset:
    from sgdclaims.data import DatasetInfo

    x = torch.rand(n, *shape)
    y = torch.arange(n) % classes
    info = DatasetInfo(
        "made", "made-up test tensors", "test", False, True, n, n, shape,
        tuple(str(c) for c in range(classes)),
    )  # fmt: skip
    return Dataset(x, y, x.clone(), y.clone(), info)


def test_data_with_other_channels_than_the_models_fail_before_training():
    cfg = co.config("full", "mnist")
    co.check_data(cfg, _dataset((1, 28, 28)))
    with pytest.raises(ValueError, match="3 channels; the models for mnist take 1"):
        co.check_data(cfg, _dataset((3, 28, 28)))
    with pytest.raises(ValueError, match="1 channels; the models for cifar10 take 3"):
        co.check_data(co.config("full", "cifar10"), _dataset((1, 32, 32)))
    with pytest.raises(ValueError, match="classes"):
        co.check_data(cfg, _dataset((1, 28, 28), classes=5))
    with pytest.raises(ValueError, match="test examples"):
        co.check_data(cfg, _dataset((1, 28, 28), n=100))


def test_the_three_models_fit_mnist_and_cifar_shapes():
    for dataset in ("mnist", "cifar10"):
        cfg = co.config("full", dataset)
        shape = co.SHAPES[dataset]
        for name in co.MODELS:
            out = co.make_model(cfg, name, shape, 0)(torch.zeros(2, *shape))
            assert out.shape == (2, 10)


# --- learning times --------------------------------------------------------------------------


def test_learning_time_is_the_first_checkpoint_at_half_the_final_value():
    steps = np.array([0, 10, 20, 40, 80])
    curves = np.array(
        [[0.0, 0.0, 0.0], [0.1, 0.0, 0.5], [0.3, 0.2, 0.5], [0.5, 0.2, 0.5], [0.6, 0.8, 0.2]]
    )
    assert ranking.learning_times(curves, steps).tolist() == [20, 80, 10]


def test_learning_time_of_a_class_never_learned_is_inf_and_ranks_last():
    steps = np.arange(4)
    curves = np.array([[0.0, 0.0], [0.5, 0.0], [1.0, 0.0], [1.0, 0.0]])
    tau = ranking.learning_times(curves, steps)
    assert tau.tolist() == [1, np.inf]
    assert ranking.ranks(tau).tolist() == [1.0, 2.0]


def test_sustained_learning_time_ignores_an_early_spike():
    steps = np.array([0, 1, 2, 3, 4])
    recall = np.array([[1.0], [0.0], [0.2], [0.6], [0.8]])
    assert ranking.learning_times(recall, steps).tolist() == [0]
    assert ranking.learning_times(recall, steps, sustained=True).tolist() == [3]


def test_learning_times_batch_over_seeds():
    steps = np.arange(5)
    one = np.linspace(0, 1, 5)[:, None] * np.array([1.0, 2.0])
    two = np.concatenate([np.zeros((3, 2)), np.ones((2, 2))])
    tau = ranking.learning_times(np.stack([one, two]), steps)
    assert tau.tolist() == [[2, 2], [3, 3]]


@pytest.mark.parametrize(
    ("curves", "steps", "match"),
    [
        (np.zeros(5), np.arange(5), "curves"),
        (np.zeros((5, 2)), np.arange(4), "steps"),
        (np.zeros((3, 2)), np.array([0, 2, 1]), "increasing"),
        (np.full((3, 2), np.nan), np.arange(3), "finite"),
    ],
)
def test_learning_times_reject_bad_input(curves, steps, match):
    with pytest.raises(ValueError, match=match):
        ranking.learning_times(curves, steps)


# --- Kendall's W -----------------------------------------------------------------------------


def test_identical_rankings_give_w_one_and_a_small_p():
    values = np.tile(np.arange(10.0), (3, 1))
    w, p = ranking.kendalls_w_test(values, n_permutations=999)
    assert w == pytest.approx(1.0)
    assert p == pytest.approx(1 / 1000)


def test_two_opposite_rankings_give_w_zero():
    values = np.stack([np.arange(6.0), np.arange(6.0)[::-1]])
    assert ranking.kendalls_w(ranking.ranks(values)) == pytest.approx(0.0)


def test_permuted_identical_rankings_lose_their_concordance():
    values = np.tile(np.arange(10.0), (5, 1))
    w, p = ranking.kendalls_w_test(ranking.permuted_classes(values, seed=0), n_permutations=999)
    assert w < 0.5
    assert p > 0.05


@given(
    hnp.arrays(
        np.float64,
        st.tuples(st.integers(2, 6), st.integers(2, 8)),
        elements=st.integers(0, 4).map(float),
    )
)
def test_w_is_between_zero_and_one_and_matches_friedman(values):
    r = ranking.ranks(values)
    w = ranking.kendalls_w(r)
    if np.isnan(w):
        assert np.all(r == r[:, :1]), "W is undefined only when every rater ties all items"
        return
    assert -1e-12 <= w <= 1 + 1e-12
    m, n = values.shape
    if n >= 3 and not np.all(r == r[:, :1]):
        chi2 = stats.friedmanchisquare(*values.T).statistic
        assert w == pytest.approx(chi2 / (m * (n - 1)), rel=1e-9, abs=1e-12)


def test_w_p_value_is_deterministic_and_valid():
    rng = np.random.default_rng(3)
    values = rng.random((4, 10))
    first = ranking.kendalls_w_test(values, n_permutations=500, seed=1)
    assert first == ranking.kendalls_w_test(values, n_permutations=500, seed=1)
    assert 1 / 501 <= first[1] <= 1.0


def test_rank_statistics_reject_bad_input():
    with pytest.raises(ValueError, match="raters"):
        ranking.kendalls_w(np.arange(5.0)[None])
    with pytest.raises(ValueError, match="NaN"):
        ranking.ranks(np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="n_permutations"):
        ranking.kendalls_w_test(np.ones((2, 3)), n_permutations=0)
    with pytest.raises(ValueError, match="equal length"):
        ranking.spearman(np.arange(3.0), np.arange(4.0))


def test_spearman_ranks_inf_last_and_is_nan_for_constant_input():
    assert ranking.spearman(np.array([1.0, 2.0, np.inf]), np.array([1.0, 2.0, 3.0])) == 1.0
    assert np.isnan(ranking.spearman(np.ones(3), np.arange(3.0)))


# --- per-class curves ------------------------------------------------------------------------


def test_recall_and_per_class_terms_of_constructed_predictions():
    y = torch.tensor([0, 0, 1, 1, 2, 2])
    preds = torch.stack([torch.zeros(6, dtype=torch.long), y, torch.tensor([0, 0, 1, 1, 1, 1])])
    rec = co.recall(preds, y, num_classes=3)
    assert rec.tolist() == [[1, 0, 0], [1, 1, 1], [1, 1, 0]]
    c = co.per_class_curves(preds, y, l_pred=y, num_classes=3)
    np.testing.assert_allclose(c["mi"].sum(axis=1), c["I_FY"], atol=1e-12)
    np.testing.assert_allclose(c["mi"][0], 0.0, atol=1e-12)
    np.testing.assert_allclose(c["mi"][1], np.full(3, np.log2(3) / 3), atol=1e-12)
    np.testing.assert_allclose(c["cmi"], 0.0, atol=1e-12)  # L = Y explains everything
    np.testing.assert_allclose(c["mu"], c["mi"], atol=1e-12)


# --- smoke runs of the full configs ----------------------------------------------------------


@pytest.mark.parametrize("dataset", sorted(co.FULL))
def test_full_config_smoke_runs_on_cpu(tmp_path, dataset):
    if dataset == "mnist":
        write_tiny_mnist(tmp_path, n_train=600, n_test=300)
    else:
        write_tiny_cifar(tmp_path, n_train=500, n_test=300)
    cfg = co.config("full", dataset).smoke()
    assert cfg.require_full
    res = co.run(cfg, data_root=tmp_path, cache_root=tmp_path / "cache", progress=False)
    per_class = res.frame("per_class")
    steps = cfg.steps(cfg.n_train)
    n_marks = len(cfg.checkpoints(steps))
    assert len(per_class) == len(cfg.seeds) * len(cfg.models) * n_marks * 10
    assert set(per_class.unit) == set(cfg.seeds)
    assert np.all(per_class.mi >= -1e-12)
    totals = res.frame("totals")
    summed = per_class.groupby(["unit", "model", "step"])["mi"].sum().to_numpy()
    np.testing.assert_allclose(
        summed, totals.sort_values(["unit", "model", "step"]).I_FY, atol=1e-9
    )
    s = co.statistics(res, n_permutations=99)
    assert s["tau"]["cnn"].shape == (len(cfg.seeds), 10)
    assert 0 <= s["order_consistency"]["p"] <= 1
    again = co.run(cfg, data_root=tmp_path, cache_root=tmp_path / "cache", progress=False)
    assert again.reused == len(cfg.seeds)
    pd.testing.assert_frame_equal(again.frame("per_class"), per_class)


def test_missing_full_data_raises_dataset_missing(tmp_path):
    from sgdclaims.data import DatasetMissing

    with pytest.raises(DatasetMissing):
        co.run(co.config("full", "cifar10"), data_root=tmp_path, cache_root=tmp_path)
