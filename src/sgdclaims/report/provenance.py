"""Provenance of a run: git commit and dirty flag, package and library versions, device."""

from __future__ import annotations

import datetime as dt
import platform
import subprocess
from pathlib import Path
from typing import Any


def git_output(repo: Path, *args: str) -> str | None:
    """What `git -C repo ARGS` prints, or None when git fails or is missing."""
    try:
        out = subprocess.run(
            ["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def _device_name(cuda: bool) -> str:
    """The GPU's name when CUDA is usable, else the CPU's."""
    import torch

    if cuda:
        try:
            return torch.cuda.get_device_name(0)
        except (RuntimeError, AssertionError) as exc:
            return f"CUDA reported available but unusable ({exc})"
    return f"CPU ({platform.processor() or platform.machine()})"


def collect_provenance(repo: Path) -> dict[str, Any]:
    """Facts that identify how a session's results were made (its id is its end time)."""
    import numpy
    import torch
    import torchvision

    from sgdclaims import __version__
    from sgdclaims.calibration import calibration_gflops

    now = dt.datetime.now(dt.timezone.utc)
    status = git_output(repo, "status", "--porcelain", "--untracked-files=no")
    cuda = torch.cuda.is_available()
    return {
        "session_id": now.strftime("%Y%m%dT%H%M%SZ"),
        "finished_at": now.isoformat(timespec="seconds"),
        "git_commit": git_output(repo, "rev-parse", "HEAD"),
        "git_dirty": bool(status) if status is not None else None,
        "sgdclaims": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "numpy": numpy.__version__,
        "cuda": torch.version.cuda,
        "cuda_available": cuda,
        "device": _device_name(cuda),
        "threads": torch.get_num_threads(),
        "calibration_gflops": round(calibration_gflops(), 1),
    }
