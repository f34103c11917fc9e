"""Shared fixtures of the unit tests: a results store made by two real claim runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tiny_data import write_idx_split
from toy_claim import set_toy_level, write_toy_project

#: the toy claim's registry for the store: a declared miss, and a stale entry (strict XPASS)
TOY_REGISTRY = """(
    NotReproduced("score", "fast", "lowset", "the toy level is low", "level 0.1"),
    NotReproduced("score", "fast", "toyset", "a stale entry", "none"),
)"""


#: the toy level of the first run (the second runs at the class default 0.9): toyset's score
#: misses (declared: not reproduced) and gated misses (failed); both hold in the second run
FIRST_LEVEL = 0.75


def _git(project: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(project), "-c", "user.name=toy", "-c", "user.email=toy@example.org",
         *args], check=True, capture_output=True, timeout=60,
    )  # fmt: skip


def _run_claims(project: Path, src: Path, data: Path, out: Path) -> None:
    """`pytest claims -n 2` in the toy project (it exits 1: the toy run fails some tests)."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-n", "2", "--dist", "loadfile",
         "-p", "no:cacheprovider", "claims", f"--data-root={data}",
         f"--results-cache={project / 'cache'}", f"--report-dir={out}"],
        cwd=project, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert (out / "results.json").exists(), proc.stdout[-3000:]


@pytest.fixture(scope="session")
def toy_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """reports/ of two real `pytest claims -n 2` runs of the toy claim (a sixth claim added
    with three files and one registry line), each at its own commit of a git checkout; the
    code changes between them and so do values and verdicts. The second run has every
    verdict kind: supported, failed (a strict XPASS), not reproduced, not testable here,
    error (a truncated data file), skipped (full scale without --gpu), met / not met,
    reported, passed."""
    project = tmp_path_factory.mktemp("toy-project")
    src = write_toy_project(project, TOY_REGISTRY, level=FIRST_LEVEL)
    data = project / "data"
    write_idx_split(data / "FashionMNIST" / "raw", 60, 20)
    images = data / "FashionMNIST" / "raw" / "train-images-idx3-ubyte.gz"
    images.write_bytes(images.read_bytes()[:100])
    (project / ".gitignore").write_text("data/\ncache/\nout/\n__pycache__/\n")
    _git(project, "init", "-q")
    _git(project, "add", "-A")
    _git(project, "commit", "-q", "-m", "toy at a low level")
    out = project / "out"
    _run_claims(project, src, data, out)
    set_toy_level(src, 0.9)
    _git(project, "commit", "-q", "-a", "-m", "toy at the paper's level")
    _run_claims(project, src, data, out)
    return out


@pytest.fixture
def store_data(toy_store: Path) -> dict:
    """A fresh copy of the toy run's results store."""
    return json.loads((toy_store / "results.json").read_text())
