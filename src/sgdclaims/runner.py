"""Experiment runner: config -> Result, computed unit by unit (usually seeds) and cached.

An experiment module provides `run(config, context) -> Result` and implements it by calling
`run_units(config, units, compute, context)`, where `compute(unit)` returns a `UnitResult`
for one seed (or one (K, seed) pair, ...). Each finished unit is stored atomically under the
config's cache key, so a rerun reuses it and an interrupted run resumes at the first
unfinished unit. A corrupt entry is an error (it names the file), never silently reused.

Who computes the missing units is the context's `executor`: in process by default
(`LocalExecutor`); `sgdclaims.executors` has ones that run each unit as a job (parallel
processes, SLURM through submitit), which rebuild the unit by rerunning the experiment.
"""

from __future__ import annotations

import dataclasses
import json
import re
import time
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from sgdclaims.cache import default_cache_root, dump_entry, load_entry, write_atomic
from sgdclaims.calibration import machine_gflops, reference_seconds
from sgdclaims.config import Config
from sgdclaims.fingerprint import claim_package


@dataclasses.dataclass(frozen=True)
class RunContext:
    """Where and how an experiment runs: data root, device, result cache, progress bars,
    and the executor that computes missing units.

    use_cache False recomputes every unit (and stores it, so a later run sees the fresh
    values); cache_root None is $SGDCLAIMS_CACHE or ~/.cache/sgdclaims/results.
    """

    data_root: Path | None = None
    device: str = "cpu"
    cache_root: Path | None = None
    use_cache: bool = True
    progress: bool = True
    #: who computes the missing units (None: in this process, one after the other)
    executor: Executor | None = None


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
    #: CPU time of this process while the unit was computed (robust to a loaded machine;
    #: all of torch's threads counted), and the machine's calibration figure (GFLOP/s)
    cpu_seconds: float = 0.0
    gflops: float = 0.0


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
    #: the units read from the cache in this run (the others were computed)
    reused_units: tuple[Hashable, ...] = ()

    @property
    def compute_seconds(self) -> float:
        """Seconds the units took when they were computed (cached units included)."""
        return float(self.scalars["seconds"].sum())

    @property
    def reference_seconds(self) -> float:
        """The units' CPU seconds in reference-machine seconds (shared/CLAIMS.md, Budgets):
        each unit's CPU time x the figure of the machine that computed it / 68."""
        frame = self.scalars
        return float(
            sum(reference_seconds(c, g) for c, g in zip(frame["cpu_seconds"], frame["gflops"]))
        )

    def per_unit(self, name: str, sort_by: str = "step") -> list[pd.DataFrame]:
        """One of the frames split by unit (in the order of `units`), each sorted."""
        frame = self.frame(name)
        return [frame[frame["unit"] == u].sort_values(sort_by) for u in self.units]

    def frame(self, name: str) -> pd.DataFrame:
        """One of the tidy frames, with a clear error naming the ones that exist."""
        if name not in self.frames:
            raise KeyError(f"no frame {name!r}; this result has {sorted(self.frames)}")
        return self.frames[name]


def cache_folder_name(config: Config) -> str:
    """The cache's folder for a config: its claim id (the claim package's name), else the
    name of the module that defines the config."""
    module = type(config).__module__
    return (claim_package(module) or module).rpartition(".")[2]


def unit_slug(unit: Hashable) -> str:
    """A file-name-safe, stable name for a unit (seed 3 -> 'unit-3')."""
    text = unit if isinstance(unit, str) else json.dumps(unit, default=str)
    return "unit-" + re.sub(r"[^A-Za-z0-9_.=-]+", "_", text).strip("_")


class MissingEntry(Exception):
    """An executor reported a unit done but its cache entry is not where this process looks."""


@dataclasses.dataclass
class Batch:
    """The units of one `run_units` call that are not in the cache: what an executor runs.

    compute is the experiment's own closure (usually not picklable: it holds prepared data);
    an executor that runs units elsewhere rebuilds them from `config` and `key` instead.
    """

    config: Config
    key: str
    folder: Path
    units: list[Hashable]
    compute: Callable[[Hashable], UnitResult]
    context: RunContext
    label: str
    total: int

    def path(self, unit: Hashable) -> Path:
        """The cache entry of a unit."""
        return self.folder / f"{unit_slug(unit)}.pkl"

    def compute_and_store(self, unit: Hashable) -> UnitResult:
        """Compute one unit in this process and store it atomically."""
        t0, c0 = time.perf_counter(), time.process_time()
        out = self.compute(unit)
        if not isinstance(out, UnitResult):
            raise TypeError(f"compute({unit!r}) returned {type(out).__name__}, not UnitResult")
        out.seconds = time.perf_counter() - t0
        out.cpu_seconds = time.process_time() - c0
        out.gflops = machine_gflops()
        dump_entry(self.path(unit), out)
        return out

    def bar(self, **kwargs: Any) -> tqdm:
        """A progress bar over all units of the call (the cached ones already counted)."""
        return tqdm(
            desc=self.label,
            unit="unit",
            total=self.total,
            initial=self.total - len(self.units),
            disable=not self.context.progress,
            leave=False,
            **kwargs,
        )


class Executor(Protocol):
    """Computes and stores the units of a batch; returns those it computed in this process
    (the rest are read from the cache afterwards)."""

    def run(self, batch: Batch) -> dict[Hashable, UnitResult]: ...


class LocalExecutor:
    """The default: every unit in this process, one after the other."""

    def run(self, batch: Batch) -> dict[Hashable, UnitResult]:
        """Compute the units in order, each stored as soon as it is done."""
        out = {}
        with batch.bar() as bar:
            for unit in batch.units:
                out[unit] = batch.compute_and_store(unit)
                bar.update()
        return out


def unit_folder(config: Config, context: RunContext) -> Path:
    """The cache folder of a config's units: <cache root>/<claim>/<cache key>."""
    root = context.cache_root or default_cache_root()
    return root / cache_folder_name(config) / config.cache_key()


def load_unit(path: Path) -> UnitResult:
    """A stored unit (CorruptCacheEntry when it does not check)."""
    cached = load_entry(path)
    if not isinstance(cached, UnitResult):
        raise TypeError(f"{path} holds {type(cached).__name__}, not a UnitResult")
    return cached


def run_units(
    config: Config,
    units: Sequence[Hashable],
    compute: Callable[[Hashable], UnitResult],
    context: RunContext,
    *,
    label: str | None = None,
) -> Result:
    """Compute (or reuse) every unit of `config` and combine them into a Result."""
    if len(units) == 0:
        raise ValueError("units must not be empty")
    if len(set(map(unit_slug, units))) != len(units):
        raise ValueError(f"units must be distinct, got {list(units)}")
    units = list(units)
    folder = unit_folder(config, context)
    folder.mkdir(parents=True, exist_ok=True)
    manifest = folder / "config.json"
    if not manifest.exists():
        write_atomic(manifest, json.dumps(config.to_dict(), indent=2, sort_keys=True).encode())

    start = time.perf_counter()
    paths = {u: folder / f"{unit_slug(u)}.pkl" for u in units}
    results = {u: load_unit(p) for u, p in paths.items() if context.use_cache and p.exists()}
    reused = len(results)
    missing = [u for u in units if u not in results]
    if missing:
        key = folder.name
        batch = Batch(
            config,
            key,
            folder,
            missing,
            compute,
            context,
            label or f"{cache_folder_name(config)} [{key[:8]}]",
            len(units),
        )
        done = (context.executor or LocalExecutor()).run(batch)
        for unit in missing:
            if unit in done:
                results[unit] = done[unit]
            elif paths[unit].exists():
                results[unit] = load_unit(paths[unit])
            else:
                raise MissingEntry(
                    f"unit {unit!r} was reported done but {paths[unit]} does not exist: "
                    "is the cache directory on a filesystem the jobs share?"
                )
    ordered = {u: results[u] for u in units}
    result = combine(config, folder.name, units, ordered, time.perf_counter() - start, reused)
    result.reused_units = tuple(u for u in units if u not in missing)
    return result


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
        [
            {
                "unit": u,
                **r.scalars,
                "seconds": r.seconds,
                "cpu_seconds": getattr(r, "cpu_seconds", 0.0),
                "gflops": getattr(r, "gflops", 0.0),
            }
            for u, r in results.items()
        ]
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
