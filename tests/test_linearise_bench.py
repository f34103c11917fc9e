"""Speed of a batched linearised step against a plain gradient-descent step, as ratios within
one run (one pytest-benchmark group): LeNet-5 with 50 channels on the fast tier's full batch
(128 images, 16x16), a group of R = 4 members (two seeds at two steps, as one K's unit):

- a plain autograd GD step of one network (forward, backward);
- the group's step between refreshes (J delta, cross-entropy gradient, J^T u for every
  member; per member 0.71x a plain step, measured on one loaded core; alone 0.6x);
- the group's refresh step (every member's point rebuilt, then J^T u; 1.0x per member);
- the group's tangent kernel J J^T (every refresh of a function-space window; 26x per member
  in a group of 4, ~12x alone) and a function-space step (the kernel product; 0.05x).

Read the ratios off `pytest tests/test_linearise_bench.py --benchmark-only` (extra_info holds
the members); with `--benchmark-disable` each runs once and only its result is checked.
"""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from sgdclaims import linearise as L
from sgdclaims.models.lenet import LeNet50, LeNetGroup
from sgdclaims.models.seeding import seeded

N, R, SHAPE = 128, 4, (1, 16, 16)
GROUP = f"one full-batch step, LeNet-5 (50 channels), n = {N} at 16x16; groups of {R}"


@pytest.fixture(scope="module")
def setup():
    """A model, the batch, a group of R members at a point and moved from it."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(N, *SHAPE, generator=gen)
    y = torch.randint(0, 10, (N,), generator=gen)
    nets = [seeded(lambda: LeNet50(SHAPE, 10), s) for s in range(R // 2)]
    theta = L.stack([L.model_params(m) for m in nets for _ in range(2)])
    moved = {k: v + 1e-3 * torch.randn(v.shape, generator=gen) for k, v in theta.items()}
    group = LeNetGroup(SHAPE)
    inputs = group.prepare(x)
    return nets[0], x, y, group, inputs, theta, moved, group.primal(theta, inputs)


def _members(benchmark) -> None:
    benchmark.group = GROUP
    benchmark.extra_info["members"] = R


def test_bench_plain_gd_step(benchmark, setup):
    model, x, y, *_ = setup
    benchmark.group = GROUP
    params = list(model.parameters())

    def step():
        return torch.autograd.grad(F.cross_entropy(model(x), y), params)

    grads = benchmark(step)
    assert all(torch.isfinite(g).all() for g in grads)


def test_bench_group_step_between_refreshes(benchmark, setup):
    _model, _x, y, group, _inputs, theta, moved, at = setup
    _members(benchmark)

    def step():
        logits = at.logits + group.tangent(at, L.sub(moved, theta))
        return group.pullback(at, L.cross_entropy_and_grad(logits, y)[1])

    grads = benchmark(step)
    assert set(grads) == set(theta) and grads["conv1.weight"].shape[0] == R


def test_bench_group_refresh_step(benchmark, setup):
    model, x, y, group, inputs, _theta, moved, _at = setup
    _members(benchmark)

    def step():
        at = group.primal(moved, inputs)
        return group.pullback(at, L.cross_entropy_and_grad(at.logits, y)[1])

    grads = benchmark(step)
    params = {k: v[0].detach().clone().requires_grad_(True) for k, v in moved.items()}
    loss = F.cross_entropy(torch.func.functional_call(model, params, (x,)), y)
    reference = torch.autograd.grad(loss, list(params.values()))
    for k, g in zip(params, reference):
        torch.testing.assert_close(grads[k][0], g, rtol=1e-4, atol=1e-6)


def test_bench_group_tangent_kernel(benchmark, setup):
    *_, at = setup
    _members(benchmark)
    kernel = benchmark(lambda: setup[3].kernel(at))
    assert kernel.shape == (R, N * 10, N * 10)
    torch.testing.assert_close(kernel, kernel.transpose(1, 2), rtol=1e-4, atol=1e-3)


def test_bench_group_function_space_step(benchmark, setup):
    *_, group, _inputs, _theta, _moved, at = setup
    _members(benchmark)
    kernel = group.kernel(at)
    u = torch.randn(R, N * 10, 1)
    out = benchmark(lambda: torch.bmm(kernel, u))
    assert out.shape == (R, N * 10, 1)
