"""Experiment runner: config -> Result, computed unit by unit (usually seeds) and cached.

An experiment module provides `run(config, ...) -> Result` and implements it by calling
`run_units(config, units, compute)`, where `compute(unit)` returns a `UnitResult` for one
seed (or one (K, seed) pair, ...). Each finished unit is stored atomically under the
config's cache key, so a rerun reuses it and an interrupted run resumes at the first
unfinished unit.
"""

from __future__ import annotations

import dataclasses
import json
import re
import time
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from sgdclaims.cache import cache_disabled, default_cache_root, dump_entry, try_load, write_atomic
from sgdclaims.config import Config


@dataclasses.dataclass
class UnitResult:
    """What one unit (seed) of an experiment produced.

    frames: tidy tables (one row per model x checkpoint, say), without the unit column;
    scalars: named numbers; arrays: named numpy arrays (heat maps, matrices);
    provenance: facts about the inputs (data set source, subset, sizes).
    """

    frames: dict[str, pd.DataFrame] = dataclasses.field(default_factory=dict)
    scalars: dict[str, float] = dataclasses.field(default_factory=dict)
    arrays: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    provenance: dict[str, Any] = dataclasses.field(default_factory=dict)
    seconds: float = 0.0


@dataclasses.dataclass
class Result:
    """All units of one experiment: frames concatenated with a `unit` column, and per-unit
    scalars, arrays and provenance keyed by unit."""

    config: Config
    cache_key: str
    units: list[Hashable]
    frames: dict[str, pd.DataFrame]
    scalars: pd.DataFrame
    arrays: dict[Hashable, dict[str, np.ndarray]]
    provenance: dict[str, Any]
    seconds: float
    reused: int

    def frame(self, name: str) -> pd.DataFrame:
        """One of the tidy frames, with a clear error naming the ones that exist."""
        if name not in self.frames:
            raise KeyError(f"no frame {name!r}; this result has {sorted(self.frames)}")
        return self.frames[name]


def unit_slug(unit: Hashable) -> str:
    """A file-name-safe, stable name for a unit (seed 3 -> 'unit-3')."""
    text = unit if isinstance(unit, str) else json.dumps(unit, default=str)
    return "unit-" + re.sub(r"[^A-Za-z0-9_.=-]+", "_", text).strip("_")


def run_units(
    config: Config,
    units: Sequence[Hashable],
    compute: Callable[[Hashable], UnitResult],
    *,
    cache_root: Path | None = None,
    use_cache: bool | None = None,
    progress: bool = True,
    label: str | None = None,
) -> Result:
    """Compute (or reuse) every unit of `config` and combine them into a Result.

    use_cache None means: on unless SGDCLAIMS_NO_CACHE is set. With the cache off, units
    are recomputed and then stored, so a later cached run sees the fresh values.
    """
    if len(units) == 0:
        raise ValueError("units must not be empty")
    if len(set(map(unit_slug, units))) != len(units):
        raise ValueError(f"units must be distinct, got {list(units)}")
    use_cache = (not cache_disabled()) if use_cache is None else use_cache
    key = config.cache_key()
    folder = (cache_root or default_cache_root()) / config.claim / key
    folder.mkdir(parents=True, exist_ok=True)
    manifest = folder / "config.json"
    if not manifest.exists():
        write_atomic(manifest, json.dumps(config.to_dict(), indent=2, sort_keys=True).encode())

    start = time.perf_counter()
    results: dict[Hashable, UnitResult] = {}
    reused = 0
    bar = tqdm(
        units,
        desc=label or f"{config.claim} [{key[:8]}]",
        unit="unit",
        disable=not progress,
        leave=False,
    )
    for unit in bar:
        path = folder / f"{unit_slug(unit)}.pkl"
        cached = try_load(path) if use_cache else None
        if isinstance(cached, UnitResult):
            results[unit] = cached
            reused += 1
            continue
        t0 = time.perf_counter()
        out = compute(unit)
        if not isinstance(out, UnitResult):
            raise TypeError(f"compute({unit!r}) returned {type(out).__name__}, not UnitResult")
        out.seconds = time.perf_counter() - t0
        dump_entry(path, out)
        results[unit] = out
    return combine(config, key, list(units), results, time.perf_counter() - start, reused)


def combine(
    config: Config,
    key: str,
    units: list[Hashable],
    results: dict[Hashable, UnitResult],
    seconds: float,
    reused: int,
) -> Result:
    """Concatenate per-unit frames (adding a `unit` column) into one Result."""
    names = sorted({name for r in results.values() for name in r.frames})
    frames = {}
    for name in names:
        parts = [
            r.frames[name].assign(unit=[u] * len(r.frames[name]))
            for u, r in results.items()
            if name in r.frames
        ]
        frames[name] = pd.concat(parts, ignore_index=True)
    scalars = pd.DataFrame(
        [{"unit": u, **r.scalars, "seconds": r.seconds} for u, r in results.items()]
    )
    provenance: dict[str, Any] = {}
    for r in results.values():
        provenance.update(r.provenance)
    return Result(
        config=config,
        cache_key=key,
        units=units,
        frames=frames,
        scalars=scalars,
        arrays={u: r.arrays for u, r in results.items()},
        provenance=provenance,
        seconds=seconds,
        reused=reused,
    )
