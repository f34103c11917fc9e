"""Cache keys fingerprint the computing code only: a claim's config and experiment modules and
the library modules they import, normalised (no docstrings, comments or override reasons).
Editing statistics, spec, figures, a docstring, a comment or a reason keeps every key;
editing experiment logic or a training function gives new keys."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sgdclaims import claims
from sgdclaims.fingerprint import fingerprint, modules, normalised

SRC = Path(__file__).resolve().parents[1] / "src" / "sgdclaims"
CLAIM = claims.CLAIMS[0]


@pytest.mark.parametrize("claim", claims.CLAIMS)
def test_fingerprint_covers_config_experiment_and_library_only(claim):
    config_module = type(claims.get(claim).cases.config(*claims.cases(claim)[0])).__module__
    found = modules(config_module)
    package = f"sgdclaims.claims.{claim}"
    assert {f"{package}.config", f"{package}.experiment"} <= set(found)
    assert "sgdclaims.config" in found and "sgdclaims.runner" in found
    for role in ("statistics", "spec", "figures"):
        assert f"{package}.{role}" not in found, f"{role} must not enter the cache key"
    assert package not in found and "sgdclaims.claims" not in found, "the faces name the rest"
    assert not [m for m in found if m.startswith("sgdclaims.report")]
    assert fingerprint(config_module) == fingerprint(config_module)


def test_transitive_imports_are_followed():
    found = modules(f"sgdclaims.claims.{CLAIM}.config")
    assert "sgdclaims.fingerprint" in found  # config -> fingerprint: two steps away
    assert "sgdclaims.curves" in found  # experiment -> training -> curves


def test_normalised_code_ignores_docstrings_comments_and_reasons():
    code = '''"""Module doc."""
def f(x):
    """Doc."""
    return x + 1  # a comment
CASES = {"a": Set(3, "the reason"), "b": Set(value=4, why="another")}
'''
    same = [
        code.replace("Module doc.", "Another module doc."),
        code.replace('"""Doc."""', '"""A longer doc\n    over two lines."""'),
        code.replace("# a comment", "# another comment\n    # and one more"),
        code.replace("the reason", "a better reason"),
        code.replace('why="another"', 'why="changed"'),
    ]
    assert all(normalised(c) == normalised(code) for c in same)
    with_constant = 'WHY = "a reason {x}"\nCASES = {"a": Set(3, WHY.format(x=1))}\n'
    assert normalised(with_constant) == normalised(with_constant.replace("a reason", "another"))
    used = with_constant + "print(WHY)\n"
    assert normalised(used) != normalised(used.replace("a reason", "another"))
    different = [
        code.replace("x + 1", "x + 2"),
        code.replace("Set(3,", "Set(5,"),
        code.replace("value=4", "value=6"),
        code + "g = 1\n",
    ]
    assert all(normalised(c) != normalised(code) for c in different)


EDITS = [
    # (file under the package, text appended, whether the key must change)
    (f"claims/{CLAIM}/statistics.py", "\nSOMETHING_NEW = 1\n", False),
    (f"claims/{CLAIM}/spec.py", "\nSOMETHING_NEW = 1\n", False),
    (f"claims/{CLAIM}/figures.py", "\nSOMETHING_NEW = 1\n", False),
    (f"claims/{CLAIM}/__init__.py", "\nSOMETHING_NEW = 1\n", False),
    (f"claims/{CLAIM}/experiment.py", "\n# a comment\n", False),
    (f"claims/{CLAIM}/experiment.py", '\ndef later():\n    """A doc."""\n', True),
    (f"claims/{CLAIM}/config.py", "\nSOMETHING_NEW = 1\n", True),
    ("training.py", "\nSOMETHING_NEW = 1\n", True),
    ("report/figures.py", "\nSOMETHING_NEW = 1\n", False),
]
DRIVER = """
import json, sys
from pathlib import Path
from sgdclaims import claims
from sgdclaims.fingerprint import fingerprint
package = Path(sys.argv[1]) / "sgdclaims"
claim = sys.argv[2]
edits = json.loads(sys.argv[3])
config = claims.get(claim).cases.config(*claims.cases(claim)[0])
keys = [config.cache_key()]
for name, text, _ in edits:
    path = package / name
    before = path.read_text()
    path.write_text(before + text)
    fingerprint.cache_clear()
    keys.append(config.cache_key())
    path.write_text(before)
print(json.dumps(keys))
"""


@pytest.mark.slow
def test_only_computing_edits_change_cache_keys(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(SRC, src / "sgdclaims", ignore=shutil.ignore_patterns("__pycache__"))
    out = subprocess.run(
        [sys.executable, "-c", DRIVER, str(src), CLAIM, json.dumps(EDITS)],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin", "HOME": str(Path.home())},
        check=True,
    )
    base, *keys = json.loads(out.stdout)
    for (name, text, changes), key in zip(EDITS, keys, strict=True):
        assert (key != base) == changes, f"appending {text!r} to {name}: {base} -> {key}"
