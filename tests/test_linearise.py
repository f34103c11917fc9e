"""Unit tests of sgdclaims.linearise (iterative linearisation, Goldwaser & Ge Alg. 1), the
LeNet-5 variant and the iterative_linearisation experiment's configs and statistics."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from sgdclaims import linearise as L
from sgdclaims.data.registry import Dataset, DatasetInfo
from sgdclaims.experiments import iterative_linearisation as exp
from sgdclaims.models.lenet import LeNet50
from sgdclaims.models.seeding import seeded
from sgdclaims.training import batch_order


def synthetic(n: int, shape=(1, 16, 16), classes: int = 3, seed: int = 0, dtype=torch.float64):
    """A named synthetic image task (random pixels, random labels) for unit tests."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand((2 * n, *shape), generator=gen, dtype=dtype)
    y = torch.randint(0, classes, (2 * n,), generator=gen)
    info = DatasetInfo(
        name="synthetic_images", display="synthetic random images", source="synthetic",
        subset=False, synthetic=True, n_train=n, n_test=n, shape=shape,
        classes=tuple(str(c) for c in range(classes)),
    )  # fmt: skip
    return Dataset(x[:n], y[:n], x[n:], y[n:], info)


def tiny_net(seed: int = 0, shape=(1, 16, 16), classes: int = 3) -> nn.Module:
    return seeded(lambda: LeNet50(shape, classes, channels=3, dense=(8, 6)), seed).double()


def test_linearised_gradient_matches_finite_differences():
    ds = synthetic(6)
    net = tiny_net()
    fn = L._model_fn(net, ds.x_train)
    point = L.model_params(net)
    gen = torch.Generator().manual_seed(1)
    theta = {
        k: v + 0.05 * torch.randn(v.shape, generator=gen, dtype=v.dtype) for k, v in point.items()
    }
    lin = L.Linearisation(fn, point)
    logits = lin.output + lin.tangent(L._sub(theta, point))
    _, u = L.cross_entropy_and_grad(logits, ds.y_train)
    grad = lin.pullback(u)

    def loss(params):
        return float(F.cross_entropy(L.linearised_logits(fn, point, params), ds.y_train))

    eps = 1e-6
    for trial in range(4):
        d = {k: torch.randn(v.shape, generator=gen, dtype=v.dtype) for k, v in theta.items()}
        plus = loss({k: theta[k] + eps * d[k] for k in theta})
        minus = loss({k: theta[k] - eps * d[k] for k in theta})
        fd = (plus - minus) / (2 * eps)
        analytic = sum(float((grad[k] * d[k]).sum()) for k in theta)
        assert analytic == pytest.approx(fd, rel=1e-6, abs=1e-9), trial


def test_tangent_program_equals_jvp_and_pullback_equals_reverse_mode():
    ds = synthetic(5)
    net = tiny_net(3)
    fn = L._model_fn(net, ds.x_train)
    point = L.model_params(net)
    delta = {k: torch.randn_like(v) for k, v in point.items()}
    lin = L.Linearisation(fn, point)
    _, expected = torch.func.jvp(fn, (point,), (delta,))
    torch.testing.assert_close(lin.tangent(delta), expected)
    u = torch.randn_like(lin.output)
    params = {k: v.clone().requires_grad_(True) for k, v in point.items()}
    out = L.linearised_logits(fn, point, params)
    reverse = torch.autograd.grad(out, list(params.values()), u)
    for k, g in zip(params, reverse):
        torch.testing.assert_close(lin.pullback(u)[k], g)
    moved = {k: v + 0.1 * delta[k] for k, v in point.items()}
    other = L.Linearisation(fn, moved, lin.program)
    torch.testing.assert_close(other.tangent(delta), torch.func.jvp(fn, (moved,), (delta,))[1])


def test_k1_is_plain_gradient_descent():
    ds = synthetic(8)
    net = tiny_net(1)
    ref = L.train_plain_gd(net, ds.x_train, ds.y_train, steps=10, lr=0.5)
    run = L.train_linearised(net, ds, period=1, steps=10, lr=0.5, checkpoints=[0, 10])
    assert exp._rel_err(run.params, ref) < 1e-12
    two = L.train_linearised(net, ds, period=2, steps=10, lr=0.5, checkpoints=[10])
    assert exp._rel_err(two.params, ref) > 1e-8


def test_fixed_features_is_one_linear_model():
    ds = synthetic(6)
    net = tiny_net(2)
    fn = L._model_fn(net, ds.x_train)
    point = L.model_params(net)
    run = L.train_linearised(net, ds, period=math.inf, steps=5, lr=0.3, checkpoints=[5])
    theta = dict(point)
    for _ in range(5):
        params = {k: v.clone().requires_grad_(True) for k, v in theta.items()}
        loss = F.cross_entropy(L.linearised_logits(fn, point, params), ds.y_train)
        grads = torch.autograd.grad(loss, list(params.values()))
        theta = {k: theta[k] - 0.3 * g for k, g in zip(theta, grads)}
    assert exp._rel_err(run.params, theta) < 1e-10


def test_minibatch_k1_is_sgd_on_the_same_batches():
    ds = synthetic(8)
    net = tiny_net(4)
    run = L.train_linearised(
        net, ds, period=1, steps=4, lr=0.2, checkpoints=[4], batch_size=4, data_seed=7
    )
    ref = seeded(lambda: LeNet50((1, 16, 16), 3, channels=3, dense=(8, 6)), 4).double()
    for idx in batch_order(8, 4, 4, 7):
        loss = F.cross_entropy(ref(ds.x_train[idx]), ds.y_train[idx])
        grads = torch.autograd.grad(loss, list(ref.parameters()))
        with torch.no_grad():
            for p, g in zip(ref.parameters(), grads):
                p.sub_(0.2 * g)
    assert exp._rel_err(run.params, L.model_params(ref)) < 1e-12


def test_random_feature_control_changes_features_only_after_refresh():
    ds = synthetic(6)
    net = tiny_net(5)

    def other(window):
        return tiny_net(100 + window)

    own = L.train_linearised(net, ds, period=math.inf, steps=4, lr=0.3, checkpoints=[4])
    ctrl = L.train_linearised(
        net, ds, period=math.inf, steps=4, lr=0.3, checkpoints=[4], features="random",
        control_factory=other,
    )  # fmt: skip
    np.testing.assert_allclose(own.train_loss, ctrl.train_loss)
    ctrl2 = L.train_linearised(
        net, ds, period=2, steps=4, lr=0.3, checkpoints=[4], features="random",
        control_factory=other,
    )  # fmt: skip
    own2 = L.train_linearised(net, ds, period=2, steps=4, lr=0.3, checkpoints=[4])
    np.testing.assert_allclose(own2.train_loss[:2], ctrl2.train_loss[:2])
    assert not np.allclose(own2.train_loss[2:], ctrl2.train_loss[2:])
    # the control keeps the function: the loss just after a refresh continues the window's
    assert abs(ctrl2.train_loss[2] - ctrl2.train_loss[1]) < 0.5


def test_divergence_stops_the_run():
    ds = synthetic(6)
    run = L.train_linearised(tiny_net(), ds, period=math.inf, steps=30, lr=1e4, checkpoints=[0])
    assert run.diverged_at >= 0
    assert np.isnan(run.train_loss[run.diverged_at + 1 :]).all()


@pytest.mark.parametrize("period", [0, -1, 2.5, math.nan, True, "10"])
def test_bad_period_is_refused(period):
    with pytest.raises(ValueError, match="period K"):
        L.check_period(period)


@pytest.mark.parametrize(
    "layer", [nn.BatchNorm2d(3), nn.Dropout(0.1), nn.Dropout2d(0.1), nn.InstanceNorm2d(3, True)]
)
def test_stateful_or_random_modules_are_refused(layer):
    model = nn.Sequential(nn.Conv2d(1, 3, 3), layer, nn.Flatten(), nn.LazyLinear(2))
    with pytest.raises(ValueError, match="cannot linearise"):
        L.check_linearisable(model)
    ds = synthetic(4, classes=2)
    with pytest.raises(ValueError, match="cannot linearise"):
        L.train_linearised(model, ds, period=1, steps=1, lr=0.1, checkpoints=[0])


def test_refresh_schedule():
    assert [L.is_refresh(s, 3) for s in range(7)] == [1, 0, 0, 1, 0, 0, 1]
    assert [L.is_refresh(s, math.inf) for s in range(4)] == [1, 0, 0, 0]


def test_lenet_shapes_and_errors():
    assert LeNet50((1, 28, 28), 10)(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    assert LeNet50((3, 32, 32), 10)(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    net = LeNet50((1, 28, 28), 10)
    assert net.conv1.out_channels == net.conv2.out_channels == 50
    with pytest.raises(ValueError, match="too small"):
        LeNet50((1, 12, 12), 10)
    with pytest.raises(ValueError, match="num_classes"):
        LeNet50((1, 28, 28), 1)


def test_window_ratios():
    staircase = np.concatenate([np.exp(-np.arange(10)) + 1, np.exp(-np.arange(10))])
    assert window_max(staircase, 10) < 0.25
    assert window_max(np.linspace(2, 0, 20), 10) == pytest.approx(1.0)


def window_max(loss, period):
    return exp.window_ratios(loss, period).max()


def test_unstable_pattern():
    div = {
        1.0: np.array([False, False]),
        10.0: np.array([True, False]),
        math.inf: np.array([True, True]),
    }
    np.testing.assert_array_equal(exp.unstable_pattern(div), [1.0, 1.0])
    div[100.0] = np.array([False, True])
    np.testing.assert_array_equal(exp.unstable_pattern(div), [0.0, 1.0])
    div[1.0] = np.array([True, True])
    np.testing.assert_array_equal(exp.unstable_pattern(div), [0.0, 0.0])


@pytest.mark.parametrize(
    ("field", "value"),
    [("lr", 0.0), ("periods", (10, 100)), ("periods", (1, 0)), ("control_periods", (7,)),
     ("seeds", ()), ("n_train", -3), ("dataset", "imagenet"), ("unstable_periods", (1, -2))],
)  # fmt: skip
def test_config_validation_names_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        exp.config("fast", "mnist").replace(**{field: value})


@pytest.mark.parametrize(("scale", "dataset"), [("fast", "mnist"), ("fast", "fashion_mnist")])
def test_fast_configs_explain_every_change(scale, dataset):
    cfg = exp.config(scale, dataset)
    missing = [f for f in cfg.paper_differences() if not cfg.WHY.get(f)]
    assert not missing


@pytest.mark.parametrize("dataset", ["mnist", "cifar10"])
def test_full_config_smoke_runs_on_cpu(dataset, tmp_path):
    cfg = exp.config("full", dataset).smoke()
    shape = (1, 28, 28) if dataset == "mnist" else (3, 32, 32)
    data = dataclasses.replace(synthetic(cfg.n_train, shape, 10, dtype=torch.float32))
    result = exp.run(cfg, data=data, cache_root=tmp_path, progress=False)
    accs = exp.final_accuracy(result)
    assert set(accs) == {float(k) for k in cfg.periods}
    assert set(exp.k_gaps(result, (4.0,), control=True)) == {4.0}
    assert result.scalars["k1_rel_err"].dropna().max() < 1e-6
    assert len(exp.staircase(result, cfg.largest_finite_period())) == len(cfg.seeds)
    assert set(exp.diverged(result, cfg.unstable_lr)) == {float(k) for k in cfg.unstable_periods}
