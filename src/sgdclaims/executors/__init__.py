"""Executors: who computes an experiment's units. `runner.LocalExecutor` (in process) is the
default; `ProcessExecutor` runs units in parallel local processes and `SubmititExecutor`
as SLURM jobs (or submitit's local subprocess jobs), each rebuilding its unit (jobs.py)."""

from sgdclaims.executors.cluster import ExecutorError, SubmititExecutor
from sgdclaims.executors.jobs import JobExecutor, ProcessExecutor, UnitJobsFailed, run_experiment

__all__ = [
    "ExecutorError",
    "JobExecutor",
    "ProcessExecutor",
    "SubmititExecutor",
    "UnitJobsFailed",
    "run_experiment",
]
