"""The claim registry: the only place that lists claim ids.

A claim `<id>` is three files and the one line below:
- `src/sgdclaims/experiments/<id>.py`: `CASES` (configs per scale and data set), `run(config,
  context) -> Result` and `statistics` (a `values.Statistics` table);
- `claims/test_<id>.py`: checks the statistics against the spec (tests never train);
- `src/sgdclaims/report/<id>.py`: `SPEC` (the claim's paper, texts, checks and thresholds,
  cases declared not reproduced), `figure_data(result, values)` and `FIGURES`.
Everything else (pytest wiring, report, README table, smoke test) finds them from here.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType
from typing import Any

from sgdclaims.spec import ClaimSpec

CLAIMS: tuple[str, ...] = (
    "linear_early",
    "class_order",
    "depth_wave",
    "eg_scaling",
    "iterative_linearisation",
)


def check_claim(claim: str) -> str:
    """`claim` itself; ValueError naming the known ids otherwise."""
    if claim not in CLAIMS:
        raise ValueError(f"unknown claim {claim!r}; known: {list(CLAIMS)}")
    return claim


def experiment(claim: str) -> ModuleType:
    """The experiment module of a claim (`sgdclaims.experiments.<id>`)."""
    return importlib.import_module(f"sgdclaims.experiments.{check_claim(claim)}")


def report(claim: str) -> ModuleType:
    """The report module of a claim (`sgdclaims.report.<id>`), which holds its SPEC."""
    return importlib.import_module(f"sgdclaims.report.{check_claim(claim)}")


def spec(claim: str) -> ClaimSpec:
    """The spec of a claim, checked against the values its statistics() declares."""
    the_spec: ClaimSpec = report(claim).SPEC
    declared = set(experiment(claim).statistics.names)
    missing = sorted(set(the_spec.names) - declared)
    if missing:
        raise ValueError(
            f"{claim}: the spec names {missing}, which statistics() does not return "
            f"(it returns {sorted(declared)})"
        )
    unspecified = sorted(declared - set(the_spec.names))
    if unspecified:
        raise ValueError(f"{claim}: statistics() returns {unspecified}, which the spec lacks")
    return the_spec


def claim_of(config: Any) -> str:
    """The claim a config belongs to: the experiment module that defines its class."""
    module = type(config).__module__
    prefix = "sgdclaims.experiments."
    name = module.removeprefix(prefix)
    if not module.startswith(prefix) or name not in CLAIMS:
        raise ValueError(f"{type(config).__name__} is not defined in a registered experiment")
    return name


def cases(claim: str) -> list[tuple[str, str]]:
    """Every (scale, data set) case of a claim, fast first."""
    table = experiment(claim).CASES
    return [(scale, d) for scale in ("fast", "full") for d in table.datasets(scale)]


def test_file(claim: str, root: Path) -> Path:
    """Where the claim test of `claim` lives under the project root."""
    return root / "claims" / f"test_{check_claim(claim)}.py"


def readme_table() -> str:
    """The README's claims table (markdown), from the registry and the specs."""
    lines = [
        "| claim id | paper | claim | asserted statistics (criterion) |",
        "|---|---|---|---|",
    ]
    for claim in CLAIMS:
        s = spec(claim)
        asserted = ", ".join(
            f"`{c.name}` ({c.criterion_text})" for c in s.checks if c.kind == "statistic"
        )
        lines.append(f"| `{claim}` | {s.paper.cite} | {s.claim} | {asserted} |")
    return "\n".join(lines)
