"""Cache keys fingerprint the code that computes a result: editing an experiment module, or a
module it imports, gives new keys; editing the report (which only draws) does not."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sgdclaims import claims
from sgdclaims.fingerprint import fingerprint, modules

SRC = Path(__file__).resolve().parents[1] / "src" / "sgdclaims"
CLAIM = claims.CLAIMS[0]
KEY = (
    "from sgdclaims import claims; "
    f"c = claims.experiment({CLAIM!r}); "
    "print(c.CASES.config(*claims.cases({CLAIM!r})[0]).cache_key())"
)


@pytest.mark.parametrize("claim", claims.CLAIMS)
def test_fingerprint_covers_imports_but_not_the_report(claim):
    found = modules(f"sgdclaims.experiments.{claim}")
    assert f"sgdclaims.experiments.{claim}" in found
    assert "sgdclaims.config" in found and "sgdclaims.runner" in found
    assert not [m for m in found if m.startswith("sgdclaims.report")]
    assert fingerprint(f"sgdclaims.experiments.{claim}") == fingerprint(
        f"sgdclaims.experiments.{claim}"
    )


def test_transitive_imports_are_followed():
    found = modules(f"sgdclaims.experiments.{CLAIM}")
    assert "sgdclaims.fingerprint" in found  # config -> fingerprint: two steps away
    assert "sgdclaims.curves" in found  # training -> curves


def _key(src: Path) -> str:
    out = subprocess.run(
        [sys.executable, "-c", KEY.replace("{CLAIM!r}", repr(CLAIM))],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin", "HOME": str(Path.home())},
        check=True,
    )
    return out.stdout.strip()


@pytest.mark.slow
def test_editing_code_changes_cache_keys(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(SRC, src / "sgdclaims", ignore=shutil.ignore_patterns("__pycache__"))
    package = src / "sgdclaims"
    keys = [_key(src)]
    for edited, changes in (
        (package / "experiments" / f"{CLAIM}.py", True),
        (package / "training.py", True),
        (package / "report" / f"{CLAIM}.py", False),
    ):
        edited.write_text(edited.read_text() + "\n# an edit\n")
        keys.append(_key(src))
        assert (keys[-1] != keys[-2]) == changes, f"editing {edited.name}: keys {keys[-2:]}"
