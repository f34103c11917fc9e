"""The claim contract: one registry, three files per claim, specs as data that the tests, the
report and the README read, configs with a reason beside every change."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from sgdclaims import claims
from sgdclaims.cli import readme_blocks
from sgdclaims.config import Config
from sgdclaims.spec import ClaimSpec

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "sgdclaims"


def _own_files(claim: str) -> set[Path]:
    return {
        SRC / "experiments" / f"{claim}.py",
        SRC / "report" / f"{claim}.py",
        claims.test_file(claim, ROOT),
    }


@pytest.mark.parametrize("claim", claims.CLAIMS)
def test_every_claim_has_its_three_files(claim):
    for path in _own_files(claim):
        assert path.is_file(), f"{claim}: missing {path.relative_to(ROOT)}"
    assert isinstance(claims.spec(claim), ClaimSpec)
    assert claims.cases(claim), f"{claim} has no (scale, data set) case"


def _strings_and_imports(path: Path) -> tuple[set[str], set[str]]:
    """String constants and imported module names of a Python file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)}
    imports = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            imports.add(node.module)
            imports.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            imports.update(a.name for a in node.names)
    return {s for s in strings if isinstance(s, str)}, imports


def test_no_other_module_names_a_claim_id():
    """Only the registry lists claim ids; a claim's own three files may import each other,
    no other module of the package or of claims/ names an id or imports a claim's files."""
    files = [*SRC.rglob("*.py"), *(ROOT / "claims").glob("*.py")]
    offenders = []
    for path in files:
        if path == SRC / "claims.py":
            continue
        strings, imports = _strings_and_imports(path)
        for claim in claims.CLAIMS:
            if path in _own_files(claim):
                continue
            modules = {f"sgdclaims.experiments.{claim}", f"sgdclaims.report.{claim}"}
            if claim in strings or imports & modules:
                offenders.append(f"{path.relative_to(ROOT)} names {claim}")
    assert not offenders, offenders


def test_unknown_claim_names_the_known_ones():
    with pytest.raises(ValueError, match="unknown claim 'nope'; known: \\['linear_early'"):
        claims.spec("nope")


@pytest.mark.parametrize("claim", claims.CLAIMS)
def test_unknown_check_and_dataset_name_the_known_ones(claim):
    spec = claims.spec(claim)
    with pytest.raises(ValueError, match="unknown check 'nope'; known: "):
        spec.check("nope")
    with pytest.raises(ValueError, match="unknown data set 'nope' at fast scale; known: "):
        claims.experiment(claim).CASES.config("fast", "nope")


@pytest.mark.parametrize("claim", claims.CLAIMS)
def test_configs_of_every_case_build_and_explain_their_changes(claim):
    table = claims.experiment(claim).CASES
    for scale, dataset in claims.cases(claim):
        cfg = table.config(scale, dataset)
        assert isinstance(cfg, Config)
        assert claims.claim_of(cfg) == claim
        for change in table.changes(scale, dataset):
            assert change.why, f"{claim} {scale}/{dataset}: {change.field} differs, no reason"


@pytest.mark.parametrize("claim", claims.CLAIMS)
def test_spec_covers_fast_and_full_with_a_control_per_statistic(claim):
    spec = claims.spec(claim)
    statistics = [c for c in spec.checks if c.kind == "statistic"]
    assert statistics, f"{claim} asserts no statistic"
    assert all(c.control is not None for c in statistics)
    for scale, dataset in claims.cases(claim):
        assert spec.checks_for(scale, dataset), f"{claim}: no check applies to {scale}/{dataset}"
    for miss in spec.not_reproduced:
        datasets = claims.experiment(claim).CASES.datasets(miss.scale)
        assert miss.dataset == "*" or miss.dataset in datasets, f"{claim}: stale {miss}"


def test_readme_tables_are_generated():
    """The claims table (from the specs) and the cost table (from executors/costs.json)."""
    readme = (ROOT / "README.md").read_text()
    for name, (begin, end, text) in readme_blocks().items():
        match = re.search(re.escape(begin) + "(.*?)" + re.escape(end), readme, re.S)
        assert match, f"README.md lacks the generated {name} table markers"
        assert match.group(1) == text, (
            f"README.md's {name} table is stale: `sgdclaims readme --write`"
        )
