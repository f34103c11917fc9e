"""The machine's calibration figure (shared/CLAIMS.md, Budgets): single-thread float32
1024x1024 matmul throughput in GFLOP/s, measured in about a second. Budgets are in seconds of
one core of the reference machine (~68 GFLOP/s here); `reference_seconds` converts a time
measured on this machine (seconds x figure / 68)."""

from __future__ import annotations

import functools
import time

import torch

#: the reference machine's figure (a 2-core AVX2 machine, CLAIMS.md)
REFERENCE_GFLOPS = 68.0
SIZE = 1024


def calibration_gflops(seconds: float = 1.0) -> float:
    """Single-thread float32 SIZE x SIZE matmul throughput (GFLOP/s): the best of repeated
    timings over about `seconds`, on the CPU, with torch's threads set to one meanwhile."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        gen = torch.Generator().manual_seed(0)
        a = torch.rand(SIZE, SIZE, generator=gen)
        b = torch.rand(SIZE, SIZE, generator=gen)
        torch.mm(a, b)  # warm-up
        best, spent = float("inf"), 0.0
        while spent < seconds:
            t0 = time.perf_counter()
            torch.mm(a, b)
            dt = time.perf_counter() - t0
            best, spent = min(best, dt), spent + dt
        return 2 * SIZE**3 / best / 1e9
    finally:
        torch.set_num_threads(threads)


@functools.cache
def machine_gflops() -> float:
    """This process's calibration figure, measured once (recorded with every computed unit
    and in every run's provenance)."""
    return calibration_gflops()


def reference_seconds(seconds: float, gflops: float) -> float:
    """`seconds` on a machine of figure `gflops`, in reference-machine seconds."""
    return float(seconds) * float(gflops) / REFERENCE_GFLOPS


if __name__ == "__main__":
    print(f"{calibration_gflops():.1f} GFLOP/s (reference {REFERENCE_GFLOPS:g})")
