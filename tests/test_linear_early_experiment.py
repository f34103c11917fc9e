"""Unit tests of the linear_early experiment: the paper's CNN (its size against the paper's
model, bad input), configs and bad input, the control classifiers and the accuracy-matched
k-NN, the stratified test subset, the claim statistics on constructed curves, and the
speed of the new CNN against the old one (pytest-benchmark)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from tiny_data import write_tiny_mnist
from torch import nn

from sgdclaims.claims.linear_early.config import CASES
from sgdclaims.claims.linear_early.experiment import load_task
from sgdclaims.claims.linear_early.statistics import statistics
from sgdclaims.controls import control_predictions, matched_knn
from sgdclaims.data import Dataset, DatasetInfo
from sgdclaims.data.tasks import stratified_test
from sgdclaims.info import mutual_information
from sgdclaims.models import PaperCNN, seeded
from sgdclaims.runner import UnitResult, combine

TOL = 1e-12

# --- the paper's CNN -----------------------------------------------------------------------


def n_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_cnn_has_the_size_of_the_papers_model():
    """CLAIMS.md: on 28x28x1 the flattened features are 1x1x32 and the network has about
    0.1 M parameters; on 32x32x3 they are 2x2x32. Counted by hand for the referenced model:
    convs 320 + 3 x 9,248, dense 32 x 2000 + 2000, output 2000 x k + k."""
    mnist10, mnist2 = PaperCNN((1, 28, 28), 10), PaperCNN((1, 28, 28), 2)
    assert mnist10.flat_features == 32
    assert n_parameters(mnist10) == 320 + 3 * 9248 + 66_000 + 20_010 == 114_074
    assert n_parameters(mnist2) == 320 + 3 * 9248 + 66_000 + 4_002 == 98_066
    assert 0.08e6 < n_parameters(mnist2) < 0.12e6  # "about 0.1 M"
    cifar = PaperCNN((3, 32, 32), 10)
    assert cifar.flat_features == 128
    assert n_parameters(cifar) == 896 + 3 * 9248 + 128 * 2000 + 2000 + 20_010 == 306_650


def test_cnn_refuses_images_its_pools_cannot_take():
    with pytest.raises(ValueError, match=r"8x8 are too small.*at least 26x26"):
        PaperCNN((1, 8, 8), 2)
    PaperCNN((1, 26, 26), 2)(torch.zeros(1, 1, 26, 26))
    with pytest.raises(ValueError, match="image inputs"):
        PaperCNN((28, 28), 2)  # type: ignore[arg-type]


def test_pool_before_relu_is_the_same_function():
    """conv-pool-ReLU equals conv-ReLU-pool: outputs and gradients, on random inputs."""
    cnn = seeded(lambda: PaperCNN((1, 28, 28), 2), 0)
    f = cnn.features
    reference = nn.Sequential(f[0], nn.ReLU(), f[1], f[3], nn.ReLU(), f[4], *f[6:])
    x = torch.rand(8, 1, 28, 28)
    torch.testing.assert_close(cnn.features(x), reference(x), rtol=0, atol=0)


class OldCNN(nn.Module):
    """The model before issue 13: one pool after the first two convs (4.15 M parameters)."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 32, 3), nn.ReLU(), nn.Conv2d(32, 32, 3), nn.ReLU(), nn.Flatten(),
            nn.Linear(32 * 8 * 8, 2000), nn.ReLU(), nn.Linear(2000, 2),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


@pytest.mark.parametrize("which", ["new", "old"])
def test_bench_cnn_sgd_step(benchmark, which):
    """One SGD step at batch 64 on 28x28x1, the new CNN against the old (same group: the
    ratio is read off one run's table)."""
    torch.manual_seed(0)
    model = PaperCNN((1, 28, 28), 2) if which == "new" else OldCNN()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    x, y = torch.rand(64, 1, 28, 28), torch.randint(0, 2, (64,))

    def step() -> None:
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    benchmark.group = "paper CNN, SGD step, batch 64"
    benchmark.extra_info["parameters"] = n_parameters(model)
    benchmark.pedantic(step, rounds=5, iterations=2, warmup_rounds=1)


# --- configs and bad input -----------------------------------------------------------------


def test_fast_configs_explain_the_lr_and_resolve_the_early_phase():
    for dataset in CASES.datasets("fast"):
        cfg = CASES.config("fast", dataset)
        assert len(cfg.seeds) >= 3
        changes = {c.field: c for c in CASES.changes("fast", dataset)}
        assert "lr" in changes and changes["lr"].why
        if dataset != "sinusoid_disc":
            assert "warm-up" in changes["lr"].why
            assert cfg.n_test is None or cfg.n_test >= 2000


def test_full_configs_are_the_papers():
    for dataset in CASES.datasets("full"):
        cfg = CASES.config("full", dataset)
        assert (cfg.lr, cfg.batch_size, cfg.require_full, cfg.model) == (1e-3, 64, True, "cnn")
        assert cfg.epochs == (100 if dataset == "cifar10" else 50)
        assert len(cfg.seeds) == 10


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"dataset": "svhn"}, "dataset"),
        ({"groups": ((0, 1), ())}, "groups"),
        ({"groups": ((0, 1), (1, 2))}, "groups"),
        ({"groups": ((0,), (10,))}, "groups"),
        ({"n_test": 99}, "n_test"),
        ({"n_train": 0}, "n_train"),
        ({"model": "vit"}, "model"),
        ({"lr": 0.0}, "lr"),
        ({"lr": float("nan")}, "lr"),
        ({"epochs": -1.0}, "epochs"),
        ({"early_every": 0}, "early_every"),
        ({"n_log": -1}, "n_log"),
        ({"seeds": (1, 1)}, "seeds"),
        ({"mlp_hidden": (0,)}, "mlp_hidden"),
    ],
)
def test_bad_config_names_the_field(changes, field):
    with pytest.raises(ValueError, match=field):
        CASES.config("fast", "mnist").replace(**changes)


def test_a_group_naming_a_class_the_data_set_lacks_fails_before_training(tmp_path):
    write_tiny_mnist(tmp_path, n_train=300, n_test=300)
    cfg = CASES.config("full", "mnist").smoke()
    with pytest.raises(ValueError, match=r"groups name classes \[10\] outside 0..9"):
        cfg.replace(groups=((0, 1), (5, 10)))


def test_too_few_test_images_fail_before_training(tmp_path):
    write_tiny_mnist(tmp_path, n_train=300, n_test=60)
    with pytest.raises(ValueError, match="fewer than the 100"):
        load_task(CASES.config("full", "mnist").smoke(), tmp_path)


def test_a_side_missing_from_the_data_fails_before_training(tmp_path):
    write_tiny_mnist(tmp_path, n_train=300, n_test=300, classes=5)
    with pytest.raises(ValueError, match="empty"):
        load_task(CASES.config("full", "mnist").smoke(), tmp_path)


# --- controls, the k-NN and the stratified test subset ----------------------------------------


@given(n=st.integers(20, 300), k=st.integers(2, 4), acc=st.floats(0, 1), seed=st.integers(0, 99))
def test_control_has_the_per_class_accuracy_of_l(n, k, acc, seed):
    rng = np.random.default_rng(seed)
    y = torch.from_numpy(rng.integers(0, k, n))
    l_pred = torch.where(torch.from_numpy(rng.random(n) > acc), (y + 1) % k, y)
    control = control_predictions(y, l_pred, seed, k)
    assert torch.equal(control, control_predictions(y, l_pred, seed, k))
    for c in range(k):
        members = y == c
        assert int((control[members] == c).sum()) == int((l_pred[members] == c).sum())
    if k == 2:
        assert math.isclose(
            float(mutual_information(control, y)), float(mutual_information(l_pred, y)), abs_tol=TOL
        )


def test_control_predictions_keep_each_checkpoints_confusion_matrix():
    rng = np.random.default_rng(0)
    y = torch.from_numpy(rng.integers(0, 2, 500))
    preds = torch.stack([torch.where(torch.from_numpy(rng.random(500) < p), 1 - y, y)
                         for p in (0.5, 0.2, 0.05)])  # fmt: skip
    out = torch.stack([control_predictions(y, row, 3 + t, 2) for t, row in enumerate(preds)])
    assert out.shape == preds.shape and not torch.equal(out, preds)
    for row, ref in zip(out, preds):
        for c in (0, 1):
            assert int((row[y == c] == c).sum()) == int((ref[y == c] == c).sum())


def test_matched_knn_hits_the_target_accuracy_when_it_can():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(3000, 2, generator=gen)
    y = (x[:, 0] * x[:, 1] > 0).long()  # XOR: a k-NN learns it, a linear model cannot
    pred, chosen = matched_knn(x[:2000], y[:2000], x[2000:], y[2000:], target=0.8)
    assert abs(chosen["knn_acc"] - 0.8) <= 0.01
    assert chosen["knn_acc"] == pytest.approx((pred == y[2000:]).float().mean().item())


def _labelled(n: int, classes: int) -> Dataset:
    y = torch.arange(n) % classes
    info = DatasetInfo("t", "t", "test", False, True, n, n, (1,), tuple(map(str, range(classes))))
    return Dataset(torch.zeros(n, 1), y, torch.arange(n, dtype=torch.float32)[:, None], y, info)


def test_stratified_test_keeps_class_shares_and_the_training_split():
    data = _labelled(1000, 10)
    data = Dataset(data.x_train, data.y_train, data.x_test[:970], data.y_test[:970], data.info)
    cut = stratified_test(data, 200, seed=1)
    counts = torch.bincount(cut.y_test, minlength=10)
    assert int(counts.sum()) == 200 and int(counts.max() - counts.min()) <= 1
    assert torch.equal(cut.x_train, data.x_train) and cut.info.subset
    assert torch.equal(stratified_test(data, 200, seed=1).x_test, cut.x_test)
    assert stratified_test(data, None).y_test is data.y_test


# --- statistics on constructed curves ---------------------------------------------------------


def _pad(curve, length: int = 41) -> np.ndarray:
    """A curve continued at its last value to `length` checkpoints (steps 0, 10, ..., 400)."""
    curve = np.asarray(curve, dtype=np.float64)
    return np.concatenate([curve, np.full(length - len(curve), curve[-1])])


def _fake_result(i_fy, mu, i_ly: float = 0.5, acc=None):
    """A Result with given per-seed curves (rows: seeds; continued at their last value to 41
    checkpoints) for the statistic functions; every control column is zero."""
    cfg = CASES.config("fast", "mnist").replace(seeds=tuple(range(len(i_fy))))
    units = {}
    for seed, (a, b) in enumerate(zip(i_fy, mu)):
        a, b = _pad(a), _pad(b)
        zeros = np.zeros(len(a))
        frame = pd.DataFrame(
            {
                "step": np.arange(len(a)) * 10,
                "I_FY": a,
                "mu_L": b,
                "test_acc": zeros + 0.9 if acc is None else acc[seed],
                "s_test_acc": zeros + 0.85,
                "n_predicted": zeros + 2,
                "s_n_predicted": zeros + 2,
                "train_acc": zeros + 1.0,
                **{
                    c: zeros
                    for c in ("mu_control", "mu_knn", "I_LY_given_F", "H_Y_given_F", "I_SY_given_L")
                },
            }
        )
        scalars = {
            "I_LY": i_ly,
            "l_acc": 0.85,
            "knn_acc": 0.85,
            "knn_k": 5.0,
            "knn_references": 500.0,
            "n_test": 2000.0,
            "l_iterations": 10.0,
            "f_diverged_at": -1.0,
            "s_diverged_at": -1.0,
        }
        units[seed] = UnitResult(frames={"curves": frame}, scalars=scalars)
    return combine(cfg, "key", list(units), units, 0.0, 0)


def test_early_explained_is_per_seed_on_its_own_window():
    # window 0.1-0.4 bits; seed 1 leaves the warm-up later than seed 0
    res = _fake_result(
        [[0, 0.2, 0.3, 0.6, 0.6, 0.6], [0, 0, 0.2, 0.35, 0.6, 0.6]],
        [[0, 0.1, 0.3, 0.5, 0.5, 0.5], [0, 0, 0.2, 0.35, 0.5, 0.5]],
    )
    values = statistics(res)
    assert values["early_explained"].per_seed == pytest.approx((0.5, 1.0))
    assert values["window_points"].per_seed == (2, 2)
    assert values["control_gap"].per_seed == pytest.approx((0.5, 1.0))


def test_an_empty_window_is_nan_and_counts_zero_points():
    values = statistics(_fake_result([[0, 0.45, 0.6, 0.6, 0.6]], [[0, 0.45, 0.5, 0.5, 0.5]]))
    assert math.isnan(values["early_explained"].value)
    assert values["window_points"].value == 0


def test_final_statistics_use_the_last_5_percent():
    # 41 checkpoints, steps 0..400: the last 5% are steps >= 380 (three checkpoints)
    t = np.arange(41)
    i_fy = np.where(t >= 38, 0.8, 0.6)
    mu = np.where(t >= 38, 0.4, np.minimum(t / 10, 0.45))
    acc = [np.where(t >= 38, 0.95, 0.9)]
    values = statistics(_fake_result([i_fy], [mu], i_ly=0.5, acc=acc))
    assert values["outgrows_linear"].value == pytest.approx(0.4)
    assert values["retained"].value == pytest.approx(0.8)
    assert values["retention_drop"].value == pytest.approx(0.1)
    assert values["outgrown"].value == pytest.approx(0.10)
    assert values["fits_training_set"].value == 1.0 and values["alive"].value == 1.0
