"""Unit tests of sgdclaims.info: known values, shapes and types, bootstrap, bad input."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

from sgdclaims import info

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device present")


def _labels(seed: int, n: int, k: int, size: tuple[int, ...] = ()) -> np.ndarray:
    """Seeded random labels in 0..k-1 of shape size + (n,)."""
    return np.random.default_rng(seed).integers(0, k, size=(*size, n))


def _noisy_copy(seed: int, y: np.ndarray, keep: float, k: int) -> np.ndarray:
    """y with a fraction 1 - keep of its entries replaced by random labels (a classifier)."""
    rng = np.random.default_rng(seed)
    return np.where(rng.random(y.shape) < keep, y, rng.integers(0, k, y.shape))


# --- known values -----------------------------------------------------------------------


def test_identical_balanced_binary_is_one_bit():
    y = np.array([0, 1] * 50)
    assert info.mutual_information(y, y) == pytest.approx(1.0, abs=1e-15)
    assert info.entropy(y) == pytest.approx(1.0, abs=1e-15)


def test_exactly_independent_table_gives_exact_zero():
    # every (f, y) pair occurs equally often: p(f,y) = p(f) p(y) in exact arithmetic
    f = np.repeat([0, 1, 2], 4)
    y = np.tile([0, 1, 2, 3], 3)
    assert info.mutual_information(f, y) == 0.0
    assert info.conditional_mutual_information(f, y, np.zeros(12, dtype=int)) == 0.0


def test_constant_prediction_has_zero_information_and_zero_mu():
    y = _labels(0, 500, 10)
    f = np.full(500, 3)
    assert info.mutual_information(f, y) == 0.0
    assert info.performance_correlation(f, y, _noisy_copy(1, y, 0.5, 10)) == 0.0


def test_xor_is_pure_synergy():
    # Y = F xor L with F, L independent and uniform: I(F;Y) = 0, I(F;Y|L) = 1, mu = -1
    f = np.array([0, 0, 1, 1] * 25)
    l = np.array([0, 1, 0, 1] * 25)
    y = f ^ l
    assert info.mutual_information(f, y) == pytest.approx(0.0, abs=1e-15)
    assert info.conditional_mutual_information(f, y, l) == pytest.approx(1.0, abs=1e-15)
    assert info.performance_correlation(f, y, l) == pytest.approx(-1.0, abs=1e-15)


def test_uniform_entropy_and_bases():
    x = np.arange(8).repeat(5)
    assert info.entropy(x) == pytest.approx(3.0)
    assert info.entropy(x, base=math.e) == pytest.approx(math.log(8))
    assert info.entropy(x, base=8) == pytest.approx(1.0)
    y = _labels(2, 300, 4)
    f = _noisy_copy(3, y, 0.6, 4)
    bits = info.mutual_information(f, y)
    assert info.mutual_information(f, y, base=math.e) == pytest.approx(bits * math.log(2))
    assert info.mutual_information(f, y, base=10) == pytest.approx(bits * math.log10(2))


def test_conditional_entropy_given():
    y = np.array([0, 1, 0, 1, 2, 2, 2, 2])
    g = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    # given g=0, y is a fair bit; given g=1, y is constant: H(Y|G) = 0.5 * 1 + 0.5 * 0
    assert info.entropy(y, g) == pytest.approx(0.5)
    table = info.Contingency.from_labels(y, y, g)
    assert table.entropy("y", "l") == pytest.approx(0.5)
    assert table.entropy("fy") == pytest.approx(table.entropy("y"))


def test_zero_cells_give_no_warnings_and_finite_values():
    f = np.array([0, 0, 1, 5])
    y = np.array([0, 1, 1, 9])
    l = np.array([2, 2, 2, 7])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values = [
            info.mutual_information(f, y),
            info.conditional_mutual_information(f, y, l),
            *info.per_class_mutual_information(f, y, l, num_classes=12),
        ]
    assert np.isfinite(values).all()


def test_perfect_classifier_per_class_terms():
    # F = Y with class probabilities p: I(F;Y=y) = -p(y) log2 p(y)
    y = np.repeat([0, 1, 2], [2, 2, 4])
    per_class = info.per_class_mutual_information(y, y)
    np.testing.assert_allclose(per_class, [0.5, 0.5, 0.5], atol=1e-15)
    assert per_class.sum() == pytest.approx(info.mutual_information(y, y))


def test_per_class_columns_follow_labels():
    y = np.array([3, 3, 7, 9, 9, 9])
    f = np.array([0, 1, 1, 0, 0, 2])
    table = info.Contingency.from_labels(f, y)
    np.testing.assert_array_equal(table.y_values, [3, 7, 9])
    compact = info.per_class_mutual_information(f, y)
    wide = info.per_class_mutual_information(f, y, num_classes=10)
    assert wide.shape == (10,)
    np.testing.assert_allclose(wide[[3, 7, 9]], compact, atol=1e-15)
    assert np.count_nonzero(np.delete(wide, [3, 7, 9])) == 0


def test_miller_madow_hand_example():
    f = np.array([0, 0, 1, 1, 1, 2])
    y = np.array([0, 1, 1, 1, 0, 0])
    # m_F = 3, m_Y = 2, m_FY = 5 (cells (0,0) (0,1) (1,1) (1,0) (2,0)), N = 6
    plug_in = info.mutual_information(f, y, base=math.e)
    corrected = info.mutual_information(f, y, base=math.e, miller_madow=True)
    assert corrected - plug_in == pytest.approx((3 + 2 - 5 - 1) / 12)
    h = info.entropy(f, base=math.e)
    assert info.entropy(f, base=math.e, miller_madow=True) - h == pytest.approx(2 / 12)


def test_contingency_gives_the_same_numbers_as_the_functions():
    y = _labels(4, 400, 5)
    f = _noisy_copy(5, y, 0.7, 5)
    l = _noisy_copy(6, y, 0.4, 5)
    table = info.Contingency.from_labels(f, y, l)
    assert table.n == 400
    assert table.counts.shape == (5, 5, 5)
    assert table.counts.sum() == 400
    assert table.mutual_information() == info.mutual_information(f, y)
    assert table.conditional_mutual_information() == info.conditional_mutual_information(f, y, l)
    assert table.performance_correlation() == info.performance_correlation(f, y, l)
    np.testing.assert_array_equal(
        table.per_class_conditional_mutual_information(),
        info.per_class_mutual_information(f, y, l),
    )
    np.testing.assert_allclose(
        table.per_class_performance_correlation().sum(),
        table.performance_correlation(),
        atol=1e-12,
    )


# --- shapes, types, batching ------------------------------------------------------------


def test_numpy_results_are_float64():
    y = _labels(7, 50, 3)
    value = info.mutual_information(y, y)
    assert isinstance(value, np.float64)
    batched = info.mutual_information(np.stack([y, y]), y)
    assert isinstance(batched, np.ndarray)
    assert batched.dtype == np.float64
    assert batched.shape == (2,)


def test_torch_results_are_float64_tensors_and_mixing_is_allowed():
    y = _labels(8, 60, 3)
    f = _noisy_copy(9, y, 0.5, 3)
    value = info.mutual_information(torch.from_numpy(f), torch.from_numpy(y))
    assert isinstance(value, torch.Tensor)
    assert value.dtype == torch.float64
    assert value.shape == ()
    mixed = info.mutual_information(torch.from_numpy(f), y)
    assert isinstance(mixed, torch.Tensor)
    assert mixed.item() == pytest.approx(float(info.mutual_information(f, y)), abs=1e-14)


def test_any_argument_may_be_batched():
    y = _labels(10, 300, 4)
    F = _noisy_copy(11, np.broadcast_to(y, (6, 300)), 0.5, 4)
    L = _noisy_copy(12, np.broadcast_to(y, (6, 300)), 0.3, 4)
    mu = info.performance_correlation(F, y, L)
    assert mu.shape == (6,)
    for t in range(6):
        assert mu[t] == pytest.approx(info.performance_correlation(F[t], y, L[t]), abs=1e-14)
    per_class = info.per_class_mutual_information(F, y, L[0], num_classes=5)
    assert per_class.shape == (6, 5)
    assert info.entropy(F).shape == (6,)
    assert info.Contingency.from_labels(F, y).counts.shape == (6, 4, 4, 1)


def test_integer_dtypes_and_integral_floats_are_accepted():
    y = _labels(13, 80, 4)
    f = _noisy_copy(14, y, 0.5, 4)
    expected = info.mutual_information(f, y)
    for dtype in (np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.uint64):
        assert info.mutual_information(f.astype(dtype), y) == pytest.approx(expected, abs=1e-15)
    assert info.mutual_information(f.astype(np.float32), y) == pytest.approx(expected, abs=1e-15)
    for dtype in (torch.uint8, torch.int16, torch.int32, torch.float64):
        value = info.mutual_information(torch.from_numpy(f).to(dtype), torch.from_numpy(y))
        assert value.item() == pytest.approx(expected, abs=1e-15)


def test_inputs_are_not_modified():
    y = _labels(15, 100, 4)
    F = _noisy_copy(16, np.broadcast_to(y, (3, 100)), 0.5, 4)
    l = _noisy_copy(17, y, 0.5, 4)
    copies = [a.copy() for a in (F, y, l)]
    info.performance_correlation(F, y, l, num_classes=4)
    info.bootstrap_interval(F, y, l, num_resamples=5, num_classes=4)
    info.performance_correlation(torch.from_numpy(F), torch.from_numpy(y), torch.from_numpy(l))
    for before, after in zip(copies, (F, y, l)):
        np.testing.assert_array_equal(before, after)


def test_large_and_sparse_labels_are_encoded():
    y = np.array([0, 1, 1, 0, 1])
    f = np.array([10**12, 5, 5, 10**12, 7], dtype=np.int64)
    g = np.array([0, 1, 1, 0, 2])
    assert info.mutual_information(f, y) == pytest.approx(info.mutual_information(g, y))
    assert info.mutual_information(torch.from_numpy(f), y).item() == pytest.approx(
        float(info.mutual_information(g, y))
    )
    bools = np.array([True, False, False, True, False])
    assert info.mutual_information(bools, y) == pytest.approx(1.0 * info.entropy(y))


# --- bootstrap --------------------------------------------------------------------------


def _bootstrap_inputs() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y = _labels(20, 400, 3)
    return _noisy_copy(21, y, 0.6, 3), y, _noisy_copy(22, y, 0.5, 3)


def test_bootstrap_statistic_equals_a_loop_over_resamples():
    f, y, l = _bootstrap_inputs()
    idx = np.random.default_rng(23).integers(0, 400, size=(7, 400))
    for statistic in ("mutual_information", "performance_correlation"):
        values = info.bootstrap_statistic(f, y, l, idx, statistic=statistic)
        table = info.Contingency.from_labels
        looped = [getattr(table(f[i], y[i], l[i]), statistic)() for i in idx]
        np.testing.assert_allclose(values, looped, atol=1e-13)
    F = np.stack([f, l])
    values = info.bootstrap_statistic(F, y, None, idx, statistic="mutual_information")
    assert values.shape == (7, 2)
    looped = [[info.mutual_information(F[t, i], y[i]) for t in range(2)] for i in idx]
    np.testing.assert_allclose(values, looped, atol=1e-13)
    per_class = info.bootstrap_statistic(
        f, y, l, idx, statistic="per_class_conditional_mutual_information"
    )
    assert per_class.shape == (7, 3)


def test_bootstrap_interval_is_the_percentile_interval_of_seeded_resamples(monkeypatch):
    f, y, l = _bootstrap_inputs()
    idx = np.random.default_rng(5).integers(0, 400, size=(200, 400))
    values = info.bootstrap_statistic(f, y, l, idx)
    low, high = info.bootstrap_interval(f, y, l, num_resamples=200, seed=5, confidence=0.9)
    np.testing.assert_allclose([low, high], np.quantile(values, [0.05, 0.95]), atol=1e-14)
    point = info.performance_correlation(f, y, l)
    assert low < point < high
    # chunking over resamples changes neither the draws nor the interval
    monkeypatch.setattr(info.bootstrap, "_CHUNK_ELEMENTS", 400 * 3)
    chunked = info.bootstrap_interval(f, y, l, num_resamples=200, seed=5, confidence=0.9)
    np.testing.assert_allclose(chunked, [low, high], atol=1e-14)


def test_bootstrap_interval_batched_and_torch():
    f, y, l = _bootstrap_inputs()
    F = np.stack([f, l, y])
    low, high = info.bootstrap_interval(F, y, statistic="mutual_information", num_resamples=50)
    assert low.shape == high.shape == (3,)
    assert (low <= high).all()
    low_t, high_t = info.bootstrap_interval(
        torch.from_numpy(F), torch.from_numpy(y), statistic="mutual_information", num_resamples=50
    )
    assert low_t.dtype == torch.float64
    assert low_t.shape == (3,)
    point = info.mutual_information(F, y)
    assert (low_t.numpy() <= point).all()
    assert (point <= high_t.numpy()).all()
    g = torch.Generator().manual_seed(3)
    again = info.bootstrap_interval(f, y, l, num_resamples=30, seed=g)
    g = torch.Generator().manual_seed(3)
    assert info.bootstrap_interval(f, y, l, num_resamples=30, seed=g) == again
