"""Unit tests of sgdclaims.teacher_student: closed-form averages and eps_g against Monte
Carlo, the ODE right-hand side against SGD increments, formulas and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sgdclaims.experiments.eg_scaling import config
from sgdclaims.teacher_student.activations import activation_fn
from sgdclaims.teacher_student.averages import average_of
from sgdclaims.teacher_student.error import eps_from_order, eps_monte_carlo
from sgdclaims.teacher_student.formulas import eps_erf_scm, eps_linear_scm
from sgdclaims.teacher_student.ode import (
    ODE,
    Dynamics,
    asymptote,
    fixed_point,
    integrate_adaptive,
    integrate_fixed,
    rhs_state,
)
from sgdclaims.teacher_student.sgd import init_networks, sgd
from sgdclaims.teacher_student.state import from_weights, random_student

ARGS = {"i2": 2, "i3": 3, "i4": 4, "j2": 2}


def _mc_integrand(name: str, z: torch.Tensor, activation: str) -> torch.Tensor:
    g, gp = activation_fn(activation)
    if name == "i2":
        return g(z[:, 0]) * g(z[:, 1])
    if name == "i3":
        return gp(z[:, 0]) * z[:, 1] * g(z[:, 2])
    if name == "i4":
        return gp(z[:, 0]) * gp(z[:, 1]) * g(z[:, 2]) * g(z[:, 3])
    return gp(z[:, 0]) * gp(z[:, 1])


@settings(max_examples=15)
@given(
    name=st.sampled_from(sorted(ARGS)),
    activation=st.sampled_from(["erf", "linear"]),
    seed=st.integers(0, 2**31 - 1),
)
def test_averages_match_monte_carlo(name, activation, seed):
    """Each closed form against a Monte Carlo mean on a random positive-definite covariance."""
    n = ARGS[name]
    gen = torch.Generator().manual_seed(seed)
    a = torch.randn(n, n, generator=gen, dtype=torch.float64)
    cov = a @ a.T / n + 0.2 * torch.eye(n, dtype=torch.float64)
    z = torch.randn(200_000, n, generator=gen, dtype=torch.float64) @ torch.linalg.cholesky(cov).T
    sample = _mc_integrand(name, z, activation)
    mc, se = float(sample.mean()), float(sample.std()) / math.sqrt(len(sample))
    exact = float(average_of(name, activation, cov))
    assert abs(exact - mc) <= 5 * se + 1e-12


def test_eps_from_order_matches_monte_carlo():
    """eps_g from Q, R, T equals a direct Monte Carlo estimate for random weights."""
    gen = torch.Generator().manual_seed(3)
    for activation in ("erf", "linear"):
        w = torch.randn(2, 3, 50, generator=gen, dtype=torch.float64)
        ws = torch.randn(2, 2, 50, generator=gen, dtype=torch.float64)
        v = torch.randn(2, 3, generator=gen, dtype=torch.float64)
        vs = torch.randn(2, 2, generator=gen, dtype=torch.float64)
        x = torch.randn(200_000, 50, generator=gen, dtype=torch.float64)
        exact = eps_from_order(activation, from_weights(w, ws, v, vs))
        mc, se = eps_monte_carlo(activation, w, ws, v, vs, x)
        assert torch.all((exact - mc).abs() <= 5 * se), (activation, exact, mc, se)


def test_padding_inactive_units_changes_nothing():
    """A K=2 student padded to K=4 has the same eps_g and the same dynamics."""
    gen = torch.Generator().manual_seed(0)
    s = random_student(
        [2, 4], 2, n=200, init_std=1.0, teacher="identity", v=1.0, vs=1.0, generator=gen
    )
    alone = s.select(0)
    eps_pad = eps_from_order("erf", alone)
    trimmed = alone._replace(
        q=alone.q[:, :2, :2], r=alone.r[:, :2], v=alone.v[:, :2], active=alone.active[:, :2]
    )
    assert torch.allclose(eps_pad, eps_from_order("erf", trimmed))
    dyn = Dynamics("erf", 0.5, 0.0, 0.01)
    dq, dr, _ = rhs_state(dyn, alone)
    dq2, dr2, _ = rhs_state(dyn, trimmed)
    assert torch.allclose(dq[:, :2, :2], dq2) and torch.allclose(dr[:, :2], dr2)
    assert float(dq[:, 2:, :].abs().max()) == 0.0


@pytest.mark.parametrize("activation", ["erf", "linear"])
def test_rhs_matches_sgd_increments(activation):
    """N x the mean one-step change of Q and R under SGD equals eq. 9 (to O(1/N) + noise)."""
    n, copies, k, m = 200, 40_000, 3, 2
    gen = torch.Generator().manual_seed(1)
    w0 = torch.randn(1, k, n, generator=gen, dtype=torch.float64)
    ws0 = torch.randn(1, m, n, generator=gen, dtype=torch.float64)
    nets = init_networks(
        [k] * copies,
        m,
        n=n,
        init_std=1.0,
        teacher="gaussian",
        v0=1.0,
        vs=1.0,
        generator=gen,
        dtype=torch.float64,
    )
    nets.w.copy_(w0.expand_as(nets.w))
    nets.ws.copy_(ws0.expand_as(nets.ws))
    before = nets.order_parameters()
    eta, sigma = 0.5, 0.3
    sgd(
        nets,
        activation=activation,
        eta_w=eta,
        eta_v=0.0,
        sigma=sigma,
        alphas=np.array([1.0 / n]),
        generator=gen,
    )
    after = nets.order_parameters()
    dq = (after.q - before.q) * n
    dr = (after.r - before.r) * n
    expect_q, expect_r, _ = rhs_state(Dynamics(activation, eta, 0.0, sigma), before.select(0))
    for got, exp in ((dq, expect_q[0]), (dr, expect_r[0])):
        mean, se = got.mean(0), got.std(0) / math.sqrt(copies)
        assert torch.all((mean - exp).abs() <= 5 * se + 0.05 * exp.abs() + 0.01), (mean, exp)


def test_integrators_agree_and_detect_asymptote():
    """Euler (small dt), RK4 and Dormand-Prince agree; the linear SCM's asymptote is eq. 12."""
    gen = torch.Generator().manual_seed(2)
    s = random_student(
        [4, 5], 4, n=100, init_std=100**-0.25, teacher="identity", v=1.0, vs=1.0, generator=gen
    )
    ode = ODE(Dynamics("linear", 0.05, 0.0, 0.01), s)
    y0 = ode.packing.pack(s)
    alphas = np.array([1.0, 5.0, 20.0])
    eu = integrate_fixed(ode, y0, alphas, dt=0.005)
    rk = integrate_fixed(ode, y0, alphas, dt=0.1, method="rk4")
    dp = integrate_adaptive(ode, y0, alphas)
    assert np.allclose(rk.eps, dp.eps, rtol=1e-3)
    assert np.allclose(eu.eps, dp.eps, rtol=2e-2)
    res = asymptote(ode, y0, alpha_max=2000.0, alpha_check=10.0)
    expect = [eps_linear_scm(k, 4, 0.05, 0.01) for k in (4, 5)]
    assert res.converged.all()
    assert np.allclose(res.eps_star, expect, rtol=1e-3)


def test_erf_fixed_point_near_eq11():
    """Newton's fixed point of the erf SCM (K=2, M=2) is stable and near eq. 11 at small eta."""
    gen = torch.Generator().manual_seed(0)
    s = random_student(
        [2], 2, n=500, init_std=1.0, teacher="identity", v=1.0, vs=1.0, generator=gen
    )
    eye = torch.eye(2, dtype=torch.float64)[None]
    s = s._replace(q=eye * 1.0, r=eye * 0.99)
    ode = ODE(Dynamics("erf", 0.01, 0.0, 0.01), s)
    fp = fixed_point(ode, ode.packing.pack(s))
    assert fp.converged.all() and (fp.max_eig < 0).all()
    eps = float(ode.eps(fp.y)[0])
    assert abs(eps / eps_erf_scm(2, 2, 0.01, 0.01) - 1) < 0.02


def test_bad_input_names_parameter():
    """Clear errors naming the parameter."""
    with pytest.raises(ValueError, match="activation"):
        Dynamics("relu")
    with pytest.raises(ValueError, match="eta_w"):
        Dynamics("erf", eta_w=0.0)
    with pytest.raises(ValueError, match="sigma"):
        Dynamics("erf", sigma=-0.1)
    with pytest.raises(ValueError, match="K must be >= M"):
        eps_erf_scm(1, 2, 0.05, 0.01)
    with pytest.raises(ValueError, match="eta"):
        eps_erf_scm(2, 2, -0.05, 0.01)
    with pytest.raises(ValueError, match="match_ks"):
        config("fast").replace(match_ks=(1, 2))
    with pytest.raises(ValueError, match="sgd_n"):
        config("fast").replace(sgd_n=0)
    with pytest.raises(ValueError, match="sigma"):
        config("fast").replace(sigma=-1.0)


def test_full_config_smoke_runs(tmp_path):
    """The full config, shrunk by smoke(), runs every part on a CPU."""
    from sgdclaims.experiments.eg_scaling import run

    res = run(config("full").smoke(), cache_root=tmp_path, progress=False)
    assert {"match", "ode", "sgd", "linear", "relu", "both"} <= set(res.frames)
