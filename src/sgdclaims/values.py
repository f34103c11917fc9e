"""What an experiment's `statistics(result)` returns: one `Value` per statistic, control,
precondition and reported number, each with its per-seed values.

An experiment module declares its statistics with a `Statistics` table:

    statistics = Statistics()

    @statistics.returns("early_explained", "early_explained_control")
    def _early(result): ...

so the names are known at import (a spec naming a value that statistics() does not return
is an error at collection) and `statistics(result)` computes every value in one place.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np


@dataclasses.dataclass(frozen=True)
class Value:
    """A statistic's value (usually the mean over seeds), its per-seed values, a note that
    says how it was computed, and side numbers shown beside it."""

    value: float
    per_seed: tuple[float, ...] = ()
    note: str = ""
    details: Mapping[str, float] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", float(self.value))
        object.__setattr__(self, "per_seed", tuple(float(v) for v in np.ravel(self.per_seed)))
        object.__setattr__(self, "details", {str(k): float(v) for k, v in self.details.items()})

    @property
    def spread(self) -> float | None:
        """Standard deviation over seeds (NaN if any seed is NaN); None for one seed."""
        if len(self.per_seed) < 2:
            return None
        seeds = np.asarray(self.per_seed, dtype=np.float64)
        if np.isinf(seeds).any():
            return float("nan")
        return float(np.std(seeds, ddof=1))

    def to_json(self) -> dict[str, Any]:
        """Plain JSON (inf and NaN as floats)."""
        return {
            "value": json_number(self.value),
            "per_seed": [json_number(v) for v in self.per_seed],
            "spread": json_number(self.spread),
            "note": self.note,
            "details": {k: json_number(v) for k, v in self.details.items()},
        }


def seed_mean(per_seed: Iterable[float], note: str = "", **details: float) -> Value:
    """A Value whose value is the plain mean of its per-seed values: a NaN seed makes the
    mean NaN (a diverged run is never dropped)."""
    seeds = np.asarray(list(per_seed), dtype=np.float64)
    if seeds.size == 0:
        raise ValueError("seed_mean needs at least one per-seed value")
    return Value(float(seeds.mean()), tuple(seeds), note, details)


def json_number(value: float | None) -> float | None:
    """A number for the results store: a float (inf and NaN stay floats; Python's json
    writes and reads them), or None."""
    return None if value is None else float(value)


class Statistics:
    """The statistics of one experiment: functions registered with `returns(*names)`, each
    returning a {name: Value} dict with exactly those names; calling the table on a result
    computes all of them."""

    def __init__(self) -> None:
        self._functions: list[tuple[tuple[str, ...], Callable[[Any], Mapping[str, Value]]]] = []

    @property
    def names(self) -> tuple[str, ...]:
        """Every name the table returns, in registration order."""
        return tuple(n for names, _ in self._functions for n in names)

    def returns(self, *names: str) -> Callable:
        """Register a function computing the values called `names` from a result."""
        if not names or len(set(names)) != len(names):
            raise ValueError(f"returns() needs distinct names, got {names}")
        clash = sorted(set(names) & set(self.names))
        if clash:
            raise ValueError(f"statistics {clash} are already registered")

        def register(fn: Callable[[Any], Mapping[str, Value]]) -> Callable:
            self._functions.append((tuple(names), fn))
            return fn

        return register

    def __call__(self, result: Any) -> dict[str, Value]:
        """Every registered value of `result`."""
        out: dict[str, Value] = {}
        for names, fn in self._functions:
            values = dict(fn(result))
            if set(values) != set(names):
                raise RuntimeError(
                    f"{fn.__name__} returned {sorted(values)}, but registered {sorted(names)}"
                )
            for name, value in values.items():
                if not isinstance(value, Value):
                    raise TypeError(f"{fn.__name__}: {name} is {type(value).__name__}, not Value")
            out.update(values)
        return out
