"""SLURM (and submitit's LocalExecutor) through submitit: one job per unit or a job array.

Jobs run `jobs.job_main`, which rebuilds its unit from the experiment (see jobs.py), on a
cache directory the driver and every node share. What a submission needs is checked before
any job is submitted: submitit importable, a partition where the cluster has no default,
a writable shared cache.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from sgdclaims.config import Config
from sgdclaims.executors.jobs import JobExecutor, JobSpec, job_main, last_line

CLUSTERS = ("slurm", "local")


class ExecutorError(Exception):
    """A submission that cannot work as asked (one line, naming what is missing)."""


def require_submitit(flag: str = "--executor slurm") -> None:
    """ExecutorError unless submitit can be imported."""
    if importlib.util.find_spec("submitit") is None:
        raise ExecutorError(
            f"{flag} needs submitit, which is not installed: pip install 'sgdclaims[slurm]'"
        )


def default_partition(sinfo: str = "sinfo") -> str | None:
    """The cluster's default partition (sinfo marks it with '*'); None when there is none.
    ExecutorError when sinfo cannot be run."""
    if shutil.which(sinfo) is None:
        raise ExecutorError(
            "--executor slurm needs --partition: sinfo is not on PATH, so the cluster's "
            "default partition is unknown"
        )
    out = subprocess.run([sinfo, "-h", "-o", "%P"], capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise ExecutorError(f"--executor slurm: `sinfo` failed: {out.stderr.strip()[:200]}")
    names = [line.strip() for line in out.stdout.splitlines() if line.strip()]
    default = [n.rstrip("*") for n in names if n.endswith("*")]
    if default:
        return default[0]
    if not names:
        return None
    raise ExecutorError(
        f"--executor slurm needs --partition: this cluster has no default partition "
        f"(sinfo lists {', '.join(names)})"
    )


def require_writable(folder: Path, what: str = "shared cache directory") -> Path:
    """The folder (created if needed, resolved); ExecutorError naming it if it cannot be
    written."""
    folder = Path(folder).expanduser()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".sgdclaims-write-test-"):
            pass
    except OSError as exc:
        raise ExecutorError(f"the {what} {folder} is not writable ({exc.strerror or exc})") from exc
    return folder.resolve()


@dataclasses.dataclass(frozen=True)
class SubmititExecutor(JobExecutor):
    """Unit jobs through submitit: `cluster` 'slurm', or 'local' (submitit's LocalExecutor,
    real subprocess jobs on this machine: CI, or checking a setup before a cluster run).

    folder: submitit's job files and logs; array: one job array per batch instead of one
    job per unit; gpus_per_job, cpus_per_task, timeout_min, mem_gb, partition and
    slurm_extra (e.g. account, qos, constraint) go to sbatch."""

    folder: Path = Path("submitit-logs")
    cluster: str = "slurm"
    partition: str | None = None
    gpus_per_job: int = 0
    cpus_per_task: int = 2
    timeout_min: int = 240
    mem_gb: float | None = None
    array: bool = True
    slurm_extra: Mapping[str, str] = dataclasses.field(default_factory=dict)
    poll_s: float = 30.0
    origin: Config | None = None
    device: str | None = None

    def __post_init__(self) -> None:
        if self.cluster not in CLUSTERS:
            raise ValueError(f"cluster must be one of {list(CLUSTERS)}, got {self.cluster!r}")
        for name in ("gpus_per_job", "cpus_per_task", "timeout_min"):
            value = getattr(self, name)
            if value < (0 if name == "gpus_per_job" else 1):
                raise ValueError(f"{name} must be a positive number, got {value!r}")
        if (self.device or "").startswith("cuda") and self.gpus_per_job < 1:
            raise ValueError("jobs on CUDA need gpus_per_job >= 1")

    def check(self, cache_root: Path) -> None:
        """Everything a submission needs, before any job: submitit, a partition, writable
        cache and log folders (ExecutorError naming what is missing)."""
        require_submitit(f"--executor {'slurm' if self.cluster == 'slurm' else 'submitit-local'}")
        if self.cluster == "slurm":
            if shutil.which("srun") is None:
                raise ExecutorError(
                    "--executor slurm: srun is not on PATH; run this on a SLURM login node"
                )
            if self.partition is None:
                default_partition()
        require_writable(cache_root)
        require_writable(self.folder, "job log directory")

    def parameters(self) -> dict[str, Any]:
        """submitit's AutoExecutor parameters of this executor."""
        params: dict[str, Any] = {
            "timeout_min": self.timeout_min,
            "gpus_per_node": self.gpus_per_job,
            "cpus_per_task": self.cpus_per_task,
            "name": "sgdclaims",
        }
        if self.mem_gb is not None:
            params["mem_gb"] = self.mem_gb
        if self.partition is not None:
            params["slurm_partition"] = self.partition
        if self.slurm_extra:
            params["slurm_additional_parameters"] = dict(self.slurm_extra)
        return params

    def describe(self) -> str:
        how = "array" if self.array else "one job per unit"
        return f"submitit {self.cluster} ({how})"

    def submitit_executor(self) -> Any:
        """The configured submitit executor."""
        require_submitit()
        import submitit

        executor = submitit.AutoExecutor(folder=self.folder, cluster=self.cluster)
        executor.update_parameters(**self.parameters())
        return executor

    def execute(self, specs: list[JobSpec]) -> Iterable[tuple[JobSpec, str | None]]:
        executor = self.submitit_executor()
        if self.array:
            jobs = executor.map_array(job_main, specs)
        else:
            jobs = [executor.submit(job_main, spec) for spec in specs]
        pending = dict(zip(jobs, specs))
        while pending:
            for job in [j for j in pending if j.done()]:
                yield pending.pop(job), job_error(job)
            if pending:
                time.sleep(self.poll_s)


def job_error(job: Any) -> str | None:
    """None for a job that succeeded, else one line: the exception a failed job raised (the
    last line of its traceback) or why a job ended without a result (killed, timed out)."""
    error = job.exception()
    if error is None:
        return None
    if type(error).__name__ == "FailedJobError":
        text = last_line(error)
    else:
        text = f"ended without a result (state {job.state}: killed, timed out or preempted?)"
    return f"{text} (log: {job.paths.stderr})"
