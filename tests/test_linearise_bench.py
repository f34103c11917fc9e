"""Speed of one linearised step as ratios within one run (pytest-benchmark groups), LeNet-5
with 50 channels on a full batch of 256 MNIST-shaped images:

- a plain autograd gradient-descent step (forward, backward);
- a step between refreshes: tangent pass J(theta_s) delta, cross-entropy gradient, reverse
  pass J(theta_s)^T u, reusing the linearisation (target <= 1.5x plain; ~1.3x measured);
- a refresh step: rebuild the vjp and the jvp's primal part at the new theta_s, then the
  step (target <= 4x plain; ~2.4x measured).

Read the ratios off `pytest tests/test_linearise_bench.py --benchmark-only`; with
`--benchmark-disable` each runs once and only its result is checked. Each benchmark stores
the bytes it keeps alive in extra_info: saved_mb, the activations a plain step saves for
its backward pass (the vjp holds the same), and tangent_mb, the primal values the tangent
part holds on top of them.
"""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from sgdclaims import linearise as L
from sgdclaims.models.lenet import LeNet50
from sgdclaims.models.seeding import seeded

N = 256
GROUP = f"one full-batch step, LeNet-5 (50 channels), n = {N}"


@pytest.fixture(scope="module")
def setup():
    """Model, batch, parameters, a moved point and a reusable tangent program."""
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(N, 1, 28, 28, generator=gen)
    y = torch.randint(0, 10, (N,), generator=gen)
    model = seeded(lambda: LeNet50((1, 28, 28), 10), 0)
    fn = L.model_fn(model, x)
    theta = L.model_params(model)
    moved = {k: v + 1e-3 * torch.randn(v.shape, generator=gen) for k, v in theta.items()}
    return model, x, y, fn, theta, moved, L.TangentProgram(model, theta, x)


def _saved_bytes(fn) -> int:
    total = 0

    def pack(t):
        nonlocal total
        total += t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        fn()
    return total


def test_bench_plain_gd_step(benchmark, setup):
    model, x, y, *_ = setup
    benchmark.group = GROUP
    params = list(model.parameters())

    def step():
        loss = F.cross_entropy(model(x), y)
        return torch.autograd.grad(loss, params)

    grads = benchmark(step)
    benchmark.extra_info["saved_mb"] = _saved_bytes(step) / 2**20
    assert all(torch.isfinite(g).all() for g in grads)


def test_bench_step_between_refreshes(benchmark, setup):
    model, x, y, fn, theta, moved, program = setup
    benchmark.group = GROUP
    lin = L.Linearisation(model, theta, x, program)
    delta = L.sub(moved, theta)

    def step():
        logits = lin.output + lin.tangent(delta)
        return lin.pullback(L.cross_entropy_and_grad(logits, y)[1])

    grads = benchmark(step)
    benchmark.extra_info["tangent_mb"] = lin.tangent_bytes() / 2**20
    expected = L.linearised_logits(fn, theta, moved)
    torch.testing.assert_close(lin.output + lin.tangent(delta), expected, rtol=1e-4, atol=1e-5)
    assert set(grads) == set(theta)


def test_bench_refresh_step(benchmark, setup):
    model, x, y, _fn, _theta, moved, program = setup
    benchmark.group = GROUP

    def step():
        lin = L.Linearisation(model, moved, x, program)
        grads = lin.pullback(L.cross_entropy_and_grad(lin.output, y)[1])
        lin.tangent(L.sub(moved, moved))
        return lin, grads

    lin, grads = benchmark(step)
    benchmark.extra_info["tangent_mb"] = lin.tangent_bytes() / 2**20
    params = {k: v.detach().clone().requires_grad_(True) for k, v in moved.items()}
    loss = F.cross_entropy(torch.func.functional_call(model, params, (x,)), y)
    reference = torch.autograd.grad(loss, list(params.values()))
    for k, g in zip(params, reference):
        torch.testing.assert_close(grads[k], g, rtol=1e-4, atol=1e-6)
