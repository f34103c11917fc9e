"""Unit tests of the class_order experiment and the rank statistics: configs and bad input,
learning times at a fixed level on constructed curves, Kendall's W on constructed rankings
(and against Friedman's test), Spearman's permutation p, the paper's MNIST order and the
per-class Miller-Madow correction. The surrogate, the order statistics and the verdicts on
constructed results are in test_class_order_statistics.py. (tests/test_claim_smoke.py runs every
full config, shrunk, on tiny data files.)"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import stats

from sgdclaims import curves, info, ranking
from sgdclaims.claims.class_order.config import CASES, MODELS, SHAPES
from sgdclaims.claims.class_order.experiment import check_data, make_model, run
from sgdclaims.claims.class_order.orders import paper_order_met
from sgdclaims.data import Dataset
from sgdclaims.info import Contingency

# --- configs and bad input -----------------------------------------------------------------


@pytest.mark.parametrize("scale", ["fast", "full"])
def test_configs_are_valid_and_changes_are_explained(scale):
    for dataset in CASES.datasets(scale):
        cfg = CASES.config(scale, dataset)
        assert cfg.dataset == dataset and cfg.batch_size == 64
        assert len(cfg.seeds) >= (5 if scale == "full" else 3)
        for change in CASES.changes(scale, dataset):
            assert change.why, f"{scale}/{dataset}: {change.field} has no reason"
        if scale == "full":
            assert (cfg.lr, cfg.linear_lr, cfg.require_full) == (1e-3, 1e-2, True)
            assert cfg.epochs == (100 if dataset == "cifar10" else 50)


def test_fast_lr_states_the_cnn_warm_up():
    why = {c.field: c.why for c in CASES.changes("fast", "mnist")}["lr"]
    assert "warm-up" in why and "steps" in why


def test_fast_run_lengths_state_the_budget_decision():
    """The run length of each fast case says why it is not longer (the budget), decided
    before the fixed-level W was computed (issue 24)."""
    for dataset in CASES.datasets("fast"):
        why = {c.field: c.why for c in CASES.changes("fast", dataset)}["steps"]
        assert "budget" in why and "classes_learned" in why


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"dataset": "svhn"}, "dataset"),
        ({"vit_patch_size": 5}, "vit_patch_size"),
        ({"vit_heads": 3}, "vit_heads"),
        ({"n_test": 50}, "n_test"),
        ({"n_train": 0}, "n_train"),
        ({"steps": 0}, "steps"),
        ({"lr": 0.0}, "lr"),
        ({"lr": float("nan")}, "lr"),
        ({"linear_lr": -1.0}, "linear_lr"),
        ({"epochs": 0.0}, "epochs"),
        ({"every": 0}, "every"),
        ({"n_permutations": 0}, "n_permutations"),
        ({"seeds": ()}, "seeds"),
        ({"seeds": (2, 2)}, "seeds"),
    ],
)
def test_bad_config_names_the_field(changes, field):
    with pytest.raises(ValueError, match=field):
        CASES.config("full", "mnist").replace(**changes)


def test_patch_size_is_checked_against_each_data_set():
    CASES.config("full", "cifar10").replace(vit_patch_size=8)
    with pytest.raises(ValueError, match="vit_patch_size 8 does not divide the 28x28"):
        CASES.config("full", "mnist").replace(vit_patch_size=8)


def test_unknown_model_name_is_refused_by_the_factory():
    with pytest.raises(ValueError, match="model"):
        make_model(CASES.config("full", "mnist"), "mlp", (1, 28, 28), 0)


def _dataset(shape: tuple[int, ...], n: int = 400, classes: int = 10) -> Dataset:
    from sgdclaims.data import DatasetInfo

    x = torch.rand(n, *shape)
    y = torch.arange(n) % classes
    info = DatasetInfo(
        name="made",
        display="made-up test tensors",
        source="test",
        subset=False,
        synthetic=True,
        n_train=n,
        n_test=n,
        shape=shape,
        classes=tuple(str(c) for c in range(classes)),
    )
    return Dataset(x, y, x.clone(), y.clone(), info)


def test_data_with_other_channels_than_the_models_fail_before_training():
    cfg = CASES.config("full", "mnist")
    check_data(cfg, _dataset((1, 28, 28)))
    with pytest.raises(ValueError, match="3 channels; the models for mnist take 1"):
        check_data(cfg, _dataset((3, 28, 28)))
    with pytest.raises(ValueError, match="1 channels; the models for cifar10 take 3"):
        check_data(CASES.config("full", "cifar10"), _dataset((1, 32, 32)))
    with pytest.raises(ValueError, match="classes"):
        check_data(cfg, _dataset((1, 28, 28), classes=5))
    with pytest.raises(ValueError, match="test examples"):
        check_data(cfg, _dataset((1, 28, 28), n=100))


def test_the_three_models_fit_mnist_and_cifar_shapes():
    for dataset in ("mnist", "cifar10"):
        cfg = CASES.config("full", dataset)
        shape = SHAPES[dataset]
        for name in MODELS:
            out = make_model(cfg, name, shape, 0)(torch.zeros(2, *shape))
            assert out.shape == (2, 10)


# --- learning times --------------------------------------------------------------------------


def test_learning_time_is_the_first_checkpoint_from_which_the_curve_stays_at_its_level():
    steps = np.array([0, 10, 20, 40, 80])
    curves = np.array(
        [[0.0, 0.0, 0.0], [0.3, 0.0, 0.5], [0.1, 0.2, 0.5], [0.5, 0.2, 0.5], [0.6, 0.8, 0.2]]
    )
    tau = ranking.learning_times(curves, steps, np.array([0.25, 0.5, 0.4]))
    assert tau.tolist() == [40, 80, np.inf]  # class 0 dips after 10; class 2 ends below


def test_learning_time_of_a_class_never_learned_is_inf_and_ranks_last():
    steps = np.arange(4)
    curves = np.array([[0.0, 0.0], [0.5, 0.0], [1.0, 0.0], [1.0, 0.0]])
    tau = ranking.learning_times(curves, steps, 0.5)
    assert tau.tolist() == [1, np.inf]
    assert ranking.ranks(tau).tolist() == [1.0, 2.0]


def test_the_level_does_not_depend_on_the_final_value():
    """A class that ends at a low value is not learned early (own-final normalisation ranked
    such classes first on Fashion-MNIST, issue 24)."""
    steps = np.arange(5)
    low = np.array([[0.05], [0.1], [0.1], [0.1], [0.1]])  # flat at 0.1 from step 1
    high = np.array([[0.0], [0.2], [0.4], [0.6], [0.8]])
    tau = ranking.learning_times(np.concatenate([low, high], axis=1), steps, 0.3)
    assert tau.tolist() == [np.inf, 2]


def test_learning_times_batch_over_seeds_with_levels_per_seed():
    steps = np.arange(5)
    one = np.linspace(0, 1, 5)[:, None] * np.array([1.0, 2.0])
    two = np.concatenate([np.zeros((3, 2)), np.ones((2, 2))])
    tau = ranking.learning_times(np.stack([one, two]), steps, np.array([[0.5, 0.5], [1.0, 1.0]]))
    assert tau.tolist() == [[2, 1], [3, 3]]


@pytest.mark.parametrize(
    ("curves", "steps", "level", "match"),
    [
        (np.zeros(5), np.arange(5), 0.5, "curves"),
        (np.zeros((5, 2)), np.arange(4), 0.5, "steps"),
        (np.zeros((3, 2)), np.array([0, 2, 1]), 0.5, "increasing"),
        (np.full((3, 2), np.nan), np.arange(3), 0.5, "finite"),
        (np.zeros((3, 2)), np.arange(3), np.nan, "level"),
    ],
)
def test_learning_times_reject_bad_input(curves, steps, level, match):
    with pytest.raises(ValueError, match=match):
        ranking.learning_times(curves, steps, level)


# --- Kendall's W -----------------------------------------------------------------------------


def _w_test(values: np.ndarray, n_permutations: int, seed: int = 0) -> tuple[float, float]:
    """W of the rows of values and its permutation p (each rater's ranks shuffled)."""
    w = float(ranking.concordance(values))
    null = ranking.w_null(ranking.ranks(values), n_permutations=n_permutations, seed=seed)
    return w, ranking.permutation_p(w, null)


def test_identical_rankings_give_w_one_and_a_small_p():
    values = np.tile(np.arange(10.0), (3, 1))
    w, p = _w_test(values, n_permutations=999)
    assert w == pytest.approx(1.0)
    assert p == pytest.approx(1 / 1000)


def test_two_opposite_rankings_give_w_zero():
    values = np.stack([np.arange(6.0), np.arange(6.0)[::-1]])
    assert ranking.kendalls_w(ranking.ranks(values)) == pytest.approx(0.0)


def test_permuted_identical_rankings_lose_their_concordance():
    values = np.tile(np.arange(10.0), (5, 1))
    rng = np.random.default_rng(0)
    relabelled = np.stack([row[rng.permutation(len(row))] for row in values])
    w, p = _w_test(relabelled, n_permutations=999)
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
    first = _w_test(values, n_permutations=500, seed=1)
    assert first == _w_test(values, n_permutations=500, seed=1)
    assert 1 / 501 <= first[1] <= 1.0


def test_rank_statistics_reject_bad_input():
    with pytest.raises(ValueError, match="raters"):
        ranking.kendalls_w(np.arange(5.0)[None])
    with pytest.raises(ValueError, match="NaN"):
        ranking.ranks(np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="n_permutations"):
        ranking.w_null(np.ones((2, 3)), n_permutations=0)
    with pytest.raises(ValueError, match="equal length"):
        ranking.spearman(np.arange(3.0), np.arange(4.0))


def test_spearman_ranks_inf_last_and_is_nan_for_constant_input():
    assert ranking.spearman(np.array([1.0, 2.0, np.inf]), np.array([1.0, 2.0, 3.0])) == 1.0
    assert np.isnan(ranking.spearman(np.ones(3), np.arange(3.0)))


# --- per-class curves ------------------------------------------------------------------------


def test_recall_and_per_class_terms_of_constructed_predictions():
    y = torch.tensor([0, 0, 1, 1, 2, 2])
    preds = torch.stack([torch.zeros(6, dtype=torch.long), y, torch.tensor([0, 0, 1, 1, 1, 1])])
    rec = info.per_class_recall(preds, y, num_classes=3)
    assert rec.tolist() == [[1, 0, 0], [1, 1, 1], [1, 1, 0]]
    c = info.per_class_curves(preds, y, l_pred=y, num_classes=3)
    np.testing.assert_allclose(c["mi"].sum(axis=1), c["I_FY"], atol=1e-12)
    np.testing.assert_allclose(c["mi"][0], 0.0, atol=1e-12)
    np.testing.assert_allclose(c["mi"][1], np.full(3, np.log2(3) / 3), atol=1e-12)
    np.testing.assert_allclose(c["cmi"], 0.0, atol=1e-12)  # L = Y explains everything
    np.testing.assert_allclose(c["mu"], c["mi"], atol=1e-12)


# --- statistics ---------------------------------------------------------------------------


def test_paper_order_needs_0_and_1_first_and_5_and_8_last():
    order = np.array([0.0, 1, 2, 3, 4, 5, 6, 7, 9, 9.5])  # tau by class: 5 is 6th -> not met
    assert paper_order_met(order) == 0
    met = np.array([1.0, 0, 4, 3, 5, 9, 6, 2, 8, 7])
    assert paper_order_met(met) == 1
    assert paper_order_met(np.stack([met, order])).tolist() == [1, 0]


def test_spearman_permutation_p_is_small_for_identical_orders_only():
    rho, p = ranking.spearman_test(np.arange(10.0), np.arange(10.0), n_permutations=999)
    assert rho == pytest.approx(1.0) and p == pytest.approx(1 / 1000)
    rho, p = ranking.spearman_test(np.arange(10.0), np.arange(10.0)[::-1], n_permutations=999)
    assert rho == pytest.approx(-1.0) and p == pytest.approx(1.0)


def test_miller_madow_per_class_terms_sum_to_the_total_correction():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 300)
    l_pred = np.where(rng.random(300) < 0.7, y, rng.integers(0, 4, 300))
    f = np.stack([np.where(rng.random(300) < p, y, rng.integers(0, 4, 300)) for p in (0.2, 0.8)])
    table = Contingency.from_labels(f, y, l_pred, num_classes=4)
    per_class = info.miller_madow_per_class(np.asarray(table.counts)) / np.log(2)
    total = np.asarray(table.conditional_mutual_information(miller_madow=True)) - np.asarray(
        table.conditional_mutual_information()
    )
    np.testing.assert_allclose(per_class.sum(axis=1), total, atol=1e-12)


def test_miller_madow_per_class_terms_are_less_biased():
    """F independent of Y given L: every true per-class term I(F;Y=c|L) is 0; at 200 test
    images per class the plug-in terms are biased upward, the corrected ones about half as
    much (Miller-Madow counts occupied cells, so it undercorrects where most are empty)."""
    rng = np.random.default_rng(1)
    y = np.repeat(np.arange(10), 200)
    plug_in, corrected = [], []
    for _ in range(40):
        l_pred = np.where(rng.random(len(y)) < 0.5, y, rng.integers(0, 10, len(y)))
        f = torch.from_numpy(rng.integers(0, 10, (1, len(y))))
        c = info.per_class_curves(f, torch.from_numpy(y), torch.from_numpy(l_pred), 10)
        plug_in.append(c["cmi"][0].sum())
        corrected.append(c["cmi_mm"][0].sum())
    assert 0 < np.mean(corrected) < 0.6 * np.mean(plug_in)


def test_missing_full_data_raises_dataset_missing(tmp_path):
    from sgdclaims.data import DatasetMissing
    from sgdclaims.runner import RunContext

    with pytest.raises(DatasetMissing):
        run(
            CASES.config("full", "cifar10"),
            RunContext(data_root=tmp_path, cache_root=tmp_path, progress=False),
        )


# --- curve readers (sgdclaims.curves additions used by the statistics) -------------------------


def test_preceding_change_compares_the_final_value_with_the_preceding_20_percent():
    steps = np.arange(101)  # final: steps >= 95; the preceding 20%: 75 <= step < 95
    flat, climbing = np.ones(len(steps)), steps / 100
    assert curves.preceding_change(steps, flat) == pytest.approx(0.0)
    final, before = np.mean(climbing[95:]), np.mean(climbing[75:95])
    assert curves.preceding_change(steps, climbing) == pytest.approx(final - before)
    assert np.isnan(curves.preceding_change(np.array([0, 1, 2]), np.ones(3)))


def test_first_reaching_is_inf_for_a_curve_that_never_gets_there():
    steps = np.array([0, 10, 20])
    out = curves.first_reaching(steps, np.array([[0.1, 0.2, 0.3], [0.1, 0.1, 0.1]]), 0.15)
    assert out.tolist() == [10, np.inf]


def test_unit_cube_orders_units_steps_and_classes():
    frame = pd.DataFrame(
        {
            "unit": [1, 1, 0, 0] * 2,
            "step": [5, 0, 5, 0] * 2,
            "class": [0] * 4 + [1] * 4,
            "v": np.arange(8.0),
        }
    )
    steps, cube = curves.unit_cube(frame, [0, 1], "v", by="class")
    assert steps.tolist() == [0, 5]
    assert cube[:, :, 0].tolist() == [[3, 2], [1, 0]] and cube[:, :, 1].tolist() == [[7, 6], [5, 4]]
    _, flat = curves.unit_cube(frame[frame["class"] == 0], [1, 0], "v")
    assert flat.tolist() == [[1, 0], [3, 2]]
