"""Speed of the eg_scaling machinery (pytest-benchmark; ratios, never timed assertions):
the adaptive ODE's time to the asymptote of a Fig. 2a sweep against fixed-step Euler at
dt 0.01 (the reference code nn2pp's scheme, one K at a time), and online SGD's steps per
second summed over replicas at N=784, K=5 (Goldt et al. 2020, Fig. 1b sizes)."""

from __future__ import annotations

import time

import numpy as np
import torch

from sgdclaims.teacher_student.ode import ODE, Dynamics, asymptote
from sgdclaims.teacher_student.sgd import init_networks, sgd
from sgdclaims.teacher_student.state import random_student

KS = [2, 3]
EULER_DT = 0.01


def _sweep_start():
    gen = torch.Generator().manual_seed(0)
    return random_student(
        KS, 2, n=784, init_std=1.0, teacher="identity", v=1.0, vs=1.0, generator=gen
    )


def _euler_step_seconds(dyn: Dynamics, one) -> float:
    """CPU seconds of one Euler step (one unbatched right-hand side) for a single K."""
    ode = ODE(dyn, one)
    y = ode.packing.pack(one)
    reps = 200
    start = time.process_time()
    for _ in range(reps):
        y = y + EULER_DT * ode.f(y)
    return (time.process_time() - start) / reps


def test_ode_time_to_asymptote(benchmark):
    """Adaptive integration of the K=2,3 erf SCM sweep (eta=0.05) to eps_g*, batched over K,
    against Euler dt 0.01 for each K separately up to the same alpha."""
    start = _sweep_start()
    dyn = Dynamics("erf", 0.05, 0.0, 0.01)
    ode = ODE(dyn, start)
    y0 = ode.packing.pack(start)
    cpu: list[float] = []

    def solve():
        t0 = time.process_time()
        res = asymptote(ode, y0, alpha_max=3e4)
        cpu.append(time.process_time() - t0)
        return res

    res = benchmark.pedantic(solve, rounds=1, iterations=1)
    assert res.converged.all()
    euler = sum(
        res.alpha[i] / EULER_DT * _euler_step_seconds(dyn, start.select(i)) for i in range(len(KS))
    )
    benchmark.extra_info["alpha_converged"] = res.alpha.tolist()
    benchmark.extra_info["adaptive_cpu_s"] = cpu[-1]
    benchmark.extra_info["euler_dt0.01_cpu_s_estimate"] = euler
    benchmark.extra_info["speedup_vs_euler"] = euler / cpu[-1]


def test_sgd_steps_per_second(benchmark):
    """Online SGD throughput, steps per second summed over 32 replicas, N=784, K=5."""
    n, replicas, steps = 784, 32, 1024
    gen = torch.Generator().manual_seed(0)
    nets = init_networks(
        [5] * replicas, 2, n=n, init_std=1.0, teacher="gaussian", v0=1.0, vs=1.0, generator=gen
    )
    cpu: list[float] = []

    def run():
        t0 = time.process_time()
        trace = sgd(
            nets,
            activation="erf",
            eta_w=0.05,
            eta_v=0.0,
            sigma=0.01,
            alphas=np.array([steps / n]),
            generator=gen,
        )
        cpu.append(time.process_time() - t0)
        return trace

    trace = benchmark.pedantic(run, rounds=1, iterations=1)
    assert trace.steps == steps and np.isfinite(trace.eps).all()
    benchmark.extra_info["summed_steps_per_cpu_s"] = steps * replicas / cpu[-1]
