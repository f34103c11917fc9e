"""Benchmarks of two claims' hot loops, each as a ratio against a naive version in the same
run (`make bench`; pytest-benchmark reads the ratio off one table): class_order's test-set
predictions of the ViT at every checkpoint, and depth_wave's step of all members at once."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from sgdclaims.claims.depth_wave.config import CASES as DEPTH_CASES
from sgdclaims.models.basenet import BaseNet
from sgdclaims.models.vit import small_vit
from sgdclaims.training import predict


@pytest.mark.parametrize("how", ["chunks", "one batch"])
def test_bench_vit_test_predictions(benchmark, how):
    """class_order evaluates the ViT on 2,000 test images at every checkpoint: cache-sized
    chunks (training.predict) against the whole set in one forward pass."""
    torch.manual_seed(0)
    model = small_vit((1, 28, 28), 10)
    x = torch.rand(2000, 1, 28, 28)
    batch = 256 if how == "chunks" else len(x)
    benchmark.group = "class_order: ViT predictions on 2,000 test images"
    benchmark(predict, model, x, batch)


def _members_step(model: nn.Module, opt: torch.optim.Optimizer, x, y) -> None:
    logits = model(x)
    loss = nn.functional.cross_entropy(logits.flatten(0, 1), y.repeat_interleave(logits.shape[1]))
    opt.zero_grad()
    loss.backward()
    opt.step()


@pytest.mark.parametrize("how", ["grouped", "one model each"])
def test_bench_depth_members_step(benchmark, how):
    """depth_wave trains 12 members (variants and twins) of the fast narrow BaseNet on the
    same batch: one grouped model (grouped convolutions) against 12 models stepped in turn."""
    cfg = DEPTH_CASES.config("fast", DEPTH_CASES.datasets("fast")[0])
    members, shape = 12, (1, 14, 14)
    torch.manual_seed(0)
    x, y = torch.rand(cfg.batch_size, *shape), torch.randint(0, 10, (cfg.batch_size,))
    if how == "grouped":
        models = [BaseNet(cfg.layer_specs(), shape, 10, members=members)]
    else:
        models = [BaseNet(cfg.layer_specs(), shape, 10) for _ in range(members)]
    opts = [torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9) for m in models]

    def step() -> None:
        for model, opt in zip(models, opts, strict=True):
            _members_step(model, opt, x, y)

    benchmark.group = "depth_wave: one SGD step of 12 members, batch 256"
    benchmark(step)
