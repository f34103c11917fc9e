"""Devices: the one message for a missing CUDA device, and one GPU per xdist worker.

Worker `gw<i>` takes the i-th visible device modulo their count; the visible devices are
those of an outer CUDA_VISIBLE_DEVICES (torch numbers them cuda:0.. in that order), so
`CUDA_VISIBLE_DEVICES=4,5 pytest -n 4 --gpu` puts gw0 and gw2 on physical GPU 4, gw1 and
gw3 on 5. The environment is read by the caller (the pytest fixture), never here.
"""

from __future__ import annotations

import re


def cuda_missing(flag: str) -> str | None:
    """None when a CUDA device is available, else the message that stops a run asking for
    one with `flag` (the same for `pytest --gpu` and `sgdclaims run --device cuda`)."""
    import torch

    if torch.cuda.is_available():
        return None
    return (
        f"{flag} was given but no CUDA device is available "
        f"(torch {torch.__version__}, CUDA build {torch.version.cuda}); "
        f"drop {flag} to run the fast scale on CPU"
    )


def worker_index(worker: str | None) -> int:
    """The index of an xdist worker id ('gw3' -> 3); 0 without xdist (None or 'master')."""
    if not worker or worker == "master":
        return 0
    match = re.fullmatch(r"gw(\d+)", worker)
    if match is None:
        raise ValueError(f"unexpected xdist worker id {worker!r} (expected gw<N>)")
    return int(match.group(1))


def visible_devices(visible: str | None, device_count: int) -> list[str]:
    """The physical ids behind cuda:0.. : the entries of CUDA_VISIBLE_DEVICES (at most
    `device_count` of them, as torch sees them), else 0..device_count-1."""
    if visible is None:
        return [str(i) for i in range(device_count)]
    entries = [v.strip() for v in visible.split(",") if v.strip()]
    return entries[:device_count]


def pinned_device(worker: str | None, visible: str | None, device_count: int) -> tuple[str, str]:
    """(torch device, physical id) of a worker: worker i takes visible device i mod count."""
    physical = visible_devices(visible, device_count)
    if not physical:
        raise RuntimeError(f"no visible CUDA device (CUDA_VISIBLE_DEVICES={visible!r})")
    index = worker_index(worker) % len(physical)
    return f"cuda:{index}", physical[index]


def pin_worker(worker: str | None, visible: str | None) -> str:
    """Pin this process to its worker's GPU (torch's current device too) and return it."""
    import torch

    device, _ = pinned_device(worker, visible, torch.cuda.device_count())
    torch.cuda.set_device(device)
    return device
