"""Speed of sgdclaims.info as ratios within one run (pytest-benchmark groups):

- one I(F;Y) on n = 1e6 labels against scikit-learn's mutual_info_score (target >= 5x);
- mu_Y for T = 200 checkpoints x n = 10,000 x 10 classes, batched against a Python loop
  over checkpoints (target >= 10x);
- a 1,000-resample bootstrap interval at n = 10,000 (target < 1 s on 2 cores), beside a
  Python loop over the same resamples.

Read the ratios off `pytest tests/test_info_bench.py --benchmark-only`; with
`--benchmark-disable` each runs once and only its result is checked.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import mutual_info_score

from sgdclaims import info

CLASSES = 10


def _classifier(rng: np.random.Generator, y: np.ndarray, keep: float) -> np.ndarray:
    """Predictions equal to y on a fraction `keep`, random elsewhere."""
    return np.where(rng.random(y.shape) < keep, y, rng.integers(0, CLASSES, y.shape))


@pytest.fixture(scope="module")
def million():
    """F, Y with n = 1e6 and sklearn's I(F;Y) in nats."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, CLASSES, 1_000_000)
    f = _classifier(rng, y, 0.5)
    return f, y, mutual_info_score(y, f)


@pytest.fixture(scope="module")
def checkpoints():
    """Predictions at T = 200 checkpoints on n = 10,000 examples, Y, L and batched mu."""
    rng = np.random.default_rng(1)
    y = rng.integers(0, CLASSES, 10_000)
    keep = np.linspace(0.0, 0.9, 200)[:, None]
    F = np.where(rng.random((200, 10_000)) < keep, y, rng.integers(0, CLASSES, (200, 10_000)))
    l = _classifier(rng, y, 0.4)
    return F, y, l, info.performance_correlation(F, y, l, num_classes=CLASSES)


@pytest.mark.parametrize("impl", ["sgdclaims", "sklearn"])
def test_bench_mutual_information_million(benchmark, million, impl):
    f, y, expected = million
    benchmark.group = "I(F;Y), n = 1e6, 10 classes"
    if impl == "sgdclaims":
        value = benchmark(info.mutual_information, f, y, base=math.e)
    else:
        value = benchmark(mutual_info_score, y, f)
    assert value == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("mode", ["batched", "loop"])
def test_bench_mu_checkpoints(benchmark, checkpoints, mode):
    F, y, l, expected = checkpoints
    benchmark.group = "mu_Y, T = 200 x n = 10,000 x 10 classes"

    def looped() -> np.ndarray:
        return np.array([info.performance_correlation(f, y, l, num_classes=CLASSES) for f in F])

    if mode == "batched":
        values = benchmark(info.performance_correlation, F, y, l, num_classes=CLASSES)
    else:
        values = benchmark(looped)
    np.testing.assert_allclose(values, expected, atol=1e-12)
    assert values[-1] > values[0] + 0.1


@pytest.mark.parametrize("mode", ["vectorised", "loop"])
def test_bench_bootstrap(benchmark, checkpoints, mode):
    F, y, l, _ = checkpoints
    f = F[-1]
    benchmark.group = "bootstrap of mu_Y, B = 1,000 at n = 10,000"
    indices = np.random.default_rng(7).integers(0, f.size, size=(1000, f.size))

    def looped() -> tuple[float, float]:
        values = [info.performance_correlation(f[i], y[i], l[i]) for i in indices]
        low, high = np.quantile(values, [0.025, 0.975])
        return low, high

    if mode == "vectorised":
        low, high = benchmark(info.bootstrap_interval, f, y, l, num_resamples=1000, seed=7)
    else:
        low, high = benchmark(looped)
    point = info.performance_correlation(f, y, l)
    assert low < point < high
    assert high - low < 0.1
