"""Unit tests of sgdclaims.linearise (iterative linearisation, Goldwaser & Ge Alg. 1, a group
of runs in one computation) and the LeNet-5 variant and its written-out maps; the claim's
config, readout and constructed results are in test_linearise_claim."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn
from torch.func import functional_call, jacrev, jvp, vjp
from torch.nn import functional as F

from sgdclaims import linearise as L
from sgdclaims.data.dataset import Dataset, DatasetInfo
from sgdclaims.models.lenet import LeNet50, LeNetGroup
from sgdclaims.models.seeding import seeded
from sgdclaims.training import RULES

SHAPE = (1, 16, 16)


def synthetic(n: int, shape=SHAPE, classes: int = 3, seed: int = 0, dtype=torch.float64):
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


def tiny_net(seed: int = 0, shape=SHAPE, classes: int = 3, dtype=torch.float64) -> nn.Module:
    net = seeded(lambda: LeNet50(shape, classes, channels=3, dense=(8, 6)), seed)
    return net.to(dtype)


def members(lr: float = 0.5, marks=(0, 5, 12), dtype=torch.float64) -> list[L.Member]:
    """Two seeds at K = 1, 2, 5, inf and a random-feature control at K = 5."""
    out = []
    for seed in (0, 1):
        p = L.model_params(tiny_net(seed, dtype=dtype))
        for k in (1, 2, 5, math.inf):
            out.append(L.Member(p, k, lr, marks, (marks[-1],), (0, marks[-1])))

        def draw(window: int, seed: int = seed) -> L.Params:
            return L.model_params(tiny_net(100 * seed + window, dtype=dtype))

        out.append(L.Member(p, 5, lr, marks, random_point=draw))
    return out


def same(a: L.MemberRun, b: L.MemberRun, tol: float) -> None:
    np.testing.assert_allclose(a.train_loss, b.train_loss, rtol=tol, atol=tol)
    np.testing.assert_allclose(a.test_acc, b.test_acc)
    np.testing.assert_allclose(a.net_acc, b.net_acc)
    assert L.rel_err(a.params, b.params) < tol
    for step, value in a.sharpness.items():
        assert value == pytest.approx(b.sharpness[step], rel=tol)


@pytest.mark.parametrize(("shape", "n"), [((1, 16, 16), 5), ((1, 28, 28), 3), ((3, 17, 19), 2)])
def test_lenet_group_maps_equal_torch_func(shape, n):
    """LeNetGroup's logits, J delta, J^T u and J J^T equal torch.func on each LeNet50."""
    nets = [tiny_net(s, shape, classes=4) for s in range(3)]
    x = torch.randn(n, *shape, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    stack = L.stack([L.model_params(m) for m in nets])
    delta = {k: torch.randn_like(v) for k, v in stack.items()}
    group = LeNetGroup(shape)
    at = group.primal(stack, group.prepare(x))
    u = torch.randn_like(at.logits)
    tangent, pull, kernel = group.tangent(at, delta), group.pullback(at, u), group.kernel(at)
    for r, net in enumerate(nets):
        p, fn = L.member(stack, r), L.model_fn(net, x)
        out, tan = jvp(fn, (p,), ({k: delta[k][r] for k in p},))
        torch.testing.assert_close(at.logits[r], out)
        torch.testing.assert_close(tangent[r], tan)
        grads = vjp(fn, p)[1](u[r])[0]
        for k in grads:
            torch.testing.assert_close(pull[k][r], grads[k])
        jac = torch.cat([j.reshape(out.numel(), -1) for j in jacrev(fn)(p).values()], 1)
        torch.testing.assert_close(kernel[r], jac @ jac.T)


def test_batched_runs_equal_separate_runs_and_the_torch_func_family():
    """One group of every K, seed and the control equals each member run alone, and the
    torch.func reference family, to float rounding (float64 and float32)."""
    data = synthetic(8)
    group = L.train_group(LeNetGroup(SHAPE), members(), data, steps=12, eval_chunk=3)
    alone = [L.train_group(LeNetGroup(SHAPE), [m], data, steps=12)[0] for m in members()]
    module = L.train_group(L.ModuleFamily(tiny_net()), members(), data, steps=12)
    for a, b, c in zip(group, alone, module):
        same(a, b, 1e-12)
        same(a, c, 1e-12)
    data32 = synthetic(8, dtype=torch.float32)
    ms = members(dtype=torch.float32)
    group32 = L.train_group(LeNetGroup(SHAPE), ms, data32, steps=12)
    for m, run in zip(ms, group32):
        same(run, L.train_group(LeNetGroup(SHAPE), [m], data32, steps=12)[0], 1e-4)


def test_function_space_equals_parameter_space():
    data, ms = synthetic(8), [m for m in members() if m.period >= 5]
    param = L.train_group(LeNetGroup(SHAPE), ms, data, steps=12)
    function = L.train_group(LeNetGroup(SHAPE), ms, data, steps=12, kernel_from=5)
    for a, b in zip(param, function):
        same(a, b, 1e-10)


def test_function_space_only_from_a_finite_kernel_from():
    class NoKernel(LeNetGroup):
        def kernel(self, point):
            raise AssertionError("a tangent kernel was built")

    member = L.Member(L.model_params(tiny_net()), math.inf, 0.3, (0, 5))
    L.train_group(NoKernel(SHAPE), [member], synthetic(6), steps=5)
    with pytest.raises(AssertionError, match="tangent kernel"):
        L.train_group(NoKernel(SHAPE), [member], synthetic(6), steps=5, kernel_from=100)


def test_k1_is_plain_gradient_descent_and_k2_is_not():
    data, net = synthetic(8), tiny_net(1)
    for family in (LeNetGroup(SHAPE), L.ModuleFamily(net)):
        errs = L.gd_agreement(family, net, data, lr=0.5, steps=10)
        assert errs[1.0] < 1e-12 < 1e-8 < errs[2.0]


def test_fixed_features_is_one_linear_model():
    data, net = synthetic(6), tiny_net(2)
    point = L.model_params(net)
    run = L.train_group(LeNetGroup(SHAPE), [L.Member(point, math.inf, 0.3, (5,))], data, steps=5)[0]
    theta = dict(point)
    for _ in range(5):
        params = {k: v.clone().requires_grad_(True) for k, v in theta.items()}
        out, tan = jvp(L.model_fn(net, data.x_train), (point,), (L.sub(params, point),))
        grads = torch.autograd.grad(F.cross_entropy(out + tan, data.y_train), list(params.values()))
        theta = {k: theta[k] - 0.3 * g for k, g in zip(theta, grads)}
    assert L.rel_err(run.params, theta) < 1e-10
    out, tan = jvp(L.model_fn(net, data.x_test), (point,), (L.sub(theta, point),))
    want = ((out + tan).argmax(1) == data.y_test).double().mean().item()
    assert run.test_acc[-1] == pytest.approx(want)
    net_logits = functional_call(net, theta, (data.x_test,))
    assert math.isnan(run.net_acc[-1])  # the network's own accuracy only where asked for
    assert net_logits.shape == out.shape


def test_random_feature_control_changes_features_only_after_its_first_window():
    data, ms = synthetic(6), members()
    runs = L.train_group(LeNetGroup(SHAPE), ms, data, steps=12)
    own, control = runs[2], runs[4]  # seed 0, K = 5: own features and the control
    np.testing.assert_allclose(own.train_loss[:5], control.train_loss[:5])
    assert own.test_acc[0] == control.test_acc[0]
    assert not np.allclose(own.train_loss[5:], control.train_loss[5:])
    # the control keeps the function: its loss continues across the refresh
    assert abs(control.train_loss[5] - control.train_loss[4]) < 0.05


@pytest.mark.parametrize(("lr", "rule"), [(1e4, RULES[2]), (math.inf, RULES[1])])
def test_divergence_stops_the_run_with_the_rule_that_fired(lr, rule):
    data = synthetic(6)
    ms = [L.Member(L.model_params(tiny_net()), k, lr, (0, 10, 30)) for k in (1, math.inf)]
    for run in L.train_group(LeNetGroup(SHAPE), ms, data, steps=30, check_every=5):
        assert run.diverged == rule and run.diverged_at >= 0
        assert np.isfinite(run.train_loss[: run.diverged_at]).all()
        assert np.isnan(run.train_loss[run.diverged_at + 1 :]).all()
        assert np.isnan(run.test_acc[-1]) and not np.isnan(run.test_acc[0])


def test_a_diverged_member_leaves_the_others_unchanged():
    data = synthetic(6)
    p = L.model_params(tiny_net())
    ms = [L.Member(p, 2, 1e4, (0, 12)), L.Member(p, 2, 0.3, (0, 12))]
    runs = L.train_group(LeNetGroup(SHAPE), ms, data, steps=12, check_every=3)
    alone = L.train_group(LeNetGroup(SHAPE), ms[1:], data, steps=12)[0]
    assert runs[0].diverged and not runs[1].diverged
    same(runs[1], alone, 1e-12)


def test_sharpness_is_the_top_eigenvalue_of_the_linearised_hessian():
    data = synthetic(5, classes=2)
    net = seeded(lambda: LeNet50(SHAPE, 2, channels=1, dense=(3, 2)), 0).double()
    point = L.model_params(net)
    family = L.ModuleFamily(net)
    at = family.primal(L.stack([point]), data.x_train)
    value = L.ggn_sharpness(family, at, at.logits, iters=300)
    names = list(point)
    flat = torch.cat([point[k].flatten() for k in names])

    def loss(v):
        parts = dict(zip(names, torch.split(v, [point[k].numel() for k in names])))
        parts = {k: t.view_as(point[k]) for k, t in parts.items()}
        out, tan = jvp(L.model_fn(net, data.x_train), (point,), (L.sub(parts, point),))
        return F.cross_entropy(out + tan, data.y_train)

    dense = torch.linalg.eigvalsh(torch.autograd.functional.hessian(loss, flat))
    assert float(value[0]) == pytest.approx(float(dense[-1]), rel=1e-6)


def test_cross_entropy_and_grad_per_member():
    logits = torch.randn(3, 5, 4, dtype=torch.float64, requires_grad=True)
    y = torch.tensor([0, 3, 1, 1, 2])
    loss, grad = L.cross_entropy_and_grad(logits, y)
    want = torch.stack([F.cross_entropy(z, y) for z in logits])
    torch.testing.assert_close(loss, want.detach())
    torch.testing.assert_close(grad, torch.autograd.grad(want.sum(), logits)[0])


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
        L.ModuleFamily(model)


def test_refresh_schedule_labels_and_member_checks():
    assert [L.is_refresh(s, 3) for s in range(7)] == [1, 0, 0, 1, 0, 0, 1]
    assert [L.is_refresh(s, math.inf) for s in range(4)] == [1, 0, 0, 0]
    assert [L.k_label(k) for k in (1, 10.0, math.inf)] == ["1", "10", "inf"]
    p, data = L.model_params(tiny_net()), synthetic(4)
    for bad in (
        L.Member(p, 1, 0.1, (0, 9)),
        L.Member(p, 1, 0.1, (0,), (3,)),
        L.Member(p, 1, 0, (0,)),
    ):
        with pytest.raises(ValueError):
            L.train_group(LeNetGroup(SHAPE), [bad], data, steps=5)


def test_lenet_shapes_and_errors():
    for shape in ((1, 28, 28), (3, 32, 32), (1, 16, 16)):
        assert LeNet50(shape, 10)(torch.zeros(2, *shape)).shape == (2, 10)
    net = LeNet50((1, 28, 28), 10)
    assert net.conv1.out_channels == net.conv2.out_channels == 50
    with pytest.raises(ValueError, match="too small"):
        LeNet50((1, 12, 12), 10)
    with pytest.raises(ValueError, match="too small"):
        LeNetGroup((1, 12, 12))
    with pytest.raises(ValueError, match="num_classes"):
        LeNet50((1, 28, 28), 1)
