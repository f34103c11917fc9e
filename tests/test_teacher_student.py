"""Unit tests of sgdclaims.teacher_student: closed-form averages and eps_g against Monte
Carlo, the ODE right-hand side against SGD increments (the noise term on its own), the
integrators, Newton's method, the specialised branch, the certified eps_g*, the two SGD
backends, and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sgdclaims.claims.eg_scaling.config import CASES
from sgdclaims.config import Cases
from sgdclaims.teacher_student.activations import activation_fn
from sgdclaims.teacher_student.asymptote import (
    CERTIFIED,
    NO_NEWTON,
    PAIR,
    certified_asymptote,
    classify,
    projector,
)
from sgdclaims.teacher_student.averages import all_averages, average_of, covariance, quadratic_term
from sgdclaims.teacher_student.branch import cancelling_pair, matching, project
from sgdclaims.teacher_student.error import eps_from_order, eps_monte_carlo
from sgdclaims.teacher_student.formulas import eps_erf_scm, eps_linear_scm
from sgdclaims.teacher_student.integrate import integrate_adaptive, integrate_fixed, make_integrator
from sgdclaims.teacher_student.newton import fixed_point
from sgdclaims.teacher_student.ode import ODE, Dynamics, rhs_state
from sgdclaims.teacher_student.sgd import init_networks, sgd
from sgdclaims.teacher_student.state import OrderParameters, from_weights, random_student

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


def _state(ks, m=2, seed=0, **kw) -> OrderParameters:
    kw = {"n": 200, "init_std": 1.0, "teacher": "identity", "v": 1.0, "vs": 1.0} | kw
    return random_student(ks, m, generator=torch.Generator().manual_seed(seed), **kw)


@pytest.mark.parametrize("activation", ["erf", "linear"])
def test_quadratic_term_is_the_contracted_i4(activation):
    """The regrouped, triangular sum over I4 equals the full I4 tensor contracted with u u."""
    s = _state([3, 5], v=0.7)
    omega = covariance(s.q, s.r, s.t)
    u = torch.cat([s.v * s.active, -s.vs], dim=-1)
    full = torch.einsum("bikcd,bc,bd->bik", all_averages(activation, omega, 5).i4, u, u)
    assert torch.allclose(quadratic_term(activation, omega, 5, u), full, rtol=1e-12, atol=1e-14)


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
    alone = _state([2, 4]).select(0)
    trimmed = alone._replace(
        q=alone.q[:, :2, :2], r=alone.r[:, :2], v=alone.v[:, :2], active=alone.active[:, :2]
    )
    assert torch.allclose(eps_from_order("erf", alone), eps_from_order("erf", trimmed))
    dyn = Dynamics("erf", 0.5, 0.0, 0.01)
    dq, dr, _ = rhs_state(dyn, alone)
    dq2, dr2, _ = rhs_state(dyn, trimmed)
    assert torch.allclose(dq[:, :2, :2], dq2) and torch.allclose(dr[:, :2], dr2)
    assert float(dq[:, 2:, :].abs().max()) == 0.0


def _one_step(activation: str, sigma: float, copies: int = 40_000, n: int = 200):
    """N x the one-step change of Q and R of `copies` identical networks (K=3, M=2, eta=0.5),
    every sigma drawing the same inputs and noise (common random numbers), and the start."""
    gen = torch.Generator().manual_seed(1)
    w0 = torch.randn(1, 3, n, generator=gen, dtype=torch.float64)
    ws0 = torch.randn(1, 2, n, generator=gen, dtype=torch.float64)
    nets = init_networks([3] * copies, 2, n=n, init_std=1.0, teacher="gaussian", v0=1.0, vs=1.0,
                         generator=gen, dtype=torch.float64)  # fmt: skip
    nets.w.copy_(w0.expand_as(nets.w))
    nets.ws.copy_(ws0.expand_as(nets.ws))
    before = nets.order_parameters()
    sgd(nets, activation=activation, eta_w=0.5, eta_v=0.0, sigma=sigma, alphas=np.array([1 / n]),
        generator=torch.Generator().manual_seed(7))  # fmt: skip
    after = nets.order_parameters()
    return (after.q - before.q) * n, (after.r - before.r) * n, before.select(0)


@pytest.mark.parametrize("activation", ["erf", "linear"])
def test_rhs_matches_sgd_increments(activation):
    """N x the mean one-step change of Q and R under SGD equals eq. 9 within 4 standard errors
    (no absolute slack; the noise term alone is tested below)."""
    dq, dr, start = _one_step(activation, 0.3)
    expect_q, expect_r, _ = rhs_state(Dynamics(activation, 0.5, 0.0, 0.3), start)
    for got, exp in ((dq, expect_q[0]), (dr, expect_r[0])):
        mean, se = got.mean(0), got.std(0) / math.sqrt(len(got))
        assert torch.all((mean - exp).abs() <= 4 * se), (mean - exp) / se


def _j2_quadrature(c11: float, c12: float, c22: float, points: int = 60) -> float:
    """<g'(a) g'(b)> for g = erf(x/sqrt 2) by Gauss-Hermite quadrature (independent of the
    closed form)."""
    x, w = np.polynomial.hermite_e.hermegauss(points)
    vals, vecs = np.linalg.eigh(np.array([[c11, c12], [c12, c22]]))
    root = vecs * np.sqrt(np.clip(vals, 0, None))  # root @ root.T = C (also when singular)
    a = root[0, 0] * x[:, None] + root[0, 1] * x[None, :]
    b = root[1, 0] * x[:, None] + root[1, 1] * x[None, :]
    gp = np.sqrt(2 / np.pi) * np.exp(-0.5 * a**2) * np.sqrt(2 / np.pi) * np.exp(-0.5 * b**2)
    return float(w @ gp @ w / (2 * np.pi))


def test_noise_term_isolated_in_the_ode():
    """f(sigma) - f(0) is eta^2 sigma^2 v_i v_k J2(l_i, l_k) in dQ and nothing else, to 1e-3
    relative, with J2 by quadrature."""
    s = _state([3], v=0.8)
    eta, sigma = 0.5, 0.3
    noisy = rhs_state(Dynamics("erf", eta, 0.2, sigma), s)
    clean = rhs_state(Dynamics("erf", eta, 0.2, 0.0), s)
    q = s.q[0].numpy()
    j2 = np.array([[_j2_quadrature(q[i, i], q[i, k], q[k, k]) for k in range(3)] for i in range(3)])
    expect = eta**2 * sigma**2 * 0.8**2 * j2
    assert np.allclose((noisy[0] - clean[0])[0].numpy(), expect, rtol=1e-3, atol=0)
    assert torch.equal(noisy[1], clean[1]) and torch.equal(noisy[2], clean[2])


def test_noise_term_isolated_in_sgd():
    """SGD with and without label noise on the same inputs and noise draws: the mean one-step
    difference of N Q is eta^2 sigma^2 J2 (the odd terms in the noise average out), within
    5 standard errors and the O((K+M)/N) finite-size term."""
    sigma = 1.0
    dq, _, start = _one_step("erf", sigma)
    dq0, _, _ = _one_step("erf", 0.0)
    diff = dq - dq0
    noisy = rhs_state(Dynamics("erf", 0.5, 0.0, sigma), start)[0][0]
    expect = noisy - rhs_state(Dynamics("erf", 0.5, 0.0, 0.0), start)[0][0]
    mean, se = diff.mean(0), diff.std(0) / math.sqrt(len(diff))
    assert torch.all((mean - expect).abs() <= 5 * se + 5 / 200 * expect.abs()), (mean, expect)
    assert torch.all(mean > 0.5 * expect), "the noise term is missing"


def test_integrators_agree():
    """Euler (small dt), RK4, Dormand-Prince, the hybrid and (on the tail) ROS2 agree on the
    linear SCM."""
    s = _state([4, 5], m=4, n=100, init_std=100**-0.25)
    ode = ODE(Dynamics("linear", 0.05, 0.0, 0.01), s)
    y0 = ode.packing.pack(s)
    alphas = np.array([1.0, 5.0, 20.0])
    ref = integrate_adaptive(ode, y0, alphas, rtol=1e-10, atol=1e-14)
    assert np.allclose(integrate_fixed(ode, y0, alphas, dt=0.1, method="rk4").eps, ref.eps,
                       rtol=1e-3)  # fmt: skip
    assert np.allclose(integrate_fixed(ode, y0, alphas, dt=0.005).eps, ref.eps, rtol=2e-2)
    hybrid = integrate_adaptive(ode, y0, alphas, method="hybrid", rtol=1e-8, implicit_rtol=1e-6)
    assert np.allclose(hybrid.eps, ref.eps, rtol=1e-3)
    # ROS2 where it is used: the tail after the transient (restarts, late alpha)
    tail = np.array([50.0, 200.0, 1000.0])
    late = integrate_adaptive(ode, ref.y, tail, rtol=1e-10, atol=1e-14)
    ros2 = integrate_adaptive(ode, ref.y, tail, method="rosenbrock", implicit_rtol=1e-4)
    assert np.allclose(ros2.eps, late.eps, rtol=1e-3)


def test_linear_asymptote_is_eq12():
    """The certified eps_g* of the linear SCM (Newton on a Jacobian with conserved
    directions) is eq. 12."""
    s = _state([4, 5], m=4, n=100, init_std=100**-0.25)
    ode = ODE(Dynamics("linear", 0.05, 0.0, 0.01), s)
    res = certified_asymptote(ode, ode.packing.pack(s), branch=None, alpha_max=2e4,
                              restart_alpha_max=2e4)  # fmt: skip
    assert res.certified.all(), res.first.status
    expect = [eps_linear_scm(k, 4, 0.05, 0.01) for k in (4, 5)]
    assert np.allclose(res.eps_star, expect, rtol=1e-6)


def test_erf_fixed_point_near_eq11():
    """Newton's fixed point of the erf SCM (K=2, M=2) is stable and near eq. 11 at small eta."""
    s = _state([2], n=500)
    eye = torch.eye(2, dtype=torch.float64)[None]
    s = s._replace(q=eye * 1.0, r=eye * 0.99)
    ode = ODE(Dynamics("erf", 0.01, 0.0, 0.01), s)
    fp = fixed_point(ode, ode.packing.pack(s))
    assert fp.converged.all() and (fp.max_eig < 0).all()
    assert abs(float(ode.eps(fp.y)[0]) / eps_erf_scm(2, 2, 0.01, 0.01) - 1) < 0.02


def _specialised_with_pair() -> OrderParameters:
    """K=4, M=2: units 0, 1 on the teacher units, units 2, 3 a cancelling pair w_2 = -w_3
    orthogonal to the teacher."""
    q = torch.zeros(1, 4, 4, dtype=torch.float64)
    q[0, :2, :2] = torch.eye(2)
    q[0, 2:, 2:] = torch.tensor([[0.1, -0.1], [-0.1, 0.1]])
    r = torch.zeros(1, 4, 2, dtype=torch.float64)
    r[0, :2] = torch.eye(2) * 0.999
    one, eye = torch.ones(1, 4, dtype=torch.float64), torch.eye(2, dtype=torch.float64)[None]
    return OrderParameters(q, r, eye, one, one[:, :2], torch.ones(1, 4, dtype=bool))


def test_branch_projection_and_pairs():
    """Matching, pair detection, and the projection: surplus units merged into their mean
    (here 0: the pair cancels), matched units untouched; with both layers, v split evenly."""
    s = _specialised_with_pair()
    assert matching(s).tolist() == [[0, 1, -1, -1]]
    assert cancelling_pair(s).tolist() == [True]
    p = project(s, both_layers=False)
    assert torch.allclose(p.q[0, :2, :2], s.q[0, :2, :2]) and torch.allclose(p.r, s.r)
    assert float(p.q[0, 2:, 2:].abs().max()) < 1e-15 and not cancelling_pair(p).item()
    v = torch.tensor([[1.0, 0.5, 1.5, 0.0]], dtype=torch.float64)
    two = s._replace(q=s.q.clone(), r=s.r.clone(), v=v)
    two.q[0, 2, 2], two.q[0, 2, 1], two.q[0, 1, 2], two.r[0, 2, 1] = 1.0, 0.999, 0.999, 0.998
    both = project(two, both_layers=True)
    assert torch.allclose(both.v[0, 1:3], torch.tensor([1.0, 1.0], dtype=torch.float64))
    assert torch.allclose(both.q[0, 1, 2], both.q[0, 1, 1])


def test_pair_start_is_reported_and_restarted():
    """A start on the cancelling-pair manifold is reported as such, never used as eps_g*; the
    restart from its projection is certified at the branch's fixed point."""
    s = _specialised_with_pair()
    ode = ODE(Dynamics("erf", 0.05, 0.0, 0.01), s)
    res = certified_asymptote(ode, ode.packing.pack(s), branch="scm", alpha_max=3e3,
                              restart_alpha_max=1e5)  # fmt: skip
    assert res.first.status == [PAIR] and res.source == ["restart"]
    assert res.restart is not None and res.restart.status == [CERTIFIED]
    assert abs(res.eps_star[0] / 0.026464e-4 - 1) < 1e-3  # the K=4 fixed point (eta 0.05)
    assert res.restart.max_eig[0] <= 1e-5


def test_newton_that_does_not_converge_is_uncertified():
    """Newton stopped after one step far from a fixed point: not converged, no eigenvalue,
    and the start's status says so."""
    s = _state([3])
    ode = ODE(Dynamics("erf", 0.05, 0.0, 0.01), s)
    fp = fixed_point(ode, ode.packing.pack(s), max_iter=1)
    assert not fp.converged.any() and torch.isnan(fp.max_eig).all()
    assert classify([True], [False], [False], [np.nan], [False]) == [NO_NEWTON]


def test_torch_backend_matches_numpy():
    """The torch step loop (the GPU path, run here on the CPU) and the numpy loop give the
    same trajectory from the same networks and draws."""
    traces = []
    for backend in ("numpy", "torch"):
        nets = init_networks([2, 3], 2, n=60, init_std=1.0, teacher="gaussian", v0=1.0, vs=1.0,
                             generator=torch.Generator().manual_seed(0), dtype=torch.float64,
                             v_init_std=0.1)  # fmt: skip
        traces.append(sgd(nets, activation="erf", eta_w=0.5, eta_v=0.3, sigma=0.1,
                          alphas=np.array([1.0, 5.0]), generator=torch.Generator().manual_seed(1),
                          backend=backend, streams=torch.tensor([0, 0])))  # fmt: skip
    assert np.allclose(traces[0].eps, traces[1].eps, rtol=1e-10)
    assert torch.allclose(traces[0].nets.w, traces[1].nets.w, atol=1e-12)


def test_bad_input_names_the_field():
    """ValueError naming the field: activations, learning rates, sigma, K < M, methods."""
    cfg = CASES.config("fast", "gaussian")
    for field, value in (("match_ks", (1, 2)), ("both_ks", (1, 3)), ("sgd_n", 0),
                         ("sigma", 0.0), ("ode_eta", -0.05), ("eq15_eta", 0.1),
                         ("both_vs", 0.0), ("sgd_ls", (0,))):  # fmt: skip
        with pytest.raises(ValueError, match=field):
            cfg.replace(**{field: value})
    for call, field in (
        (lambda: Dynamics("tanh"), "activation"),
        (lambda: Dynamics("erf", eta_w=0.0), "eta_w"),
        (lambda: Dynamics("erf", sigma=-0.1), "sigma"),
        (lambda: eps_erf_scm(1, 2, 0.05, 0.01), "K must be >= M"),
        (lambda: projector("odd"), "branch"),
        (lambda: make_integrator(ODE(Dynamics(), _state([2])), "euler", rtol=1e-6, atol=1e-9),
         "method"),
        (lambda: init_networks([1], 2, n=0, init_std=1.0, teacher="gaussian", v0=1.0, vs=1.0,
                               generator=torch.Generator()), "n"),
    ):  # fmt: skip
        with pytest.raises(ValueError, match=field):
            call()
    nets = init_networks([2], 2, n=10, init_std=1.0, teacher="gaussian", v0=1.0, vs=1.0,
                         generator=torch.Generator())  # fmt: skip
    with pytest.raises(ValueError, match="activation"):
        sgd(nets, activation="tanh", eta_w=0.1, eta_v=0.0, sigma=0.1, alphas=np.array([1.0]),
            generator=torch.Generator())  # fmt: skip
    assert isinstance(CASES, Cases)
