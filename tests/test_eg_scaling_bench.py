"""Speed of the eg_scaling machinery, measured in one pytest-benchmark run (CPU seconds of
this process; ratios are recorded in extra_info, never asserted):

- eps_reached for K = 2..5 (erf SCM, M=2, eta 0.05, sigma 0.01, T = I, one random start of
  N(0,1) weights at N=784, seed 0) integrated to alpha 1e5, and eps_branch by Newton from its
  projection at the three eta of eg_slope; against fixed-step Euler at dt 0.01 in the same
  code (nn2pp's scheme) over the same alpha, and against nn2pp's own time to settle;
- online SGD replica-steps per CPU second at N=784, K=5, the numpy block loop and the torch
  loop.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import torch

from sgdclaims.teacher_student.branch import branch_point
from sgdclaims.teacher_student.ode import ODE, Dynamics
from sgdclaims.teacher_student.reach import reach
from sgdclaims.teacher_student.sgd import init_networks, sgd
from sgdclaims.teacher_student.state import random_student

KS = (2, 3, 4, 5)
EULER_DT = 0.01
ALPHA = 1e5
#: issue 18: nn2pp (C++, -O3, one thread, Euler dt 0.01) from the same random start, seconds
#: until eps_g settles within 0.1%
NN2PP_SETTLE_S = {2: 1.0, 3: 3.3, 4: 8.9, 5: 184.0}
DYN = Dynamics("erf", 0.05, 0.0, 0.01)
ETAS = (0.0125, 0.025, 0.05)


def _start(ks: tuple[int, ...]):
    gen = torch.Generator().manual_seed(0)
    return random_student(
        list(ks), 2, n=784, init_std=1.0, teacher="identity", v=1.0, vs=1.0, generator=gen
    )


def _euler_step_seconds(ode: ODE, state) -> float:
    """CPU seconds of one Euler step (one right-hand side) of this batch."""
    y = ode.packing.pack(state)
    t0 = time.process_time()
    for _ in range(200):
        y = y + EULER_DT * ode.f(y)
    return (time.process_time() - t0) / 200


def test_time_to_eps_reached_and_eps_branch(benchmark):
    runs: dict[str, float] = {}

    def solve():
        state = _start(KS)
        ode = ODE(DYN, state)
        t0 = time.process_time()
        res = reach(ode, ode.packing.pack(state), alpha_max=ALPHA)
        runs["reach"] = time.process_time() - t0
        for eta in ETAS:
            point = branch_point(ODE(dataclasses.replace(DYN, eta_w=eta), state), res.y)
            assert point.converged.all()
        runs["branch"] = time.process_time() - t0 - runs["reach"]
        runs["eps"] = res.eps_end / 1e-4
        runs["euler"] = ALPHA / EULER_DT * _euler_step_seconds(ode, state)

    benchmark.pedantic(solve, rounds=1, iterations=1)
    info = benchmark.extra_info
    info["reach_cpu_s"] = runs["reach"]
    info["branch_three_eta_cpu_s"] = runs["branch"]
    info["eps_reached_over_sigma2"] = runs["eps"].tolist()
    info["euler_dt0.01_same_alpha_cpu_s"] = runs["euler"]
    info["speedup_vs_euler"] = runs["euler"] / runs["reach"]
    info["nn2pp_settle_s_sum"] = sum(NN2PP_SETTLE_S.values())


def test_sgd_replica_steps_per_second(benchmark):
    """Online SGD, replica-steps per CPU second, 16 replicas at N=784, K=5 (erf, float32)."""
    n, replicas, steps = 784, 16, 1568
    cpu: dict[str, float] = {}

    def run():
        for backend in ("numpy", "torch"):
            gen = torch.Generator().manual_seed(0)
            nets = init_networks(
                [5] * replicas,
                2,
                n=n,
                init_std=1.0,
                teacher="gaussian",
                v0=1.0,
                vs=1.0,
                generator=gen,
            )
            t0 = time.process_time()
            trace = sgd(
                nets,
                activation="erf",
                eta_w=0.05,
                eta_v=0.0,
                sigma=0.01,
                alphas=np.array([steps / n]),
                generator=gen,
                backend=backend,
            )
            cpu[backend] = time.process_time() - t0
            assert trace.steps == steps and np.isfinite(trace.eps).all()

    benchmark.pedantic(run, rounds=1, iterations=1)
    for backend, seconds in cpu.items():
        benchmark.extra_info[f"{backend}_replica_steps_per_cpu_s"] = steps * replicas / seconds
