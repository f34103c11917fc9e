"""Property tests of sgdclaims.info: bounds, identities, invariances, agreement with
independent implementations (hypothesis; profile `ci` in CI)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.special import rel_entr
from sklearn.metrics import mutual_info_score

from sgdclaims import info

TOL = 1e-12
NAMES = ("mutual_information", "conditional_mutual_information", "performance_correlation")


@st.composite
def triples(draw, max_n: int = 60, max_k: int = 5):
    """Label vectors F, Y, L of one length with small, independently drawn alphabets."""
    n = draw(st.integers(1, max_n))
    sizes = [draw(st.integers(1, max_k)) for _ in range(3)]
    return tuple(draw(arrays(np.int64, n, elements=st.integers(0, k - 1))) for k in sizes)


def _entropy(*columns: np.ndarray) -> float:
    """Independent plug-in joint entropy in bits, from np.unique counts."""
    _, counts = np.unique(np.stack(columns), axis=1, return_counts=True)
    p = counts / counts.sum()
    return float(-(p * np.log2(p)).sum())


def _occupied(*columns: np.ndarray) -> int:
    """Number of distinct joint values (non-empty cells)."""
    return np.unique(np.stack(columns), axis=1).shape[1]


@given(triples())
def test_mutual_information_bounds(fyl):
    f, y, l = fyl
    mi = info.mutual_information(f, y)
    assert -TOL <= mi <= min(info.entropy(f), info.entropy(y)) + TOL
    cmi = info.conditional_mutual_information(f, y, l)
    assert cmi >= -TOL
    assert cmi <= info.entropy(y, l) + TOL


@given(triples())
def test_nakkiran_identity(fyl):
    # I(F;Y) - I(F;Y|L) == I(L;Y) - I(L;Y|F) (Nakkiran et al. 2019, eq. 1)
    f, y, l = fyl
    left = info.mutual_information(f, y) - info.conditional_mutual_information(f, y, l)
    right = info.mutual_information(l, y) - info.conditional_mutual_information(l, y, f)
    assert left == pytest.approx(right, abs=TOL)
    assert info.performance_correlation(f, y, l) == pytest.approx(
        info.performance_correlation(l, y, f), abs=TOL
    )


@given(triples())
def test_performance_correlation_bounds_and_chain_rule(fyl):
    f, y, l = fyl
    mi_f, mi_l = info.mutual_information(f, y), info.mutual_information(l, y)
    assert info.performance_correlation(f, y, f) == pytest.approx(mi_f, abs=TOL)
    assert info.performance_correlation(f, y, l) <= min(mi_f, mi_l) + TOL
    pair = f * (l.max() + 1) + l
    chain = mi_l + info.conditional_mutual_information(f, y, l)
    assert info.mutual_information(pair, y) == pytest.approx(chain, abs=TOL)


@given(triples(), st.randoms(use_true_random=False))
def test_invariance_under_relabelling_and_permuting_examples(fyl, rnd):
    f, y, l = fyl
    base = info.Contingency.from_labels(f, y, l)
    f_map = rnd.sample(range(1000), int(f.max()) + 1)
    l_map = rnd.sample(range(1000), int(l.max()) + 1)
    order = np.array(rnd.sample(range(f.size), f.size))
    for table in (
        info.Contingency.from_labels(np.take(f_map, f), y, np.take(l_map, l)),
        info.Contingency.from_labels(f[order], y[order], l[order]),
    ):
        for name in NAMES:
            assert getattr(table, name)() == pytest.approx(getattr(base, name)(), abs=TOL)
        np.testing.assert_allclose(
            table.per_class_conditional_mutual_information(),
            base.per_class_conditional_mutual_information(),
            atol=TOL,
        )


@given(triples())
def test_per_class_terms_are_weighted_kl_divergences_and_sum_to_totals(fyl):
    f, y, l = fyl
    table = info.Contingency.from_labels(f, y, l)
    per_class = table.per_class_mutual_information()
    per_class_cond = table.per_class_conditional_mutual_information()
    assert per_class.min() >= -TOL
    assert per_class_cond.min() >= -TOL
    assert per_class.sum() == pytest.approx(table.mutual_information(), abs=TOL)
    assert per_class_cond.sum() == pytest.approx(table.conditional_mutual_information(), abs=TOL)
    # I(F;Y=y) = p(y) KL(p(f|y) || p(f));  I(F;Y=y|L) = sum_l p(l) p(y|l) KL(p(f|y,l) || p(f|l))
    counts = table.counts
    n = counts.sum()
    p_fy = counts.sum(axis=2) / n
    p_f, p_y = p_fy.sum(axis=1), p_fy.sum(axis=0)
    for j in range(p_y.size):
        kl = rel_entr(p_fy[:, j] / p_y[j], p_f).sum() / math.log(2)
        assert per_class[j] == pytest.approx(p_y[j] * kl, abs=TOL)
        expected = 0.0
        for g in range(counts.shape[2]):
            c_fg = counts[:, :, g].sum(axis=1)
            c_yg, c_g = counts[:, j, g].sum(), counts[:, :, g].sum()
            if c_yg > 0:
                kl = rel_entr(counts[:, j, g] / c_yg, c_fg / c_g).sum() / math.log(2)
                expected += (c_g / n) * (c_yg / c_g) * kl
        assert per_class_cond[j] == pytest.approx(expected, abs=TOL)


@given(triples(max_n=200, max_k=8))
def test_agrees_with_sklearn_and_with_entropy_decomposition(fyl):
    f, y, l = fyl
    nats = info.mutual_information(f, y, base=math.e)
    assert max(nats, 0.0) == pytest.approx(mutual_info_score(y, f), abs=TOL)
    independent = _entropy(f, l) + _entropy(y, l) - _entropy(f, y, l) - _entropy(l)
    assert info.conditional_mutual_information(f, y, l) == pytest.approx(independent, abs=TOL)
    assert info.entropy(f, l) == pytest.approx(_entropy(f, l) - _entropy(l), abs=TOL)


@given(st.integers(1, 40), st.data())
def test_unbiased_binary_curve(m, data):
    # Y balanced, k errors in each class: F is balanced too and I(F;Y) = 1 - H_b(P[F = Y])
    # (the curve of Nakkiran et al. 2019, Fig. 3)
    k = data.draw(st.integers(0, m))
    y = np.repeat([0, 1], m)
    f = y.copy()
    f[:k] = 1
    f[m : m + k] = 0
    order = np.array(data.draw(st.permutations(range(2 * m))))
    accuracy = 1 - k / m
    h_b = 0.0 if accuracy in (0.0, 1.0) else _entropy(np.arange(m) < k)
    assert info.mutual_information(f[order], y[order]) == pytest.approx(1 - h_b, abs=TOL)
    assert _entropy(np.arange(m) < k) == pytest.approx(
        -sum(p * math.log2(p) for p in (accuracy, 1 - accuracy) if p > 0), abs=TOL
    )


@given(triples(), st.integers(1, 4))
def test_batched_equals_looped_and_numpy_equals_torch(fyl, num_steps):
    f, y, l = fyl
    F = np.stack([np.roll(f, t) for t in range(num_steps)])
    L = np.stack([np.roll(l, 2 * t) for t in range(num_steps)])
    batched = info.Contingency.from_labels(F, y, L, num_classes=5)
    looped = [info.Contingency.from_labels(F[t], y, L[t], num_classes=5) for t in range(num_steps)]
    as_torch = info.Contingency.from_labels(
        torch.from_numpy(F), torch.from_numpy(y), torch.from_numpy(L), num_classes=5
    )
    for name in (*NAMES, "per_class_conditional_mutual_information"):
        values = getattr(batched, name)()
        np.testing.assert_allclose(values, [getattr(t, name)() for t in looped], atol=TOL)
        np.testing.assert_allclose(getattr(as_torch, name)().numpy(), values, atol=TOL)


@given(triples())
def test_miller_madow_correction(fyl):
    f, y, l = fyl
    n = f.size
    mi = info.mutual_information(f, y, base=math.e)
    expected = mi + (_occupied(f) + _occupied(y) - _occupied(f, y) - 1) / (2 * n)
    assert info.mutual_information(f, y, base=math.e, miller_madow=True) == pytest.approx(
        expected, abs=TOL
    )
    cmi = info.conditional_mutual_information(f, y, l, base=math.e)
    correction = (_occupied(f, l) + _occupied(y, l) - _occupied(f, y, l) - _occupied(l)) / (2 * n)
    assert info.conditional_mutual_information(
        f, y, l, base=math.e, miller_madow=True
    ) == pytest.approx(cmi + correction, abs=TOL)
    bits = info.mutual_information(f, y, miller_madow=True)
    assert bits == pytest.approx(expected / math.log(2), abs=TOL)
