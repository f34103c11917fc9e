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
    says how it was computed, and side numbers shown beside it.

    dead: the runs this value uses that are not `alive` (e.g. 'seed 2 (cnn)'); a value with
    dead runs fails every check it enters (shared/CLAIMS.md, Common ground).
    aggregate: how `value` follows from `per_seed` ('mean'; '' for anything else), so the
    report can resample seeds; replicates: the statistic recomputed on seed-bootstrap
    resamples, for a value that is not a plain aggregate of per_seed (verdict stability).
    """

    value: float
    per_seed: tuple[float, ...] = ()
    note: str = ""
    details: Mapping[str, float] = dataclasses.field(default_factory=dict)
    dead: tuple[str, ...] = ()
    aggregate: str = ""
    replicates: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", float(self.value))
        object.__setattr__(self, "per_seed", tuple(float(v) for v in np.ravel(self.per_seed)))
        object.__setattr__(self, "details", {str(k): float(v) for k, v in self.details.items()})
        object.__setattr__(self, "dead", tuple(str(d) for d in self.dead))
        object.__setattr__(self, "replicates", tuple(float(v) for v in np.ravel(self.replicates)))
        if self.aggregate not in AGGREGATES:
            raise ValueError(f"aggregate must be one of {AGGREGATES}, got {self.aggregate!r}")

    def worst(self, lower_is_better: bool) -> float:
        """The worst seed's value for a criterion of that direction (NaN if any seed is NaN);
        the value itself when there are no per-seed values."""
        if not self.per_seed:
            return self.value
        seeds = np.asarray(self.per_seed, dtype=np.float64)
        if np.isnan(seeds).any():
            return float("nan")
        return float(seeds.max() if lower_is_better else seeds.min())

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
            "dead": list(self.dead),
        }


#: how a Value's value follows from its per-seed values ('' = not a plain aggregate)
AGGREGATES = ("", "mean")


def seed_mean(
    per_seed: Iterable[float], note: str = "", *, dead: Iterable[str] = (), **details: float
) -> Value:
    """A Value whose value is the plain mean of its per-seed values: a NaN seed makes the
    mean NaN (a diverged run is never dropped); `dead` names the runs that are not alive."""
    seeds = np.asarray(list(per_seed), dtype=np.float64)
    if seeds.size == 0:
        raise ValueError("seed_mean needs at least one per-seed value")
    return Value(float(seeds.mean()), tuple(seeds), note, details, tuple(dead), "mean")


#: seed-bootstrap resamples for verdict stability (shared/CLAIMS.md, Common ground)
BOOTSTRAP_RESAMPLES = 1000


def seed_bootstrap(
    n_seeds: int, statistic: Callable[[np.ndarray], float], n: int = BOOTSTRAP_RESAMPLES
) -> tuple[float, ...]:
    """`statistic(indices)` on `n` resamples of the seed indices with replacement (a fixed
    stream, so the replicates are reproducible): the replicates of a statistic that is not a
    plain aggregate of per-seed values (Kendall's W over seeds, a rank correlation of seed
    means)."""
    rng = np.random.default_rng(20261203)
    draws = rng.integers(0, n_seeds, size=(n, n_seeds))
    return tuple(float(statistic(idx)) for idx in draws)


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
