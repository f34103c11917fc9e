"""Executors: unit jobs rebuild their unit by rerunning the experiment (in process, in
spawned processes, and as real subprocess jobs through submitit's LocalExecutor); a killed
job leaves no entry under a valid name, and a resubmission computes only missing units.

The toy experiment lives in this module, so jobs import it: the tests put this folder on
PYTHONPATH for their subprocesses.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import sys
from collections.abc import Hashable
from pathlib import Path

import pandas as pd
import pytest

from sgdclaims.config import Config
from sgdclaims.executors import (
    ExecutorError,
    ProcessExecutor,
    SubmititExecutor,
    UnitJobsFailed,
    run_experiment,
)
from sgdclaims.executors.cluster import default_partition, require_submitit, require_writable
from sgdclaims.executors.jobs import JobSpec, job_main
from sgdclaims.runner import (
    Batch,
    MissingEntry,
    Result,
    RunContext,
    UnitResult,
    run_units,
    unit_folder,
)

HERE = Path(__file__).resolve().parent

#: the scalars that time a unit (they differ between two computations of it)
TIMES = ["seconds", "cpu_seconds", "gflops"]


@dataclasses.dataclass(frozen=True)
class JobToy(Config):
    """A toy experiment: each computed unit appends '<phase><seed> <pid>' to `log`; the job
    of seed `kill` SIGKILLs itself while writing its entry (after the fsynced temporary file,
    before the rename) as long as the file `gate` exists; seed `fail` raises. two_phase: a
    first run_units call on a derived config (phase A) whose values phase B reads."""

    seeds: tuple[int, ...] = (0, 1, 2)
    log: str = ""
    kill: int = -1
    gate: str = ""
    two_phase: bool = False
    fail: int = -1


def run(cfg: JobToy, context: RunContext) -> Result:
    """The toy's run(config, context), as every claim's."""
    base = None
    if cfg.two_phase:
        base = run(dataclasses.replace(cfg, two_phase=False), context)

    def compute(seed: Hashable) -> UnitResult:
        phase = "B" if base is not None else "A"
        with open(cfg.log, "a") as handle:
            handle.write(f"{phase}{seed} {os.getpid()}\n")
        if seed == cfg.fail:
            raise ValueError(f"toy failure in unit {seed}")
        if seed == cfg.kill and Path(cfg.gate).exists():
            os.replace = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)  # type: ignore[assignment]
        score = 0.5 + int(seed)  # type: ignore[call-overload]
        if base is not None:
            score += float(base.scalars["score"].sum())
        curve = pd.DataFrame({"step": [0, 10], "v": [0.0, score]})
        return UnitResult(frames={"curve": curve}, scalars={"score": score})

    return run_units(cfg, list(cfg.seeds), compute, context)


def logged(cfg: JobToy) -> list[str]:
    """The units computed so far ('A0', 'B1', ...), sorted."""
    path = Path(cfg.log)
    return (
        sorted(line.split()[0] for line in path.read_text().splitlines()) if path.exists() else []
    )


@pytest.fixture
def jobs_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Subprocess jobs can import this module."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]))


def local_context(tmp_path: Path, **kwargs) -> RunContext:
    return RunContext(cache_root=tmp_path / "cache", progress=False, **kwargs)


def test_submitit_local_jobs_killed_one_leaves_no_entry_and_rerun_computes_only_it(
    tmp_path, jobs_env
):
    gate = tmp_path / "kill-while-writing"
    gate.touch()
    cfg = JobToy(log=str(tmp_path / "log"), kill=1, gate=str(gate))
    executor = SubmititExecutor(folder=tmp_path / "jobs", cluster="local", poll_s=0.2)
    context = local_context(tmp_path, executor=executor)
    with pytest.raises(
        UnitJobsFailed, match=r"(?s)1 of 3 unit jobs failed.*unit-1: ended without a result.*log: "
    ):
        run_experiment(cfg, context)
    folder = unit_folder(cfg, context)
    assert sorted(p.name for p in folder.glob("unit-*.pkl")) == ["unit-0.pkl", "unit-2.pkl"]
    assert list(folder.glob(".unit-1.pkl.*.tmp")), "the job was killed while writing its entry"
    assert logged(cfg) == ["A0", "A1", "A2"]
    gate.unlink()
    one_per_unit = dataclasses.replace(executor, array=False)
    result = run_experiment(cfg, dataclasses.replace(context, executor=one_per_unit))
    assert logged(cfg) == ["A0", "A1", "A1", "A2"]
    assert result.reused == 2 and list(result.scalars["score"]) == [0.5, 1.5, 2.5]
    assert len(result.per_unit("curve")) == 3


def test_process_executor_matches_in_process_run_and_uses_other_processes(tmp_path):
    cfg = JobToy(log=str(tmp_path / "log"), two_phase=True)
    parallel = run_experiment(cfg, local_context(tmp_path, executor=ProcessExecutor(2)))
    pids = {int(line.split()[1]) for line in Path(cfg.log).read_text().splitlines()}
    assert os.getpid() not in pids and logged(cfg) == ["A0", "A1", "A2", "B0", "B1", "B2"]
    serial = run(cfg, RunContext(cache_root=tmp_path / "other", progress=False))
    pd.testing.assert_frame_equal(
        parallel.scalars.drop(columns=TIMES), serial.scalars.drop(columns=TIMES)
    )
    assert run_experiment(cfg, local_context(tmp_path, executor=ProcessExecutor(2))).reused == 3


def test_a_job_computes_its_unit_only_and_reads_earlier_phases_from_the_cache(tmp_path):
    cfg = JobToy(log=str(tmp_path / "log"), two_phase=True)
    context = local_context(tmp_path)
    run(cfg, context)
    (unit_folder(cfg, context) / "unit-1.pkl").unlink()
    key = unit_folder(cfg, context).name
    report = job_main(JobSpec(cfg, key, ("unit-1",), context))
    assert report["units"] == ["unit-1"]
    assert logged(cfg) == ["A0", "A1", "A2", "B0", "B1", "B1", "B2"]
    assert run(cfg, context).reused == 3
    assert job_main(JobSpec(cfg, key, ("unit-1",), context))["seconds"] == 0.0  # stored already
    assert logged(cfg) == ["A0", "A1", "A2", "B0", "B1", "B1", "B2"]
    with pytest.raises(RuntimeError, match="never asked for cache key 0123"):
        job_main(JobSpec(cfg, "0123", ("unit-1",), context))


def test_process_executor_reports_failed_units_and_keeps_the_others(tmp_path):
    cfg = JobToy(log=str(tmp_path / "log"), fail=1)
    context = local_context(tmp_path, executor=ProcessExecutor(2))
    with pytest.raises(UnitJobsFailed, match=r"1 of 3 unit jobs failed(?s:.*)ValueError: toy fail"):
        run_experiment(cfg, context)
    folder = unit_folder(cfg, context)
    assert sorted(p.name for p in folder.glob("unit-*.pkl")) == ["unit-0.pkl", "unit-2.pkl"]


def test_an_executor_that_stores_nothing_is_caught(tmp_path):
    class Forgetful:
        def run(self, batch: Batch) -> dict[Hashable, UnitResult]:
            return {}

    cfg = JobToy(log=str(tmp_path / "log"))
    with pytest.raises(MissingEntry, match=r"unit-0.pkl does not exist.*share"):
        run(cfg, local_context(tmp_path, executor=Forgetful()))


def test_slurm_parameters_reach_submitit(tmp_path, monkeypatch):
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "srun").write_text("#!/bin/sh\nexit 0\n")
    (fake / "srun").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}{os.pathsep}{os.environ['PATH']}")
    executor = SubmititExecutor(
        folder=tmp_path / "logs", partition="gpu", gpus_per_job=2, timeout_min=90, mem_gb=16,
        slurm_extra={"account": "abc"}, device="cuda",
    )  # fmt: skip
    params = executor.submitit_executor()._executor.parameters
    assert params["partition"] == "gpu" and params["gpus_per_node"] == 2
    assert params["time"] == 90 and params["mem"] == "16GB"
    assert params["additional_parameters"] == {"account": "abc"}
    with pytest.raises(ValueError, match="gpus_per_job >= 1"):
        SubmititExecutor(device="cuda", gpus_per_job=0)


def fake_sinfo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, listing: str | None) -> None:
    """PATH with only a fake sinfo printing `listing` (None: no sinfo at all)."""
    fake = tmp_path / "fakebin"
    fake.mkdir(exist_ok=True)
    if listing is not None:
        (fake / "sinfo").write_text(f"#!/bin/sh\nprintf '{listing}'\n")
        (fake / "sinfo").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}{os.pathsep}/bin")


def test_default_partition_from_sinfo(tmp_path, monkeypatch):
    fake_sinfo(tmp_path, monkeypatch, "cpu\\ngpu*\\n")
    assert default_partition() == "gpu"
    fake_sinfo(tmp_path, monkeypatch, "cpu\\ngpu\\n")
    with pytest.raises(ExecutorError, match=r"needs --partition: this cluster has no default.*cpu"):
        default_partition()
    (tmp_path / "fakebin" / "sinfo").unlink()
    with pytest.raises(ExecutorError, match="needs --partition: sinfo is not on PATH"):
        default_partition()


def test_missing_submitit_and_unwritable_cache_are_one_line_errors(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(ExecutorError, match=f"cache directory {blocker / 'cache'} is not writable"):
        require_writable(blocker / "cache")
    monkeypatch.setitem(sys.modules, "submitit", None)
    with pytest.raises(ExecutorError, match="--executor slurm needs submitit") as info:
        require_submitit()
    assert "\n" not in str(info.value)
