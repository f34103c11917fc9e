"""Unit tests of sgdclaims.teacher_student: averages and eps_g against Monte Carlo, the ODE
against SGD increments (the noise term alone), the integrators (a NaN start stops alone),
Newton, the branch and its saddle, eps_reached with drift, status and divergence rule, the two
SGD loops and the divergence rule in SGD, the constant predictor's error, and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sgdclaims.teacher_student import branch, error
from sgdclaims.teacher_student.activations import activation_fn
from sgdclaims.teacher_student.averages import all_averages, average_of, covariance, quadratic_term
from sgdclaims.teacher_student.formulas import eps_erf_scm, eps_linear_scm
from sgdclaims.teacher_student.integrate import integrate_adaptive, integrate_fixed, make_integrator
from sgdclaims.teacher_student.newton import fixed_point
from sgdclaims.teacher_student.ode import ODE, Dynamics, rhs_state
from sgdclaims.teacher_student.reach import (
    DIVERGED,
    PAIR,
    SETTLED,
    UNSETTLED,
    curve_divergence,
    reach,
    status_of,
)
from sgdclaims.teacher_student.runs import half_value, sgd_steps
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
        exact = error.eps_from_order(activation, from_weights(w, ws, v, vs))
        mc, se = error.eps_monte_carlo(activation, w, ws, v, vs, x)
        assert torch.all((exact - mc).abs() <= 5 * se), (activation, exact, mc, se)


def test_padding_inactive_units_changes_nothing():
    """A K=2 student padded to K=4 has the same eps_g and the same dynamics."""
    alone = _state([2, 4]).select(0)
    trimmed = alone._replace(
        q=alone.q[:, :2, :2], r=alone.r[:, :2], v=alone.v[:, :2], active=alone.active[:, :2]
    )
    assert torch.allclose(error.eps_from_order("erf", alone), error.eps_from_order("erf", trimmed))
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
    # ROS2 where it is used: the tail after the transient (late alpha)
    tail = np.array([50.0, 200.0, 1000.0])
    late = integrate_adaptive(ode, ref.y, tail, rtol=1e-10, atol=1e-14)
    ros2 = integrate_adaptive(ode, ref.y, tail, method="rosenbrock", implicit_rtol=1e-4)
    assert np.allclose(ros2.eps, late.eps, rtol=1e-3)


def test_linear_asymptote_is_eq12():
    """The linear SCM integrated to alpha 2e4 settles at eq. 12 (its Jacobian has conserved
    directions, so every start has its own fixed point, all at eq. 12's error)."""
    s = _state([4, 5], m=4, n=100, init_std=100**-0.25)
    ode = ODE(Dynamics("linear", 0.05, 0.0, 0.01), s)
    res = reach(ode, ode.packing.pack(s), alpha_max=2e4)
    assert res.settled.all() and res.status == [SETTLED, SETTLED]
    expect = [eps_linear_scm(k, 4, 0.05, 0.01) for k in (4, 5)]
    assert np.allclose(res.eps_end, expect, rtol=1e-6)


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
    assert branch.matching(s).tolist() == [[0, 1, -1, -1]]
    assert branch.cancelling_pair(s).tolist() == [True]
    p = branch.project(s, both_layers=False)
    assert torch.allclose(p.q[0, :2, :2], s.q[0, :2, :2]) and torch.allclose(p.r, s.r)
    assert float(p.q[0, 2:, 2:].abs().max()) < 1e-15 and not branch.cancelling_pair(p).item()
    v = torch.tensor([[1.0, 0.5, 1.5, 0.0]], dtype=torch.float64)
    two = s._replace(q=s.q.clone(), r=s.r.clone(), v=v)
    two.q[0, 2, 2], two.q[0, 2, 1], two.q[0, 1, 2], two.r[0, 2, 1] = 1.0, 0.999, 0.999, 0.998
    both = branch.project(two, both_layers=True)
    assert torch.allclose(both.v[0, 1:3], torch.tensor([1.0, 1.0], dtype=torch.float64))
    assert torch.allclose(both.q[0, 1, 2], both.q[0, 1, 1])


def test_eq10_point_is_a_saddle_and_a_pair_start_settles_below_it():
    """K=4, M=2, eta 0.05: the eq. 10 point (surplus units identical) found by Newton from a
    start with a cancelling pair is the K=4 fixed point, 0.026464 sigma^2 (shared/CLAIMS.md),
    with top eigenvalue ~ +1.05 eta^2 sigma^2 (2/pi) (a saddle) and its matched units on the
    teacher; the pair start itself reports its pair and stays below it."""
    s = _specialised_with_pair()
    ode = ODE(Dynamics("erf", 0.05, 0.0, 0.01), s)
    point = branch.branch_point(ode, ode.packing.pack(s))
    assert point.converged.all() and abs(float(point.eps[0]) / 0.026464e-4 - 1) < 1e-4
    assert abs(float(point.max_eig[0]) / (0.05**2 * 1e-4 * 2 / math.pi) - 1.05) < 0.02
    assert float(branch.specialisation(ode.packing.unpack(point.y))[0]) > 0.99
    res = reach(ode, ode.packing.pack(s), alpha_max=3e3)
    assert res.pair.all() and res.eps_end[0] < float(point.eps[0])
    assert res.status[0] in (PAIR, UNSETTLED)


def test_a_nan_start_stops_alone():
    """A start whose state is NaN stops (the divergence rule: eps_g not finite) while the other
    starts of the batch integrate as they would alone."""
    s = _state([2, 3], n=500)
    ode = ODE(Dynamics("erf", 0.05, 0.0, 0.01), s)
    y0 = ode.packing.pack(s)
    alone = reach(ode.subset(torch.tensor([0])), y0[:1], alpha_max=300.0)
    y0[1] = math.nan
    both = reach(ode, y0, alpha_max=300.0)
    assert both.diverged == ["", "loss not finite"] and both.status[1] == DIVERGED
    assert np.isnan(both.eps[1:, 1]).all() and not both.settled[1]
    assert np.allclose(both.eps[:, 0], alone.eps[:, 0], rtol=1e-6)


def test_status_and_curve_divergence():
    """The status of a start from its drift, pair and divergence; the divergence rule read off
    recorded curves (NaN, and 100x the value at the start)."""
    assert status_of(1e-4, False, "") == SETTLED and status_of(1e-4, True, "") == PAIR
    assert status_of(2e-3, True, "") == UNSETTLED and status_of(np.nan, False, "") == UNSETTLED
    assert status_of(1e-4, False, "loss not finite") == DIVERGED
    eps = np.array([[1.0, 1.0, 1.0], [0.5, np.nan, 50.0], [0.2, 1.0, 101.0]])
    rules, at = curve_divergence(np.array([0.0, 1.0, 2.0]), eps)
    assert rules[0] == "" and rules[1] == "loss not finite" and "100" in rules[2]
    assert np.isnan(at[0]) and at[1] == 1.0 and at[2] == 2.0


def test_newton_that_does_not_converge_is_uncertified():
    """Newton stopped after one step far from a fixed point: not converged, no eigenvalue;
    from a NaN state (a stopped start) never."""
    s = _state([3])
    ode = ODE(Dynamics("erf", 0.05, 0.0, 0.01), s)
    fp = fixed_point(ode, ode.packing.pack(s), max_iter=1)
    assert not fp.converged.any() and torch.isnan(fp.max_eig).all()
    y = ode.packing.pack(s)
    y[0] = math.nan
    assert not fixed_point(ode, y).converged.any(), "a NaN state has no fixed point"


def _sgd(ks, eta, eta_v, alphas, **kw):
    """SGD (float64, M=2, sigma 0.1) from seeded networks with the given sizes and rates."""
    net = {"n": 60, "init_std": 1.0, "teacher": "gaussian", "v_init_std": 0.1, "v0": 1.0}
    net |= {k: kw.pop(k) for k in list(kw) if k in net}
    gen = torch.Generator().manual_seed(0)
    nets = init_networks(ks, 2, vs=1.0, dtype=torch.float64, generator=gen, **net)
    gen = torch.Generator().manual_seed(1)
    return sgd(
        nets, eta_w=eta, eta_v=eta_v, sigma=0.1, alphas=np.array(alphas), generator=gen, **kw
    )


@pytest.mark.parametrize("streams", [[0, 0], [0, 1, 0]])
def test_torch_backend_matches_numpy(streams):
    """The torch loop (one rank-one update a step, the GPU path, run here on the CPU) and the
    numpy loop (blocks of steps through the inputs' Gram matrix; replicas grouped by stream,
    or one by one where streams are shared unevenly) give the same trajectory."""
    numpy_, torch_ = (
        _sgd(
            [2, 3, 2][: len(streams)],
            0.5,
            0.3,
            [1.0, 5.0],
            activation="erf",
            backend=backend,
            streams=torch.tensor(streams),
        )
        for backend in ("numpy", "torch")
    )
    assert np.allclose(numpy_.eps, torch_.eps, rtol=1e-10)
    assert torch.allclose(numpy_.nets.w, torch_.nets.w, atol=1e-12)
    assert torch.allclose(numpy_.nets.v, torch_.nets.v, atol=1e-12)


def test_divergence_rule_stops_an_sgd_replica():
    """A linear network at a learning rate far above eq. 12's limit diverges: the rule of
    sgdclaims.training fires on its block loss, its eps_g is NaN from the next checkpoint on;
    its twin at a small rate is untouched."""
    healthy, blown = (
        _sgd(
            [2],
            eta,
            0.0,
            [5.0, 20.0, 40.0],
            activation="linear",
            n=50,
            init_std=50**-0.25,
            teacher="identity",
            v_init_std=0.0,
        )
        for eta in (0.01, 30.0)
    )
    assert healthy.diverged == [""] and np.isfinite(healthy.eps).all()
    assert blown.diverged[0] in ("loss not finite", "loss above 100x its initial value")
    assert blown.diverged_at[0] <= 5.0 and np.isnan(blown.eps[1:]).all()


def test_constant_predictor_and_half_horizon():
    """The best constant predictor's eps_g: 1/3 for an erf teacher with M=2, T = I; half the
    variance of the teacher's output by Monte Carlo agrees. The value at half the horizon is
    the mean over the last 5% of the first half (20 checkpoints there)."""
    const = error.eps_constant("erf", _state([2, 3]))
    assert torch.allclose(const, torch.full_like(const, 1 / 3))
    gen = torch.Generator().manual_seed(0)
    ws, vs, x = torch.randn(1, 2, 40, generator=gen), torch.ones(1, 2), torch.randn(200_000, 40)
    exact = error.eps_constant("erf", from_weights(torch.zeros(1, 3, 40), ws, torch.ones(1, 3), vs))
    assert abs(float(error.eps_constant_monte_carlo("erf", ws, vs, x)[0] / exact[0]) - 1) < 0.01
    steps = sgd_steps(1500.0, 100)
    assert ((steps <= steps[-1] // 2) & (steps >= 0.95 * (steps[-1] // 2))).sum() >= 20
    assert half_value(steps, np.where(steps <= steps[-1] // 2, 2.0, 1.0)) == 2.0


def test_bad_input_names_the_field():
    """ValueError naming the field: activations, learning rates, sigma, K < M, alpha_max,
    methods."""
    for call, field in (
        (lambda: Dynamics("tanh"), "activation"),
        (lambda: Dynamics("erf", eta_w=0.0), "eta_w"),
        (lambda: Dynamics("erf", sigma=-0.1), "sigma"),
        (lambda: eps_erf_scm(1, 2, 0.05, 0.01), "K must be >= M"),
        (lambda: reach(ODE(Dynamics(), _state([2])), _state([2]).q.flatten(1), alpha_max=0.0),
         "alpha_max"),
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
