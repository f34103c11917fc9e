"""The package's layers, kept by a static import check (an import-linter contract written as a
test; `make lint` runs it too). Every import counts, including those inside functions.

- core (spec types, values, configs, cache, runner, verdicts, store record) and the library
  (info, data, models, training, linearise, teacher_student, ...) import no claim, report,
  executor or command-line module; the library does not import configs either;
- a claim package imports no other claim, no report, executor or pytest module; its config
  and experiment (the cache key's code) import none of its statistics, spec, figures, face;
- report/ imports no executor and no claim package (only the registry), and names no claim;
- the registry (sgdclaims.claims) is the only module that lists claim ids.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from sgdclaims import claims

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "sgdclaims"
CORE = {
    "sgdclaims",
    "sgdclaims.cache",
    "sgdclaims.config",
    "sgdclaims.costtable",
    "sgdclaims.curves",
    "sgdclaims.figure",
    "sgdclaims.fingerprint",
    "sgdclaims.record",
    "sgdclaims.runner",
    "sgdclaims.spec",
    "sgdclaims.streams",
    "sgdclaims.validate",
    "sgdclaims.values",
    "sgdclaims.verdicts",
}
TOP = ("sgdclaims.claims", "sgdclaims.report", "sgdclaims.executors", "sgdclaims.cli")
TOP_MODULES = ("sgdclaims.pytest_plugin", "sgdclaims.claimcase")
COMPUTING = ("config", "experiment")
PRESENTING = ("statistics", "spec", "figures")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """The sgdclaims modules a file imports (absolute or relative, anywhere in the file)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join([*parts, node.module] if node.module else parts)
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
    return {m for m in found if m.split(".")[0] == "sgdclaims"}


def within(module: str, *prefixes: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def _layer(module: str) -> str:
    if module in CORE:
        return "core"
    if within(module, *TOP) or module in TOP_MODULES:
        return "top"
    return "library"


def test_core_and_library_import_no_claim_report_executor_or_command():
    bad = [
        f"{m} imports {i}"
        for m, path in MODULES.items()
        if _layer(m) != "top"
        for i in imports(path)
        if within(i, *TOP) or i in TOP_MODULES
    ]
    assert not bad, bad


def test_library_imports_no_config():
    bad = [
        f"{m} imports {i}"
        for m, path in MODULES.items()
        if _layer(m) == "library"
        for i in imports(path)
        if i == "sgdclaims.config" or i.startswith("sgdclaims.config.")
    ]
    assert not bad, f"library modules take plain arguments (validators: sgdclaims.validate): {bad}"


@pytest.mark.parametrize("claim", claims.CLAIMS)
def test_a_claim_package_stands_alone(claim):
    package = f"sgdclaims.claims.{claim}"
    others = [f"sgdclaims.claims.{c}" for c in claims.CLAIMS if c != claim]
    forbidden = ("sgdclaims.report", "sgdclaims.executors", "sgdclaims.cli", *TOP_MODULES)
    bad = []
    for m, path in MODULES.items():
        if not within(m, package):
            continue
        for i in imports(path):
            if within(i, *others, *forbidden):
                bad.append(f"{m} imports {i}")
            computing = m.rpartition(".")[2] in COMPUTING
            if computing and (i == package or within(i, *(f"{package}.{r}" for r in PRESENTING))):
                bad.append(f"{m} (cache-key code) imports {i}")
    assert not bad, bad


def test_report_imports_no_executor_or_claim_package_and_names_no_claim():
    bad = []
    for m, path in MODULES.items():
        if not within(m, "sgdclaims.report"):
            continue
        for i in imports(path):
            if within(i, "sgdclaims.executors", "sgdclaims.claims") and i != "sgdclaims.claims":
                bad.append(f"{m} imports {i} (the report reaches claims through the registry)")
        strings = {
            n.value for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Constant)
        }
        bad += [f"{m} names {c}" for c in claims.CLAIMS if c in strings]
    assert not bad, bad


def test_only_the_registry_lists_claim_ids():
    """Outside its own package and claim test, no module names a claim id or imports it."""
    root = SRC.parent
    offenders = []
    for path in [*PACKAGE.rglob("*.py"), *(root / "claims").glob("*.py")]:
        if path == PACKAGE / "claims" / "__init__.py":
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)}
        mods = imports(path) if path.is_relative_to(SRC) else _plain_imports(tree)
        for claim in claims.CLAIMS:
            own = path.is_relative_to(claims.package_dir(claim)) or path == claims.test_file(
                claim, root
            )
            if own:
                continue
            if claim in strings or any(within(i, f"sgdclaims.claims.{claim}") for i in mods):
                offenders.append(f"{path.relative_to(root)} names {claim}")
    assert not offenders, offenders


def _plain_imports(tree: ast.AST) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found
