"""A sixth claim, `toy`, added the way the contract says: three files and one registry line,
in a copy of the package under a temporary project (tests of the pytest wiring, the
results store and the report run against it in a subprocess, never against main's claims).

The toy experiment is a named synthetic task: each seed's `score` is `level + 0.01 * seed`;
on the data set `fashion_mnist` it reads the real Fashion-MNIST files at the data root
first (so a truncated file there raises the loader's real error). `set_toy_level` edits the
paper's level in the experiment file, as a researcher edits code between two runs.
"""

from __future__ import annotations

import shutil
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "sgdclaims"

EXPERIMENT = '''"""toy: a named synthetic claim for the harness's own tests."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from sgdclaims.config import Cases, Config, Set
from sgdclaims.data import DatasetMissing, load
from sgdclaims.runner import Result, RunContext, UnitResult, run_units
from sgdclaims.values import Statistics, Value, seed_mean


@dataclasses.dataclass(frozen=True)
class ToyConfig(Config):
    SMOKE: ClassVar[dict[str, Any]] = {"seeds": (0,)}

    dataset: str = "bigset"
    level: float = LEVEL
    seeds: tuple[int, ...] = (0, 1, 2)


CASES = Cases(
    ToyConfig,
    full={"bigset": {}, "nodata": {"dataset": Set("nodata", "a data set nobody has")}},
    fast={
        "toyset": {"dataset": Set("toyset", "the synthetic toy set")},
        "lowset": {"dataset": Set("lowset", "below every threshold"), "level": Set(0.1, "low")},
        "fashion_mnist": {"dataset": Set("fashion_mnist", "reads real files first")},
    },
)


def run(cfg: ToyConfig, context: RunContext) -> Result:
    if cfg.dataset == "nodata":
        raise DatasetMissing("'nodata' not found; provide it with `sgdclaims data fetch nodata`")
    if cfg.dataset == "fashion_mnist":
        load("fashion_mnist", context.data_root)

    def compute(seed: Any) -> UnitResult:
        return UnitResult(scalars={"score": cfg.level + 0.01 * int(seed)})

    return run_units(cfg, list(cfg.seeds), compute, context)


statistics = Statistics()


@statistics.returns("score", "score_control", "ready", "gated", "gated_control", "side")
def _all(result: Result) -> dict[str, Value]:
    score = result.scalars["score"].to_numpy()
    return {
        "score": seed_mean(score, "the toy score"),
        "score_control": seed_mean(score - 0.85, "the score minus the level"),
        "ready": Value(float(score.mean() > 0.5), note="1 when the level is high"),
        "gated": seed_mean(score),
        "gated_control": Value(0.0),
        "side": Value(1.5, note="a reported number"),
    }
'''

REPORT = '''"""toy in the report: its spec and one figure."""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from sgdclaims.report.figures import Figure
from sgdclaims.spec import Check, ClaimSpec, Control, Criterion, NotReproduced, Paper

SPEC = ClaimSpec(
    paper=Paper("Toy & Example", "2026", "A toy claim", "Fig. 1"),
    claim="The toy score is high.",
    paragraph="A synthetic claim that exercises the harness.",
    shows="The per-seed scores.",
    checks=(
        Check("score", "statistic", "The score.", Criterion(">=", 0.8), "A low score.",
              control=Control("score_control", Criterion("<", 0.8), "Score minus level."),
              reference={"*": "~0.97 (Fig. 1)"}),
        Check("ready", "precondition", "Whether the level is high.", Criterion(">=", 1.0)),
        Check("gated", "statistic", "The score again.", Criterion(">=", 0.8), "A low score.",
              control=Control("gated_control", Criterion("<", 0.8), "Zero."),
              requires=("ready",)),
        Check("side", "reported", "A reported number."),
    ),
    not_reproduced=(NOT_REPRODUCED),
)


def figure_data(result: Any, values: Any) -> dict[str, Any]:
    return {"scores": result.scalars["score"].to_numpy()}


def scores(data: dict[str, Any]) -> Any:
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot(data["scores"], "o")
    return fig


FIGURES = (Figure("scores", "The score of each seed.", scores, paper="Fig. 1"),)
'''

CLAIM_TEST = '''"""Claim toy: every check of its spec, and one harness test of its own."""


def test_spec(spec_check):
    spec_check.assert_holds()


def test_three_seeds(case):
    assert len(case.result.units) == 3
'''

PYPROJECT = """[tool.pytest.ini_options]
testpaths = ["claims"]
addopts = "-ra --strict-markers"
markers = ["fast: fast", "full: full"]
"""


def write_toy_project(dest: Path, not_reproduced: str = "", level: float = 0.9) -> Path:
    """A project at `dest`: a copy of the package with the toy claim registered, its claim
    test, a pyproject for pytest. Returns the folder to put on PYTHONPATH."""
    src = dest / "src"
    shutil.copytree(SRC, src / "sgdclaims", ignore=shutil.ignore_patterns("__pycache__"))
    package = src / "sgdclaims"
    set_toy_level(src, level)
    (package / "report" / "toy.py").write_text(
        REPORT.replace("NOT_REPRODUCED", not_reproduced or "")
    )
    registry = package / "claims.py"
    text = registry.read_text()
    line = "CLAIMS: tuple[str, ...] = (\n"
    registry.write_text(text.replace(line, line + '    "toy",\n', 1))
    (dest / "claims").mkdir()
    (dest / "claims" / "test_toy.py").write_text(CLAIM_TEST)
    (dest / "pyproject.toml").write_text(PYPROJECT)
    return src


def set_toy_level(src: Path, level: float) -> None:
    """Write the toy experiment with the paper's level `level` (a code change: new cache keys)."""
    path = src / "sgdclaims" / "experiments" / "toy.py"
    path.write_text(EXPERIMENT.replace("LEVEL", repr(level)))
