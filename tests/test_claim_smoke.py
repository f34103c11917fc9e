"""Every full config of every registered claim, shrunk by its smoke(), runs end to end on the
CPU on tiny data files in the real formats: experiment, statistics, figure data, figures.
So the GPU path is never first executed on a GPU (shared/DESIGN.md, Principles)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tiny_data import write_idx_split, write_tiny_cifar, write_tiny_imagenet, write_tiny_mnist

from sgdclaims import claims
from sgdclaims.report.figures import build_tables, draw_figures
from sgdclaims.runner import RunContext

FULL_CASES = [
    pytest.param(claim, dataset, id=f"{claim}-{dataset}")
    for claim in claims.CLAIMS
    for scale, dataset in claims.cases(claim)
    if scale == "full"
]


@pytest.fixture(scope="module")
def tiny_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data root with tiny MNIST, Fashion-MNIST, CIFAR-10 and ImageNet files."""
    root = tmp_path_factory.mktemp("tiny-data")
    write_tiny_mnist(root, 600, 400)
    write_idx_split(root / "FashionMNIST" / "raw", 600, 400, seed=1)
    write_tiny_cifar(root, 600, 400)
    write_tiny_imagenet(root, 40, 10)
    return root


@pytest.mark.slow
@pytest.mark.parametrize(("claim", "dataset"), FULL_CASES)
def test_full_config_smoke_runs_on_cpu(claim, dataset, tiny_root, tmp_path):
    face = claims.get(claim)
    cfg = face.cases.config("full", dataset).smoke()
    context = RunContext(data_root=tiny_root, cache_root=tmp_path, progress=False)
    result = face.run(cfg, context)
    values = face.statistics(result)
    assert set(values) == set(face.spec.names)
    data = face.figure_data(result, values)
    figures = draw_figures(face.figures, data)
    assert figures, f"{claim} draws no figure"
    assert not [f["error"] for f in figures if "error" in f]
    assert not [t["error"] for t in build_tables(face.tables, data) if "error" in t]
    again = face.run(cfg, context)  # read back from the cache, unit by unit
    assert again.reused == len(again.units) and again.cache_key == result.cache_key
