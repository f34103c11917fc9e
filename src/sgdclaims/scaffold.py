"""`sgdclaims new-claim ID`: a new claim package from the template (sgdclaims/claims/_template,
a complete synthetic claim), its claim test, and its line in the registry; the guide is
docs/new_claim.md."""

from __future__ import annotations

import re
from pathlib import Path

#: the template's claim id and config class prefix, replaced by the new claim's
TEMPLATE_ID = "my_claim"
TEMPLATE_CLASS = "MyClaim"
TEMPLATE = Path(__file__).parent / "claims" / "_template"
REGISTRY = Path(__file__).parent / "claims" / "__init__.py"
#: the template module that becomes claims/test_<id>.py
CLAIM_TEST = "claim_test.py"


def class_prefix(claim: str) -> str:
    """'linear_early' -> 'LinearEarly'."""
    return "".join(part.capitalize() for part in claim.split("_"))


def check_new_id(claim: str, registry: Path = REGISTRY) -> None:
    """ValueError unless `claim` is a lower-case identifier that is not registered yet."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", claim) or claim.startswith("_"):
        raise ValueError(
            f"a claim id is a lower-case identifier (like linear_early), got {claim!r}"
        )
    if f'"{claim}",' in registry.read_text():
        raise ValueError(f"claim {claim!r} is already registered in {registry}")


def fill(text: str, claim: str) -> str:
    """The template's text with the new claim's id and class prefix."""
    return text.replace(TEMPLATE_CLASS, class_prefix(claim)).replace(TEMPLATE_ID, claim)


def register(claim: str, registry: Path = REGISTRY) -> None:
    """Add `claim` as the last entry of the registry's CLAIMS tuple."""
    text = registry.read_text()
    start = text.index("CLAIMS: tuple[str, ...] = (\n")
    end = text.index("\n)\n", start)
    registry.write_text(text[:end] + f'\n    "{claim}",' + text[end:])


def new_claim(claim: str, package: Path, tests: Path) -> list[Path]:
    """Write the claim package under `package` (the sgdclaims source folder), the claim test
    under `tests` (the project's claims/ folder) and the registry line; return the files."""
    registry = package / "claims" / "__init__.py"
    check_new_id(claim, registry)
    dest = package / "claims" / claim
    if dest.exists():
        raise ValueError(f"{dest} exists already")
    written = []
    dest.mkdir(parents=True)
    for source in sorted(TEMPLATE.glob("*.py")):
        target = tests / f"test_{claim}.py" if source.name == CLAIM_TEST else dest / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(fill(source.read_text(), claim))
        written.append(target)
    register(claim, registry)
    return [*written, registry]
