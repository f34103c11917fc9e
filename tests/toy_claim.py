"""A sixth claim, `toy`, added the way docs/new_claim.md says: `new_claim` copies the template
(sgdclaims/claims/_template) as a package, writes its claim test and its registry line, in a
copy of the package under a temporary project (tests of the pytest wiring, the results store
and the report run against it in a subprocess, never against main's claims).

The toy then gets its own cases (data sets that exercise every verdict) and an experiment
that reads data: each seed's `score` is `level + 0.01 * seed`, as in the template; on the
data set `fashion_mnist` it reads the real Fashion-MNIST files at the data root first (so a
truncated file there raises the loader's real error), and `nodata` is a data set nobody has.
`set_toy_level` edits the paper's level in the config, as a researcher edits code between
two runs.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "sgdclaims"

TOY_CASES = """CASES = Cases(
    ToyConfig,
    full={"bigset": {}, "nodata": {"dataset": Set("nodata", "a data set nobody has")}},
    fast={
        "toyset": {"dataset": Set("toyset", "the synthetic toy set"),
                   "seeds": Set((0, 1, 2), "3 seeds")},
        "lowset": {"dataset": Set("lowset", "below every threshold"), "level": Set(0.6, "low"),
                   "seeds": Set((0, 1, 2), "3 seeds")},
        "fashion_mnist": {"dataset": Set("fashion_mnist", "reads real files first"),
                          "seeds": Set((0, 1, 2), "3 seeds")},
    },
)
"""

TOY_RUN = '''def run(cfg: ToyConfig, context: RunContext) -> Result:
    """Every seed; `nodata` is missing, `fashion_mnist` reads the real files first."""
    from sgdclaims.data import DatasetMissing, load

    if cfg.dataset == "nodata":
        raise DatasetMissing("'nodata' not found; provide it with `sgdclaims data fetch nodata`")
    if cfg.dataset == "fashion_mnist":
        load("fashion_mnist", context.data_root)
    return run_units(cfg, list(cfg.seeds), lambda seed: measure(cfg, int(seed)), context)
'''

PYPROJECT = """[tool.pytest.ini_options]
testpaths = ["claims"]
addopts = "-ra --strict-markers"
markers = ["fast: fast", "full: full"]
"""


def write_toy_project(dest: Path, not_reproduced: str = "", level: float = 0.9) -> Path:
    """A project at `dest`: a copy of the package with the toy claim made from the template,
    its claim test, a pyproject for pytest. Returns the folder to put on PYTHONPATH."""
    src = dest / "src"
    shutil.copytree(SRC, src / "sgdclaims", ignore=shutil.ignore_patterns("__pycache__"))
    package = src / "sgdclaims"
    from sgdclaims.scaffold import new_claim

    new_claim("toy", package, dest / "claims")
    toy = package / "claims" / "toy"
    config = (toy / "config.py").read_text()
    (toy / "config.py").write_text(config[: config.index("CASES = Cases(")] + TOY_CASES)
    experiment = (toy / "experiment.py").read_text()
    (toy / "experiment.py").write_text(experiment[: experiment.index("def run(")] + TOY_RUN)
    spec = (toy / "spec.py").read_text()
    spec = spec.replace("Criterion, Paper", "Criterion, NotReproduced, Paper")
    (toy / "spec.py").write_text(
        spec.replace("not_reproduced=(),", f"not_reproduced=({not_reproduced or ''}),")
    )
    set_toy_level(src, level)
    (dest / "pyproject.toml").write_text(PYPROJECT)
    return src


def set_toy_level(src: Path, level: float) -> None:
    """Set the paper's level of the toy (a code change: new cache keys)."""
    path = src / "sgdclaims" / "claims" / "toy" / "config.py"
    text = re.sub(r"level: float = [0-9.]+", f"level: float = {level!r}", path.read_text())
    path.write_text(text)
