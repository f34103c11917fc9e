"""Unit tests of sgdclaims.linearise (iterative linearisation, Goldwaser & Ge Alg. 1), the
LeNet-5 variant and the iterative_linearisation experiment's configs and statistics."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from sgdclaims import linearise as L
from sgdclaims.claims.iterative_linearisation import readout
from sgdclaims.claims.iterative_linearisation.config import CASES
from sgdclaims.claims.iterative_linearisation.experiment import load_data
from sgdclaims.claims.iterative_linearisation.readout import (
    median_window,
    upward_closed,
    window_ratios,
)
from sgdclaims.claims.iterative_linearisation.spec import SPEC
from sgdclaims.data.dataset import Dataset, DatasetInfo
from sgdclaims.models.lenet import LeNet50
from sgdclaims.models.seeding import seeded
from sgdclaims.training import batch_order
from sgdclaims.values import Value
from sgdclaims.verdicts import ClaimMiss, enforce, evaluate


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
    fn = L.model_fn(net, ds.x_train)
    point = L.model_params(net)
    gen = torch.Generator().manual_seed(1)
    theta = {
        k: v + 0.05 * torch.randn(v.shape, generator=gen, dtype=v.dtype) for k, v in point.items()
    }
    lin = L.Linearisation(net, point, ds.x_train, None)
    _, u = L.cross_entropy_and_grad(lin.output + lin.tangent(L.sub(theta, point)), ds.y_train)
    grad = lin.pullback(u)

    def loss(params):
        return float(F.cross_entropy(L.linearised_logits(fn, point, params), ds.y_train))

    eps = 1e-6
    for trial in range(4):
        d = {k: torch.randn(v.shape, generator=gen, dtype=v.dtype) for k, v in theta.items()}
        plus = loss({k: theta[k] + eps * d[k] for k in theta})
        minus = loss({k: theta[k] - eps * d[k] for k in theta})
        analytic = sum(float((grad[k] * d[k]).sum()) for k in theta)
        assert analytic == pytest.approx((plus - minus) / (2 * eps), rel=1e-6, abs=1e-9), trial


def test_tangent_program_equals_jvp_for_any_batch_and_pullback_equals_reverse_mode():
    ds = synthetic(5)
    net = tiny_net(3)
    fn = L.model_fn(net, ds.x_train)
    point = L.model_params(net)
    delta = {k: torch.randn_like(v) for k, v in point.items()}
    lin = L.Linearisation(net, point, ds.x_train, None)
    out, expected = torch.func.jvp(fn, (point,), (delta,))
    torch.testing.assert_close(lin.tangent(delta), expected)
    torch.testing.assert_close(lin.output, out)
    u = torch.randn_like(lin.output)
    params = {k: v.clone().requires_grad_(True) for k, v in point.items()}
    reverse = torch.autograd.grad(L.linearised_logits(fn, point, params), list(params.values()), u)
    for k, g in zip(params, reverse):
        torch.testing.assert_close(lin.pullback(u)[k], g)
    # the traced program serves another point and another batch of the same shape
    moved = {k: v + 0.1 * delta[k] for k, v in point.items()}
    other = L.Linearisation(net, moved, ds.x_test, lin.program)
    want = torch.func.jvp(L.model_fn(net, ds.x_test), (moved,), (delta,))[1]
    torch.testing.assert_close(other.tangent(delta), want)
    saved = lin.program.primal(moved, ds.x_test)
    torch.testing.assert_close(lin.program.output(saved), net_out(net, moved, ds.x_test))
    with pytest.raises(ValueError, match="traced for inputs"):
        lin.program.primal(moved, ds.x_test[:2])


def net_out(net, params, x):
    return torch.func.functional_call(net, params, (x,))


def test_programs_serve_one_architecture():
    programs = L.TangentPrograms()
    ds = synthetic(4)
    a, b = tiny_net(0), tiny_net(1)
    first = programs(a, L.model_params(a), ds.x_train)
    assert programs(b, L.model_params(b), ds.x_train) is first
    assert programs(a, L.model_params(a), ds.x_test[:2]) is not first
    other = seeded(lambda: LeNet50((1, 16, 16), 3, channels=4, dense=(8, 6)), 0).double()
    with pytest.raises(ValueError, match="one architecture"):
        programs(other, L.model_params(other), ds.x_train)


def test_k1_is_plain_gradient_descent_and_k2_is_not():
    ds = synthetic(8)
    errs = L.gd_agreement(tiny_net(1), ds, lr=0.5, steps=10)
    assert errs[1.0] < 1e-12 < 1e-8 < errs[2.0]


def test_fixed_features_is_one_linear_model():
    ds = synthetic(6)
    net = tiny_net(2)
    fn = L.model_fn(net, ds.x_train)
    point = L.model_params(net)
    run = L.train_linearised(net, ds, period=math.inf, steps=5, lr=0.3, checkpoints=[5])
    theta = dict(point)
    for _ in range(5):
        params = {k: v.clone().requires_grad_(True) for k, v in theta.items()}
        loss = F.cross_entropy(L.linearised_logits(fn, point, params), ds.y_train)
        grads = torch.autograd.grad(loss, list(params.values()))
        theta = {k: theta[k] - 0.3 * g for k, g in zip(theta, grads)}
    assert L.rel_err(run.params, theta) < 1e-10
    # test accuracy is that of the linearised model (chunked, primal values reused)
    logits = L.linearised_logits(L.model_fn(net, ds.x_test), point, theta)
    chunked = L.train_linearised(net, ds, period=math.inf, steps=5, lr=0.3, checkpoints=[5],
                                 eval_chunk=4)  # fmt: skip
    want = (logits.argmax(1) == ds.y_test).double().mean().item()
    assert chunked.test_acc[-1] == pytest.approx(want)


def test_minibatch_k1_is_sgd_on_the_same_batches():
    ds = synthetic(8)
    net = tiny_net(4)
    run = L.train_linearised(
        net, ds, period=1, steps=4, lr=0.2, checkpoints=[4], batch_size=4, data_seed=7
    )
    ref = seeded(lambda: LeNet50((1, 16, 16), 3, channels=3, dense=(8, 6)), 4).double()
    for idx in batch_order(8, 4, 4, 7):
        grads = torch.autograd.grad(F.cross_entropy(ref(ds.x_train[idx]), ds.y_train[idx]),
                                    list(ref.parameters()))  # fmt: skip
        with torch.no_grad():
            for p, g in zip(ref.parameters(), grads):
                p.sub_(0.2 * g)
    assert L.rel_err(run.params, L.model_params(ref)) < 1e-12


def test_random_feature_control_changes_features_only_after_refresh():
    ds = synthetic(6)
    net = tiny_net(5)

    def other(window):
        return tiny_net(100 + window)

    kw = {"steps": 4, "lr": 0.3, "checkpoints": [2, 4], "control_factory": other}
    own = L.train_linearised(net, ds, period=math.inf, **kw)
    ctrl = L.train_linearised(net, ds, period=math.inf, features="random", **kw)
    np.testing.assert_allclose(own.train_loss, ctrl.train_loss)
    own2 = L.train_linearised(net, ds, period=2, **kw)
    ctrl2 = L.train_linearised(net, ds, period=2, features="random", **kw)
    np.testing.assert_allclose(own2.train_loss[:2], ctrl2.train_loss[:2])
    np.testing.assert_allclose(own2.test_acc[0], ctrl2.test_acc[0])
    assert not np.allclose(own2.train_loss[2:], ctrl2.train_loss[2:])
    # the control keeps the function: the loss just after a refresh continues the window's
    assert abs(ctrl2.train_loss[2] - ctrl2.train_loss[1]) < 0.5


def test_divergence_stops_the_run_and_fails_what_follows():
    ds = synthetic(6)
    run = L.train_linearised(
        tiny_net(), ds, period=math.inf, steps=30, lr=1e4, checkpoints=[0, 10, 30], check_every=5
    )
    assert run.diverged_at >= 0
    assert np.isfinite(run.train_loss[: run.diverged_at]).all()
    assert np.isnan(run.train_loss[run.diverged_at + 1 :]).all()
    assert np.isnan(run.test_acc[-1]) and not np.isnan(run.test_acc[0])


def test_sharpness_is_the_top_eigenvalue_of_the_linearised_hessian():
    ds = synthetic(5, classes=2)
    net = seeded(lambda: LeNet50((1, 16, 16), 2, channels=1, dense=(3, 2)), 0).double()
    point = L.model_params(net)
    lin = L.Linearisation(net, point, ds.x_train, None)
    zero = {k: torch.zeros_like(v) for k, v in point.items()}
    value, _ = L.ggn_sharpness(lin, zero, iters=300)
    names = list(point)
    flat = torch.cat([point[k].flatten() for k in names])

    def loss(v):
        parts, i = {}, 0
        for k in names:
            parts[k] = v[i : i + point[k].numel()].view_as(point[k])
            i += point[k].numel()
        logits = L.linearised_logits(L.model_fn(net, ds.x_train), point, parts)
        return F.cross_entropy(logits, ds.y_train)

    dense = torch.linalg.eigvalsh(torch.autograd.functional.hessian(loss, flat))
    assert float(value) == pytest.approx(float(dense[-1]), rel=1e-6)


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
    with pytest.raises(ValueError, match="cannot linearise"):
        L.train_linearised(model, synthetic(4, classes=2), period=1, steps=1, lr=0.1,
                           checkpoints=[0])  # fmt: skip


def test_refresh_schedule_and_labels():
    assert [L.is_refresh(s, 3) for s in range(7)] == [1, 0, 0, 1, 0, 0, 1]
    assert [L.is_refresh(s, math.inf) for s in range(4)] == [1, 0, 0, 0]
    assert [L.k_label(k) for k in (1, 10.0, math.inf)] == ["1", "10", "inf"]


def test_lenet_shapes_and_errors():
    assert LeNet50((1, 28, 28), 10)(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    assert LeNet50((3, 32, 32), 10)(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    assert LeNet50((1, 16, 16), 10)(torch.zeros(2, 1, 16, 16)).shape == (2, 10)
    net = LeNet50((1, 28, 28), 10)
    assert net.conv1.out_channels == net.conv2.out_channels == 50
    with pytest.raises(ValueError, match="too small"):
        LeNet50((1, 12, 12), 10)
    with pytest.raises(ValueError, match="num_classes"):
        LeNet50((1, 28, 28), 1)


def test_window_ratios_median_and_nan():
    step = np.concatenate([np.exp(-np.arange(10)) + 2, np.exp(-np.arange(10)) + 1,
                           np.exp(-np.arange(10))])  # fmt: skip
    ratios = window_ratios(step, 10)
    assert len(ratios) == 2 and (ratios < 0.25).all()
    assert median_window(window_ratios(np.linspace(3, 0, 30), 10)) == pytest.approx(1.0)
    diverged = step.copy()
    diverged[25:] = np.nan
    assert math.isnan(median_window(window_ratios(diverged, 10)))


def test_upward_closed():
    div = {1.0: [False, False], 10.0: [True, False], math.inf: [True, True]}
    np.testing.assert_array_equal(upward_closed(div), [1.0, 1.0])
    div[100.0] = [False, True]
    np.testing.assert_array_equal(upward_closed(div), [0.0, 1.0])
    div[1.0] = [True, True]
    np.testing.assert_array_equal(upward_closed(div), [0.0, 0.0])
    np.testing.assert_array_equal(upward_closed({1.0: [False], 10.0: [False]}), [0.0])


def test_a_nan_gap_fails_k_insensitive():
    """A diverged K = 100 (NaN final accuracy) must fail the statistic whichever K comes first
    (the old max() dropped a NaN that was not first)."""
    ref = np.array([80.0, 81.0])
    acc = {10.0: np.array([80.2, 81.1]), 100.0: np.array([80.1, math.nan])}
    value = readout.accuracy_gap(acc, (10, 100), ref, "note")
    assert math.isnan(value.value) and math.isnan(value.per_seed[1])
    values = {"k_insensitive": value, "k_insensitive_control": Value(5.0)}
    outcome = evaluate(SPEC, "k_insensitive", values, dataset="mnist")
    with pytest.raises(ClaimMiss):
        enforce(outcome)


def test_the_full_config_is_the_papers_step_in_mean_loss_units():
    """Sec. 3 / App. A eq. 5 has no 1/n: eta 1e-5 per example on a summed loss is lr 0.6 on
    MNIST's 60,000 images with the mean loss the code uses (and 6 at eta 1e-4)."""
    cfg = CASES.config("full", "mnist")
    assert cfg.eta == 1e-5 and cfg.unstable_eta == 1e-4
    assert cfg.lr(60_000) == pytest.approx(0.6)
    assert cfg.lr(60_000, cfg.unstable_eta) == pytest.approx(6.0)
    assert CASES.config("full", "cifar10").lr(50_000) == pytest.approx(0.5)
    fast = CASES.config("fast", "mnist")
    assert fast.lr(fast.n_train) == pytest.approx(0.01)


@pytest.mark.parametrize(
    ("field", "value"),
    [("eta", 0.0), ("periods", (10, 100, math.inf)), ("periods", (1, 0)),
     ("control_periods", (7,)), ("seeds", ()), ("n_train", -3), ("dataset", "imagenet"),
     ("unstable_periods", (1, -2)), ("side", 12), ("staircase_period", math.inf),
     ("unstable_seeds", ())],
)  # fmt: skip
def test_config_validation_names_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        CASES.config("fast", "mnist").replace(**{field: value})


def test_fast_configs_follow_claims_md():
    for dataset in CASES.datasets("fast"):
        cfg = CASES.config("fast", dataset)
        assert cfg.n_train >= 128 and cfg.n_test >= 2000 and len(cfg.seeds) >= 2
        assert cfg.steps >= 1500 and cfg.staircase_period >= 300
        assert cfg.steps >= 3 * cfg.staircase_period
    assert "fashion_mnist" in CASES.datasets("full")


def test_n_train_beyond_the_data_set_names_both(tmp_path):
    from tiny_data import write_tiny_mnist

    write_tiny_mnist(tmp_path, 60, 40)
    cfg = CASES.config("full", "mnist").replace(n_train=100)
    with pytest.raises(ValueError, match="n_train 100 exceeds the 60 training images"):
        load_data(cfg, tmp_path)
    data = load_data(cfg.replace(n_train=20, n_test=30, side=16, standardise=True), tmp_path)
    assert data.x_train.shape == (20, 1, 16, 16) and len(data.x_test) == 30
    assert torch.bincount(data.y_train, minlength=10).tolist() == [2] * 10
    assert abs(float(data.x_train.mean())) < 1e-5
