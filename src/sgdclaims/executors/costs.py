"""The full-tier cost table: per claim and full-scale data set, the units, the SGD steps per
unit, and the time, extrapolated from a measured smoke run (`config.smoke()` of the full
config: the same model and batch size, a few steps).

units: counted from the experiment itself (a census executor records the units of its first
`run_units` call and stops it; nothing is computed). steps per unit: the config's `steps`,
else epochs x (training examples // batch size). Seconds per step: the mean over the smoke's
units of each unit's seconds over its steps (the last recorded `step` of its frames): units
may differ in cost (iterative_linearisation's K=1 relinearises at every step). The first
unit is left out when there are others: it pays the process's one-off warm-up (first
allocations, lazy initialisation), which over a smoke's few steps can double its time. On a
CPU the time is the unit's CPU time (process time: robust to a loaded machine; one thread with
OMP_NUM_THREADS=1, else core-seconds), on a GPU its wall time. The smoke's checkpoints are
denser than the full run's, so the per-step time is an upper estimate. The GPU estimate of a
CPU row divides by GPU_SPEEDUP (an assumption, stated beside the table); a row measured on a
GPU (`sgdclaims costs --measure --device cuda`) gives GPU hours directly.
Rows are stored in sgdclaims/costs.json (sgdclaims.costtable reads them for the claim pages
and the README).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import tempfile
import time
from collections.abc import Callable, Hashable
from pathlib import Path

from sgdclaims import claims
from sgdclaims.cache import write_atomic
from sgdclaims.calibration import machine_gflops
from sgdclaims.config import Config
from sgdclaims.costtable import COSTS_FILE, GPU_SPEEDUP, CostRow, load_costs
from sgdclaims.data import DatasetMissing
from sgdclaims.executors.jobs import first_batch, run_experiment
from sgdclaims.runner import LocalExecutor, Result, RunContext
from sgdclaims.training import epoch_steps

#: training examples of the papers' data sets (full splits), for epoch-based configs
TRAIN_SIZES = {"mnist": 60_000, "fashion_mnist": 60_000, "cifar10": 50_000, "imagenet": 1_281_167}


def count_units(config: Config, data_root: Path | None = None) -> int:
    """How many units the experiment of `config` computes (its first run_units call)."""
    with tempfile.TemporaryDirectory(prefix="sgdclaims-census-") as tmp:
        context = RunContext(data_root, cache_root=Path(tmp), use_cache=False, progress=False)
        batch = first_batch(config, context)
    if batch is None:
        raise RuntimeError(f"{type(config).__name__}: run() computed without calling run_units")
    return len(batch.units)


def steps_per_unit(config: Config) -> int | None:
    """The config's `steps`, else epochs x (training examples // batch size); None if the
    config has neither."""
    steps = getattr(config, "steps", None)
    if isinstance(steps, int):
        return steps
    epochs, batch = getattr(config, "epochs", None), getattr(config, "batch_size", None)
    n_train = getattr(config, "n_train", None) or TRAIN_SIZES.get(getattr(config, "dataset", ""))
    if epochs is None or not batch or not n_train:
        return None
    return epoch_steps(epochs, n_train, batch)


def observed_steps(result: Result) -> dict[Hashable, int]:
    """Per unit, the last `step` recorded in any of its frames (the steps it trained)."""
    out: dict[Hashable, int] = {}
    for frame in result.frames.values():
        if "step" in frame and "unit" in frame:
            for unit, last in frame.groupby("unit")["step"].max().items():
                out[unit] = max(out.get(unit, 0), int(last))
    return out


def smoke_config(full: Config) -> tuple[Config, str]:
    """The smoke of a full config, on the subset where the config would need the full set
    (the same images, so the same step cost), with a note saying so."""
    smoke = full.smoke()
    if getattr(smoke, "require_full", False):
        return smoke.replace(require_full=False), "; require_full off (a subset may be used)"
    return smoke, ""


def measure(claim: str, dataset: str, data_root: Path | None, device: str = "cpu") -> CostRow:
    """Count a full case's units and steps and time its smoke run on `device`."""
    full = claims.get(claim).cases.config("full", dataset)
    row = CostRow(claim, dataset, count_units(full, data_root), steps_per_unit(full), device=device)
    row.measured_at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    row.gflops = round(machine_gflops(), 1)
    smoke, note = smoke_config(full)
    with tempfile.TemporaryDirectory(prefix="sgdclaims-cost-") as tmp:
        context = RunContext(data_root, device, Path(tmp), False, False, executor=LocalExecutor())
        t0 = time.perf_counter()
        try:
            result = run_experiment(smoke, context)
        except DatasetMissing as exc:
            row.how = f"not timed: the data is absent here ({str(exc).split(';')[0]})"
            return row
        wall = time.perf_counter() - t0
    seen = observed_steps(result)
    per_step = []
    clock = dict(zip(result.units, result.scalars["cpu_seconds" if device == "cpu" else "seconds"]))
    for unit in result.units:
        steps = seen.get(unit) or steps_per_unit(smoke)
        if steps:
            per_step.append(float(clock[unit]) / steps)
    timed_units = per_step[1:] or per_step
    row.s_per_step = sum(timed_units) / len(timed_units) if timed_units else None
    row.how = (
        f"smoke run: {len(result.units)} units, {wall:.1f} s wall, per step the mean of the units' "
        f"{'CPU' if device == 'cpu' else 'wall'} times (the first left out); steps per unit "
        f"{sorted(set(seen.values())) or steps_per_unit(smoke)}{note}"
    )
    return row


def save_costs(rows: list[CostRow], path: Path = COSTS_FILE) -> None:
    """Store rows, replacing those of the same (claim, data set, device)."""
    key = lambda r: (r.claim, r.dataset, r.device)  # noqa: E731
    merged = {key(r): r for r in load_costs(path)} | {key(r): r for r in rows}
    ordered = sorted(merged.values(), key=lambda r: (claims.CLAIMS.index(r.claim), r.dataset))
    text = json.dumps(
        {"gpu_speedup_assumed": GPU_SPEEDUP, "rows": [dataclasses.asdict(r) for r in ordered]},
        indent=1,
    )
    write_atomic(path, text.encode() + b"\n")


def measure_all(
    names: list[str] | None,
    data_root: Path | None = None,
    device: str = "cpu",
    log: Callable[[str], None] = print,
    path: Path = COSTS_FILE,
) -> tuple[list[CostRow], list[str]]:
    """Measure every full case of the named claims (default: all), store the rows; errors
    (a claim that does not import, data that is absent) are returned, not raised."""
    rows, errors = [], []
    for claim in names or list(claims.CLAIMS):
        try:
            datasets = claims.get(claim).cases.datasets("full")
        except Exception as exc:
            errors.append(f"{claim}: {type(exc).__name__}: {exc}")
            continue
        for dataset in datasets:
            try:
                rows.append(measure(claim, dataset, data_root, device))
                log(f"{claim}/{dataset}: {rows[-1].how}")
            except Exception as exc:
                errors.append(f"{claim}/full/{dataset}: {type(exc).__name__}: {exc}")
    if rows:
        save_costs(rows, path)
    return rows, errors
