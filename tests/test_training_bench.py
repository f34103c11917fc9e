"""Throughput of the training loop: images per second for the paper CNN at batch 64, with
and without recording checkpoints (ratios within one run)."""

from __future__ import annotations

import pytest
import torch

from sgdclaims.data import Dataset, DatasetInfo
from sgdclaims.models import PaperCNN, seeded
from sgdclaims.training import train_sgd

STEPS, BATCH, SEEDS = 8, 64, (0, 1, 2)


@pytest.fixture(scope="module")
def images() -> Dataset:
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(BATCH * STEPS, 1, 28, 28, generator=gen)
    y = torch.randint(0, 2, (len(x),), generator=gen)
    info = DatasetInfo(
        "bench",
        "random images (benchmark only)",
        "synthetic",
        False,
        True,
        len(x),
        64,
        (1, 28, 28),
        ("a", "b"),
    )
    return Dataset(x, y, x[:64], y[:64], info)


def cnn(seed: int) -> PaperCNN:
    return seeded(lambda: PaperCNN((1, 28, 28), 2), seed)


def test_bench_train_single_models(benchmark, images):
    """One model after another, one seed each: training images per second = rate x 3 x 512."""

    def run():
        for s in SEEDS:
            train_sgd(cnn(s), images, steps=STEPS, lr=0.1, checkpoints=[STEPS], data_seed=s)

    benchmark.extra_info["images_per_round"] = STEPS * BATCH * len(SEEDS)
    benchmark.pedantic(run, rounds=2, iterations=1, warmup_rounds=0)


def test_bench_train_recording_every_step(benchmark, images):
    """The same three seeds, predicting the 64 test images at every step (the recorder's
    cost against the first benchmark)."""

    def run():
        for s in SEEDS:
            train_sgd(cnn(s), images, steps=STEPS, lr=0.1, checkpoints=range(STEPS + 1),
                      data_seed=s)  # fmt: skip

    benchmark.extra_info["images_per_round"] = STEPS * BATCH * len(SEEDS)
    benchmark.pedantic(run, rounds=2, iterations=1, warmup_rounds=0)
