"""Argument checks that name the offending field: used by configs and library functions
alike (a ValueError that says which value is wrong and what it must be)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any


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
