"""The claim registry: the only place that lists claim ids, and the face a claim shows.

A claim `<id>` is a package `sgdclaims.claims.<id>` split by role (shared/DESIGN.md):
`config.py` (the config with the paper's values, its cases with reasons), `experiment.py`
(`run(config, context) -> Result`), `statistics.py` (pure `statistics(result)`), `spec.py`
(texts, checks, thresholds, controls, preconditions, not-reproduced entries), `figures.py`
(`figure_data`, figures, tables) and an `__init__.py` that names them in one `Claim`;
beside it `claims/test_<id>.py` and one line below. docs/new_claim.md is the guide and
docs/claim_template/ the template. Everything else (pytest wiring, report, README table,
smoke test, cost table) finds a claim from here.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from sgdclaims.config import Cases, Config
from sgdclaims.figure import Figure, Table
from sgdclaims.runner import Result, RunContext
from sgdclaims.spec import ClaimSpec
from sgdclaims.values import Statistics, Value

CLAIMS: tuple[str, ...] = (
    "linear_early",
    "class_order",
    "depth_wave",
    "eg_scaling",
    "iterative_linearisation",
)
#: the package that holds one subpackage per claim
PACKAGE = __name__


#: the sabotages every claim feeds through its statistics (shared/CLAIMS.md, Falsifiability):
#: a seed that collapses to one predicted class partway, a seed whose loss turns NaN; each
#: claim adds at least one claim-specific null of its own. In both a run is not alive, so
#: every statistic must come out "failed"
SABOTAGES = ("collapsed_seed", "nan_seed")


@dataclasses.dataclass(frozen=True)
class Claim:
    """A claim's face: the parts of its package, by role.

    demonstrations: for each control of the spec, a constructed (or tiny real) result on
    which the control meets its statistic's criterion, so the verdict would be "failed":
    the proof that the control can fail. sabotage: results in which the claim is false by
    construction (SABOTAGES and at least one claim-specific null); none may come out
    "supported"."""

    cases: Cases
    run: Callable[[Config, RunContext], Result]
    statistics: Statistics
    spec: ClaimSpec
    figure_data: Callable[[Result, Mapping[str, Value]], dict[str, Any]]
    figures: tuple[Figure, ...] = ()
    tables: tuple[Table, ...] = ()
    demonstrations: Mapping[str, Callable[[], Result]] = dataclasses.field(default_factory=dict)
    sabotage: Mapping[str, Callable[[], Result]] = dataclasses.field(default_factory=dict)


def check_claim(claim: str) -> str:
    """`claim` itself; ValueError naming the known ids otherwise."""
    if claim not in CLAIMS:
        raise ValueError(f"unknown claim {claim!r}; known: {list(CLAIMS)}")
    return claim


@functools.cache
def get(claim: str) -> Claim:
    """The face of a registered claim, its spec checked against the values its statistics()
    declares (a spec naming a value statistics() does not return is an error here)."""
    face = importlib.import_module(f"{PACKAGE}.{check_claim(claim)}").CLAIM
    if not isinstance(face, Claim):
        raise TypeError(f"{PACKAGE}.{claim}.CLAIM is {type(face).__name__}, not Claim")
    declared = set(face.statistics.names)
    missing = sorted(set(face.spec.names) - declared)
    if missing:
        raise ValueError(
            f"{claim}: the spec names {missing}, which statistics() does not return "
            f"(it returns {sorted(declared)})"
        )
    unspecified = sorted(declared - set(face.spec.names))
    if unspecified:
        raise ValueError(f"{claim}: statistics() returns {unspecified}, which the spec lacks")
    return face


def check_falsifiable(claim: str, face: Claim) -> None:
    """ValueError naming the check whose control has no demonstration, and the sabotages a
    claim lacks (shared/CLAIMS.md, Falsifiability)."""
    for check, control in face.spec.controls:
        if control.name not in face.demonstrations:
            raise ValueError(
                f"{claim}: the control {control.name} of {check.name} has no demonstration "
                "(a result on which it meets the statistic's criterion); add it to the "
                "claim's `demonstrations`"
            )
    extra = sorted(set(face.demonstrations) - {c.name for _, c in face.spec.controls})
    if extra:
        raise ValueError(f"{claim}: demonstrations {extra} name no control of the spec")
    missing = [name for name in SABOTAGES if name not in face.sabotage]
    if missing or len(face.sabotage) <= len(SABOTAGES):
        raise ValueError(
            f"{claim}: its sabotage suite needs {list(SABOTAGES)} and a claim-specific null "
            f"of its own; it has {sorted(face.sabotage)}"
        )


def spec(claim: str) -> ClaimSpec:
    """The spec of a claim (checked against its statistics, see `get`)."""
    return get(claim).spec


def claim_of(config: Any) -> str:
    """The claim a config belongs to: the claim package whose config module defines it."""
    return claim_of_module(type(config).__module__, type(config).__name__)


def claim_of_module(module: str, what: str = "this module") -> str:
    """The claim id of a module inside a registered claim package."""
    parts = module.split(".")
    if module.startswith(PACKAGE + ".") and len(parts) > 2 and parts[2] in CLAIMS:
        return parts[2]
    raise ValueError(f"{what} is not defined in a registered claim package ({module})")


def cases(claim: str) -> list[tuple[str, str]]:
    """Every (scale, data set) case of a claim, fast first."""
    table = get(claim).cases
    return [(scale, d) for scale in ("fast", "full") for d in table.datasets(scale)]


def package_dir(claim: str) -> Path:
    """The folder of a claim's package."""
    return Path(__file__).with_name(check_claim(claim))


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
