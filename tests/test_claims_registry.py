"""The claim contract: one registry, three files per claim, specs as data that the tests, the
report and the README read, configs with a reason beside every change."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sgdclaims import claims
from sgdclaims.cli import readme_blocks
from sgdclaims.config import Config
from sgdclaims.spec import ClaimSpec

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "sgdclaims"


ROLES = ("__init__", "config", "experiment", "statistics", "spec", "figures")


@pytest.mark.parametrize("claim", claims.CLAIMS)
def test_every_claim_is_a_package_split_by_role(claim):
    for role in ROLES:
        path = claims.package_dir(claim) / f"{role}.py"
        assert path.is_file(), f"{claim}: missing {path.relative_to(ROOT)}"
    assert claims.test_file(claim, ROOT).is_file()
    assert isinstance(claims.spec(claim), ClaimSpec)
    assert claims.cases(claim), f"{claim} has no (scale, data set) case"


def test_the_template_is_a_package_split_by_role():
    from sgdclaims.scaffold import CLAIM_TEST, TEMPLATE

    for role in (*ROLES, CLAIM_TEST.removesuffix(".py")):
        assert (TEMPLATE / f"{role}.py").is_file(), f"the template lacks {role}.py"


def test_new_claim_refuses_bad_and_taken_ids(tmp_path):
    from sgdclaims.scaffold import new_claim

    for bad in ("Bad-Id", "_private", "1st"):
        with pytest.raises(ValueError, match="lower-case identifier"):
            new_claim(bad, SRC, tmp_path)
    with pytest.raises(ValueError, match="already registered"):
        new_claim(claims.CLAIMS[0], SRC, tmp_path)


def test_unknown_claim_names_the_known_ones():
    with pytest.raises(ValueError, match="unknown claim 'nope'; known: \\['linear_early'"):
        claims.spec("nope")


@pytest.mark.parametrize("claim", claims.CLAIMS)
def test_unknown_check_and_dataset_name_the_known_ones(claim):
    spec = claims.spec(claim)
    with pytest.raises(ValueError, match="unknown check 'nope'; known: "):
        spec.check("nope")
    with pytest.raises(ValueError, match="unknown data set 'nope' at fast scale; known: "):
        claims.get(claim).cases.config("fast", "nope")


@pytest.mark.parametrize("claim", claims.CLAIMS)
def test_configs_of_every_case_build_and_explain_their_changes(claim):
    table = claims.get(claim).cases
    for scale, dataset in claims.cases(claim):
        cfg = table.config(scale, dataset)
        assert isinstance(cfg, Config)
        assert claims.claim_of(cfg) == claim
        for change in table.changes(scale, dataset):
            assert change.why, f"{claim} {scale}/{dataset}: {change.field} differs, no reason"


@pytest.mark.parametrize("claim", claims.CLAIMS)
def test_spec_covers_fast_and_full_with_a_null_or_control_per_statistic(claim):
    spec = claims.spec(claim)
    statistics = [c for c in spec.checks if c.kind == "statistic"]
    assert statistics, f"{claim} asserts no statistic"
    assert all(c.control is not None or c.null is not None for c in statistics)
    for scale, dataset in claims.cases(claim):
        assert spec.checks_for(scale, dataset), f"{claim}: no check applies to {scale}/{dataset}"
    for miss in spec.not_reproduced:
        datasets = claims.get(claim).cases.datasets(miss.scale)
        assert miss.dataset == "*" or miss.dataset in datasets, f"{claim}: stale {miss}"


def test_readme_tables_are_generated():
    """The claims table (from the specs) and the cost table (from sgdclaims/costs.json)."""
    readme = (ROOT / "README.md").read_text()
    for name, (begin, end, text) in readme_blocks().items():
        match = re.search(re.escape(begin) + "(.*?)" + re.escape(end), readme, re.S)
        assert match, f"README.md lacks the generated {name} table markers"
        assert match.group(1) == text, (
            f"README.md's {name} table is stale: `sgdclaims readme --write`"
        )
