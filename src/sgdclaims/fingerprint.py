"""A fingerprint of the code that produces a result: a module and every sgdclaims module it
imports, transitively, except the report package (which only draws and explains).

Cache keys include it, so editing an experiment or anything it computes with gives new
keys and a stale result is never read as current. Imports are found statically (the AST
of each source file), so the fingerprint needs no import side effects.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
from pathlib import Path

PACKAGE = "sgdclaims"
#: subpackages whose code does not shape a result
EXCLUDED = ("sgdclaims.report",)


def _excluded(module: str) -> bool:
    return any(module == e or module.startswith(e + ".") for e in EXCLUDED)


def _source(module: str) -> Path | None:
    """The source file of an sgdclaims module (a package's __init__.py), if it exists."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        return None
    return Path(spec.origin)


def _imports(module: str, path: Path) -> set[str]:
    """sgdclaims modules that `module` (at `path`) imports, resolved to module names."""
    tree = ast.parse(path.read_bytes(), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                origin = ".".join([*base, node.module] if node.module else base)
            else:
                origin = node.module or ""
            found.add(origin)
            # `from sgdclaims import info` imports the submodule sgdclaims.info
            found.update(f"{origin}.{alias.name}" for alias in node.names)
    return {m for m in found if m == PACKAGE or m.startswith(PACKAGE + ".")}


def modules(module: str) -> list[str]:
    """`module` and every sgdclaims module it imports transitively (report excluded),
    including the packages on the way (their __init__ runs on import)."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        name = todo.pop()
        if name in seen or _excluded(name):
            continue
        path = _source(name)
        if path is None:
            continue
        seen.add(name)
        parts = name.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]
        todo += sorted(_imports(name, path))
    return sorted(seen)


@functools.cache
def fingerprint(module: str) -> str:
    """sha256 over the names and source bytes of `modules(module)` (16 hex digits)."""
    digest = hashlib.sha256()
    for name in modules(module):
        path = _source(name)
        assert path is not None
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]
