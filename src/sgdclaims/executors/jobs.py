"""Units as jobs: a job rebuilds its unit by rerunning the experiment restricted to it.

An experiment's `compute(unit)` closure holds prepared data and is usually not picklable, so
a job never receives it. A job gets a `JobSpec`: the config the experiment's `run` was given
(the origin), the cache key and unit(s) to compute, and the run context. It imports the
config's module, calls `run(origin, context)` with a `JobTarget` executor, and `run_units`
then computes and stores only the target units and stops the experiment (`UnitsStored`).
Any other `run_units` call on the way (an earlier phase) reads its units from the cache.
The driver waits for every job, then reads all units from the shared cache.
"""

from __future__ import annotations

import abc
import concurrent.futures as cf
import dataclasses
import importlib
import multiprocessing
import socket
import time
from collections.abc import Hashable, Iterable
from pathlib import Path
from typing import Any

from sgdclaims.cache import default_cache_root
from sgdclaims.config import Config
from sgdclaims.fingerprint import claim_package
from sgdclaims.runner import (
    Batch,
    LocalExecutor,
    RunContext,
    UnitResult,
    cache_folder_name,
    unit_slug,
)


class UnitsStored(BaseException):
    """Raised inside a job once its target units are stored: ends the experiment's run early.

    A BaseException, so an experiment's own `except Exception` cannot swallow it."""


class UnitJobsFailed(RuntimeError):
    """Some unit jobs failed; the others are stored, so a rerun computes only these."""


@dataclasses.dataclass(frozen=True)
class JobSpec:
    """Everything a job needs to rebuild and compute its units (picklable, small)."""

    origin: Config
    key: str
    slugs: tuple[str, ...]
    context: RunContext

    @property
    def label(self) -> str:
        return f"{cache_folder_name(self.origin)}/{self.key[:8]}/" + ",".join(self.slugs)


@dataclasses.dataclass(frozen=True)
class JobTarget:
    """The executor inside a job: computes the target units of the target key and stops;
    computes (or, usually, finds cached) the units of any other key, in process."""

    key: str
    slugs: frozenset[str]

    def run(self, batch: Batch) -> dict[Hashable, UnitResult]:
        """Compute the target units (those not stored meanwhile), then raise UnitsStored."""
        if batch.key != self.key:
            return LocalExecutor().run(batch)
        for unit in batch.units:
            if unit_slug(unit) in self.slugs:
                batch.compute_and_store(unit)
        raise UnitsStored


def job_main(spec: JobSpec) -> dict[str, Any]:
    """Entry point of a unit job (runs on the worker): rerun the experiment for its units."""
    t0 = time.perf_counter()
    module = experiment_module(spec.origin)
    context = dataclasses.replace(spec.context, executor=JobTarget(spec.key, frozenset(spec.slugs)))
    report = {
        "units": list(spec.slugs),
        "host": socket.gethostname(),
        "device": spec.context.device,
    }
    try:
        module.run(spec.origin, context)
    except UnitsStored:
        return {**report, "seconds": time.perf_counter() - t0}
    root = spec.context.cache_root or default_cache_root()
    if all(any(root.glob(f"*/{spec.key}/{slug}.pkl")) for slug in spec.slugs):
        return {**report, "seconds": 0.0}  # stored meanwhile (by another job): nothing to do
    raise RuntimeError(
        f"{module.__name__}.run({type(spec.origin).__name__}) never asked for cache key "
        f"{spec.key}: does run() pass run_units a config other than its own?"
    )


class JobExecutor(abc.ABC):
    """Runs each missing unit as a job that rebuilds it (see the module doc); subclasses say
    how jobs are started and awaited. `origin` is the config given to the experiment's run
    (set by `run_experiment`; the batch's config when unset). `device` is the jobs' device
    (None: the driver's), so a driver on a login node without GPUs can run jobs on CUDA."""

    origin: Config | None = None
    device: str | None = None

    def bound(self, origin: Config) -> JobExecutor:
        """A copy that reruns `origin` in its jobs."""
        return dataclasses.replace(self, origin=origin)  # type: ignore[type-var]

    def specs(self, batch: Batch) -> list[JobSpec]:
        """One job per unit: the origin config, the key and the unit, and the context with
        absolute paths (jobs may start elsewhere) and the jobs' device."""
        ctx = batch.context
        context = dataclasses.replace(
            ctx,
            executor=None,
            progress=False,
            device=self.device or ctx.device,
            cache_root=(ctx.cache_root or default_cache_root()).resolve(),
            data_root=Path(ctx.data_root).resolve() if ctx.data_root else None,
        )
        origin = self.origin if self.origin is not None else batch.config
        return [JobSpec(origin, batch.key, (unit_slug(u),), context) for u in batch.units]

    def run(self, batch: Batch) -> dict[Hashable, UnitResult]:
        """Start the jobs, wait for all of them with a progress bar, report failures."""
        specs = self.specs(batch)
        failures: list[str] = []
        with batch.bar(postfix=self.describe()) as bar:
            for spec, error in self.execute(specs):
                if error is not None:
                    failures.append(f"{spec.label}: {error}")
                bar.update(len(spec.slugs))
        if failures:
            raise UnitJobsFailed(
                f"{len(failures)} of {len(specs)} unit jobs failed (the others are stored; a "
                "rerun computes only the missing units):\n  " + "\n  ".join(failures)
            )
        return {}

    def describe(self) -> str:
        """A short description for the progress bar."""
        return type(self).__name__

    @abc.abstractmethod
    def execute(self, specs: list[JobSpec]) -> Iterable[tuple[JobSpec, str | None]]:
        """Run `job_main` on every spec; yield (spec, None or a one-line error) as each ends."""


def last_line(error: BaseException) -> str:
    """The last non-empty line of an error's text (a remote traceback ends with the cause)."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    if len(lines) > 1:
        return lines[-1]
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__


@dataclasses.dataclass(frozen=True)
class ProcessExecutor(JobExecutor):
    """Units in `workers` parallel local processes (spawned, so nothing is shared by fork):
    one claim can use every core. Each process rebuilds its unit (repeats the preparation)."""

    workers: int = 2
    origin: Config | None = None
    device: str | None = None

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError(f"workers must be >= 1, got {self.workers}")

    def describe(self) -> str:
        return f"{self.workers} processes"

    def execute(self, specs: list[JobSpec]) -> Iterable[tuple[JobSpec, str | None]]:
        context = multiprocessing.get_context("spawn")
        with cf.ProcessPoolExecutor(self.workers, mp_context=context) as pool:
            futures = {pool.submit(job_main, spec): spec for spec in specs}
            try:
                for future in cf.as_completed(futures):
                    error = future.exception()
                    yield futures[future], None if error is None else last_line(error)
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise


def bind(context: RunContext, config: Config) -> RunContext:
    """The context with its job executor (if it has one) bound to rerun `config`."""
    if isinstance(context.executor, JobExecutor):
        return dataclasses.replace(context, executor=context.executor.bound(config))
    return context


def experiment_module(config: Config) -> Any:
    """The module whose `run` computes `config`: its claim package's experiment module, or
    the module that defines the config (a config outside a claim package)."""
    module = type(config).__module__
    package = claim_package(module)
    return importlib.import_module(f"{package}.experiment" if package else module)


def run_experiment(config: Config, context: RunContext) -> Any:
    """The experiment of `config` run with `context` (a job executor bound to `config`)."""
    return experiment_module(config).run(config, bind(context, config))


class _FirstBatch(BaseException):
    """Stops an experiment at its first run_units call (a BaseException: an experiment's own
    `except Exception` cannot swallow it)."""

    def __init__(self, batch: Batch) -> None:
        super().__init__(len(batch.units))
        self.batch = batch


class Census:
    """An executor that hands back the batch of its first run_units call and computes
    nothing."""

    def run(self, batch: Batch) -> dict[Hashable, UnitResult]:
        raise _FirstBatch(batch)


def first_batch(config: Config, context: RunContext) -> Batch | None:
    """The units the experiment of `config` asks to compute first under `context` (None when
    it computes nothing: every unit cached)."""
    try:
        run_experiment(config, dataclasses.replace(context, executor=Census()))
    except _FirstBatch as stopped:
        return stopped.batch
    return None
