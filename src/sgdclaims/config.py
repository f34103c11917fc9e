"""Frozen experiment configs: validation, hashing into cache keys, and shrinking for smoke runs.

Every experiment config is a frozen dataclass deriving from `Config`. The paper's values
are the defaults of the `full` scale; fast-scale changes are written beside the field
(see each experiment module). `cache_key()` hashes the canonical JSON of the config and
the package version, so any change of a value or of the code release gives a new key.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Iterable
from typing import Any, ClassVar, TypeVar

from sgdclaims import __version__

C = TypeVar("C", bound="Config")


def _canonical(value: Any) -> Any:
    """Turn a config value into plain JSON (dataclasses, tuples, inf) in a stable way."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _canonical(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (tuple, list)):
        return [_canonical(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    return value


@dataclasses.dataclass(frozen=True)
class Config:
    """Base of all experiment configs: a frozen dataclass with checks and a stable hash.

    Subclasses set `claim` (the claim id) and override `validate` to raise ValueError
    naming the field; `smoke` returns a copy small enough to run on a CPU in seconds.
    """

    claim: ClassVar[str] = "config"
    #: why each field differs from the paper's value (the field's default) at fast scale
    WHY: ClassVar[dict[str, str]] = {}

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ValueError naming the field for impossible values; subclasses extend."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict of every field (used for hashing and in reports)."""
        return _canonical(self)

    def cache_key(self) -> str:
        """Hash of the config (all fields, class name) and the package version."""
        blob = json.dumps(
            {"class": type(self).__qualname__, "version": __version__, "config": self.to_dict()},
            sort_keys=True,
        )
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def paper_differences(self) -> dict[str, dict[str, Any]]:
        """Fields whose value differs from the paper's (the dataclass default), with why."""
        out = {}
        for f in dataclasses.fields(self):
            if f.default is dataclasses.MISSING:
                continue
            value, paper = getattr(self, f.name), f.default
            if _canonical(value) != _canonical(paper):
                out[f.name] = {
                    "value": _canonical(value),
                    "paper": _canonical(paper),
                    "why": self.WHY.get(f.name, ""),
                }
        return out

    def replace(self: C, **changes: Any) -> C:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def smoke(self: C) -> C:
        """A copy shrunk to run on a CPU in seconds; every full config must support it."""
        raise NotImplementedError(f"{type(self).__name__} has no smoke() override")


def require_positive(name: str, value: float, *, allow_inf: bool = False) -> None:
    """Raise ValueError unless `value` is a positive number (inf only when allowed)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {value!r}")
    if math.isinf(value) and not allow_inf:
        raise ValueError(f"{name} must be finite, got {value!r}")


def require_non_negative(name: str, value: float) -> None:
    """Raise ValueError unless `value` is a finite number >= 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")


def require_choice(name: str, value: Any, choices: Iterable[Any]) -> None:
    """Raise ValueError unless `value` is one of `choices`, listing them."""
    options = list(choices)
    if value not in options:
        raise ValueError(f"{name} must be one of {options}, got {value!r}")


def require_seeds(name: str, seeds: tuple[int, ...]) -> None:
    """Raise ValueError unless `seeds` is a non-empty tuple of distinct non-negative ints."""
    if not isinstance(seeds, tuple) or not seeds:
        raise ValueError(f"{name} must be a non-empty tuple of ints, got {seeds!r}")
    if any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in seeds):
        raise ValueError(f"{name} must hold non-negative ints, got {seeds!r}")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"{name} has repeated seeds: {seeds!r}")
