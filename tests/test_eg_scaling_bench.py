"""Speed of the eg_scaling machinery, measured in one pytest-benchmark run (CPU seconds of
this process; ratios are recorded in extra_info, never asserted):

- time to a certified eps_g* for K = 2..5 (erf SCM, M=2, eta 0.05, sigma 0.01, T = I, the
  random start of issue 18: N(0,1) weights at N=784, seed 0), batched over K and each K
  alone, against fixed-step Euler at dt 0.01 in the same code (nn2pp's scheme) over the
  same alpha, and against nn2pp's own time to settle (issue 18's measurement);
- online SGD replica-steps per CPU second at N=784, K=5, numpy and torch loops.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from sgdclaims.teacher_student.asymptote import Asymptote, certified_asymptote
from sgdclaims.teacher_student.ode import ODE, Dynamics
from sgdclaims.teacher_student.sgd import init_networks, sgd
from sgdclaims.teacher_student.state import random_student

KS = (2, 3, 4, 5)
EULER_DT = 0.01
#: issue 18: nn2pp (C++, -O3, one thread, Euler dt 0.01) from the same random start, seconds
#: until eps_g settles within 0.1%
NN2PP_SETTLE_S = {2: 1.0, 3: 3.3, 4: 8.9, 5: 184.0}
DYN = Dynamics("erf", 0.05, 0.0, 0.01)


def _start(ks: tuple[int, ...]):
    gen = torch.Generator().manual_seed(0)
    return random_student(list(ks), 2, n=784, init_std=1.0, teacher="identity", v=1.0, vs=1.0,
                          generator=gen)  # fmt: skip


def _certify(ks: tuple[int, ...]) -> tuple[Asymptote, float, ODE]:
    state = _start(ks)
    ode = ODE(DYN, state)
    t0 = time.process_time()
    res = certified_asymptote(ode, ode.packing.pack(state), branch="scm", alpha_max=1e5,
                              restart_alpha_max=1e5)  # fmt: skip
    return res, time.process_time() - t0, ode


def _euler_step_seconds(ode: ODE, state) -> float:
    """CPU seconds of one Euler step (one right-hand side) of this batch."""
    y = ode.packing.pack(state)
    t0 = time.process_time()
    for _ in range(200):
        y = y + EULER_DT * ode.f(y)
    return (time.process_time() - t0) / 200


def _alpha_integrated(res: Asymptote) -> float:
    """alpha the batch was integrated over: the first attempt and the restarts."""
    total = float(np.nanmax(res.first.alpha))
    if res.restart is not None:
        total += float(np.nanmax(res.restart.alpha))
    return total


def test_time_to_certified_eps_star(benchmark):
    runs: dict[str, tuple[Asymptote, float, ODE]] = {}

    def solve():
        runs["batched"] = _certify(KS)
        for k in KS:
            runs[f"K={k}"] = _certify((k,))
        return runs

    benchmark.pedantic(solve, rounds=1, iterations=1)
    info = benchmark.extra_info
    res, seconds, ode = runs["batched"]
    assert res.certified.all(), res.first.status
    euler = _alpha_integrated(res) / EULER_DT * _euler_step_seconds(ode, _start(KS))
    info["batched_cpu_s"] = seconds
    info["batched_cpu_s_at_certification"] = dict(zip(map(str, KS), res.cpu.tolist()))
    info["batched_eps_star_over_sigma2"] = (res.eps_star / 1e-4).tolist()
    info["batched_euler_dt0.01_same_alpha_cpu_s"] = euler
    info["batched_speedup_vs_euler"] = euler / seconds
    info["nn2pp_settle_s_sum"] = sum(NN2PP_SETTLE_S.values())
    info["batched_speedup_vs_nn2pp_settle"] = sum(NN2PP_SETTLE_S.values()) / seconds
    for k in KS:
        one, secs, ode_k = runs[f"K={k}"]
        assert one.certified.all(), (k, one.first.status)
        steps = _alpha_integrated(one) / EULER_DT
        info[f"K={k}_cpu_s"] = secs
        info[f"K={k}_source"] = one.source[0]
        info[f"K={k}_speedup_vs_nn2pp_settle"] = NN2PP_SETTLE_S[k] / secs
        info[f"K={k}_speedup_vs_euler"] = steps * _euler_step_seconds(ode_k, _start((k,))) / secs


def test_sgd_replica_steps_per_second(benchmark):
    """Online SGD, replica-steps per CPU second, 16 replicas at N=784, K=5 (erf, float32)."""
    n, replicas, steps = 784, 16, 1568
    cpu: dict[str, float] = {}

    def run():
        for backend in ("numpy", "torch"):
            gen = torch.Generator().manual_seed(0)
            nets = init_networks([5] * replicas, 2, n=n, init_std=1.0, teacher="gaussian",
                                 v0=1.0, vs=1.0, generator=gen)  # fmt: skip
            t0 = time.process_time()
            trace = sgd(nets, activation="erf", eta_w=0.05, eta_v=0.0, sigma=0.01,
                        alphas=np.array([steps / n]), generator=gen, backend=backend)  # fmt: skip
            cpu[backend] = time.process_time() - t0
            assert trace.steps == steps and np.isfinite(trace.eps).all()

    benchmark.pedantic(run, rounds=1, iterations=1)
    for backend, seconds in cpu.items():
        benchmark.extra_info[f"{backend}_replica_steps_per_cpu_s"] = steps * replicas / seconds
