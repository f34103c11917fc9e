"""`sgdclaims precompute`: compute the missing units of every claim's cases at one scale in a
pool of N processes, longest first, before the claim tests read them from the cache.

Under `pytest -n N --dist loadfile` one worker carries a whole claim file, so the largest
claim sets the wall time. Here the units (seeds, variants) of all claims share one queue:
each unit is a job that reruns its experiment for that unit only (sgdclaims.executors.jobs)
and stores it atomically, so the claim tests that follow compute nothing and a failed job
is computed again (and reported) by its test. Jobs are ordered by the compute time the last
recorded run of their case measured per unit (unknown ones first), so no single claim's
tail sets the wall time.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
from collections.abc import Callable
from pathlib import Path

from tqdm.auto import tqdm

from sgdclaims import claims
from sgdclaims.executors.jobs import JobSpec, ProcessExecutor, first_batch, job_main, last_line
from sgdclaims.runner import RunContext, unit_slug


def missing_jobs(claim: str, scale: str, dataset: str, context: RunContext) -> list[JobSpec]:
    """One job per unit of a case that is not in the cache yet (none: all cached)."""
    config = claims.get(claim).cases.config(scale, dataset)
    batch = first_batch(config, context)
    return [] if batch is None else ProcessExecutor(origin=config).specs(batch)


def previous_unit_seconds(report_dir: Path) -> dict[tuple[str, str], float]:
    """Seconds per unit of each case ('claim/scale/dataset', unit) in the last recorded run,
    to order the jobs (empty without a results store)."""
    from sgdclaims.report.store import StoreError, load_results

    try:
        cases = load_results(report_dir).get("cases") or {}
    except (StoreError, OSError):
        return {}
    out = {}
    for key, payload in cases.items():
        for unit, seconds in (payload.get("unit_seconds") or {}).items():
            out[(key, unit_slug(unit))] = float(seconds)
    return out


def precompute(
    scale: str,
    context: RunContext,
    jobs: int,
    *,
    report_dir: Path | None = None,
    names: list[str] | None = None,
    log: Callable[[str], None] = print,
) -> list[str]:
    """Compute every missing unit of the named claims (default: all) at `scale` in `jobs`
    processes, longest first; returns the errors (a job that failed, a case that could not
    be enumerated), which the claim tests then meet again as errors of their own."""
    errors: list[str] = []
    queue: list[tuple[float, str, JobSpec]] = []
    seconds = previous_unit_seconds(report_dir) if report_dir else {}
    for claim in names or list(claims.CLAIMS):
        for dataset in claims.get(claim).cases.datasets(scale):
            key = f"{claim}/{scale}/{dataset}"
            try:
                specs = missing_jobs(claim, scale, dataset, context)
            except Exception as exc:
                errors.append(f"{key}: {type(exc).__name__}: {exc}")
                continue
            for spec in specs:
                queue.append((seconds.get((key, spec.slugs[0]), float("inf")), key, spec))
    queue.sort(key=lambda item: -item[0])
    if not queue:
        return errors
    cases = len({key for _, key, _ in queue})
    log(f"precompute: {len(queue)} units of {cases} cases in {jobs} processes")
    pool_context = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(jobs, mp_context=pool_context) as pool:
        futures = {pool.submit(job_main, spec): (key, spec) for _, key, spec in queue}
        bar = tqdm(total=len(futures), desc="precompute", unit="unit", disable=not context.progress)
        with bar:
            for future in cf.as_completed(futures):
                key, spec = futures[future]
                if future.exception() is not None:
                    errors.append(f"{key} {spec.slugs[0]}: {last_line(future.exception())}")
                bar.update()
    return errors
