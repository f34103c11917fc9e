"""A fingerprint of the code that computes a result, for cache keys.

For a config defined in a claim package (`sgdclaims.claims.<id>.config`) the computing code
is the package's `config` and `experiment` modules and every sgdclaims module they import,
transitively, except the report package and the claim packages' faces (`__init__`, which
name the statistics, spec and figures). Each module is hashed in a normalised form: its AST
without docstrings, without comments (the AST has none) and without the reasons of config
overrides (`Set(value, why)`, inline or in a constant that only reasons read), so editing
a statistic, a spec, a figure, a docstring, a comment or a reason recomputes nothing, while
editing experiment logic or a training function gives new keys. Imports are found
statically, so fingerprinting runs no code.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
from pathlib import Path

PACKAGE = "sgdclaims"
#: the package holding one subpackage per claim
CLAIMS_PACKAGE = "sgdclaims.claims"
#: the modules of a claim package whose code computes its results
COMPUTING = ("config", "experiment")
#: subpackages whose code does not shape a result
EXCLUDED = ("sgdclaims.report",)


def claim_package(module: str) -> str | None:
    """`sgdclaims.claims.<id>` for a module inside a claim package, else None."""
    parts = module.split(".")
    if module.startswith(CLAIMS_PACKAGE + ".") and len(parts) >= 3:
        return ".".join(parts[:3])
    return None


def _skipped(module: str) -> bool:
    """Report modules, the registry and the claim packages' faces."""
    if any(module == e or module.startswith(e + ".") for e in EXCLUDED):
        return True
    return module == CLAIMS_PACKAGE or claim_package(module) == module


def _source(module: str) -> Path | None:
    """The source file of an sgdclaims module (a package's __init__.py), if it exists."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        return None
    return Path(spec.origin)


def _imports(module: str, tree: ast.AST, is_package: bool) -> set[str]:
    """sgdclaims modules that `module` (parsed as `tree`) imports, as module names."""
    package = module if is_package else module.rpartition(".")[0]
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


def roots(module: str) -> list[str]:
    """Where the computing code of a config defined in `module` starts: its claim package's
    config and experiment modules, or `module` itself outside a claim package."""
    package = claim_package(module)
    if package is None:
        return [module]
    return [m for m in (f"{package}.{r}" for r in COMPUTING) if _source(m) is not None]


def modules(module: str) -> list[str]:
    """The computing modules of a config defined in `module` (see `roots`) and every
    sgdclaims module they import transitively, with the packages on the way (their
    __init__ runs on import), less the report, the registry and the claims' faces."""
    seen: set[str] = set()
    todo = roots(module)
    while todo:
        name = todo.pop()
        if name in seen or _skipped(name):
            continue
        path = _source(name)
        if path is None:
            continue
        seen.add(name)
        parts = name.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]
        tree = ast.parse(path.read_bytes(), filename=str(path))
        todo += sorted(_imports(name, tree, path.name == "__init__.py"))
    return sorted(seen)


class _Normalise(ast.NodeTransformer):
    """Drops docstrings and blanks the reason of `Set(value, why)` calls."""

    def generic_visit(self, node: ast.AST) -> ast.AST:
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and _is_docstring(body[0]):
            node.body = body[1:] or [ast.Pass()]  # type: ignore[attr-defined]
        return super().generic_visit(node)

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name == "Set":
            node.args = node.args[:1]
            node.keywords = [k for k in node.keywords if k.arg != "why"]
        return node


def _is_docstring(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


def _reasons(tree: ast.AST) -> list[ast.expr]:
    """The reason expressions of every `Set(value, why)` call in a tree."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name == "Set":
                out += node.args[1:2] + [k.value for k in node.keywords if k.arg == "why"]
    return out


def _reason_only_constants(tree: ast.Module) -> set[str]:
    """Module-level names read only inside `Set` reasons (a reason held in a constant)."""
    in_reasons = {n.id for r in _reasons(tree) for n in ast.walk(r) if isinstance(n, ast.Name)}
    inside = {id(n) for r in _reasons(tree) for n in ast.walk(r)}
    elsewhere = {
        n.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and id(n) not in inside
    }
    return in_reasons - elsewhere


def normalised(source: bytes | str, filename: str = "<source>") -> str:
    """The code of a module as its AST without docstrings, override reasons and the
    module-level constants that only reasons read (comments are not in the AST): what the
    fingerprint hashes."""
    tree = ast.parse(source, filename=filename)
    reasons = _reason_only_constants(tree)
    tree.body = [
        stmt
        for stmt in tree.body
        if not (
            isinstance(stmt, ast.Assign)
            and all(isinstance(t, ast.Name) and t.id in reasons for t in stmt.targets)
        )
    ]
    tree = _Normalise().visit(tree)
    return ast.dump(tree, annotate_fields=False, include_attributes=False)


@functools.cache
def fingerprint(module: str) -> str:
    """sha256 over the names and normalised code of `modules(module)` (16 hex digits)."""
    digest = hashlib.sha256()
    for name in modules(module):
        path = _source(name)
        assert path is not None
        code = normalised(path.read_bytes(), str(path))
        digest.update(name.encode() + b"\0" + code.encode() + b"\0")
    return digest.hexdigest()[:16]
