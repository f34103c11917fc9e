"""One GPU per xdist worker: worker gw<i> takes the i-th visible device modulo their count,
honouring an outer CUDA_VISIBLE_DEVICES; checked on the mapping and, with a fake device
count, in a real `pytest -n 4 --gpu` session (pytester)."""

from __future__ import annotations

import pytest

from sgdclaims.executors.devices import pinned_device, visible_devices, worker_index

#: a project whose torch claims `FAKE_GPUS` physical devices; like torch, it sees only the
#: first of them that CUDA_VISIBLE_DEVICES lists
FAKE_CUDA = """
import os
import torch

def _count():
    physical = int(os.environ["FAKE_GPUS"])
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    return physical if visible is None else min(physical, len(visible.split(",")))

torch.cuda.is_available = lambda: True
torch.cuda.device_count = _count
torch.cuda.set_device = lambda device: os.environ.__setitem__("FAKE_CURRENT", str(device))
"""

RECORDING_TEST = """
import os

import pytest

@pytest.mark.parametrize("i", range(24))
def test_device(i, device):
    worker = os.environ.get("PYTEST_XDIST_WORKER", "none")
    line = f"{worker} {device} {os.environ['FAKE_CURRENT']}\\n"
    with open(os.environ["RECORD"], "a") as handle:
        handle.write(line)
"""


@pytest.mark.parametrize(
    ("worker", "visible", "count", "expected"),
    [
        (None, None, 2, ("cuda:0", "0")),
        ("master", None, 2, ("cuda:0", "0")),
        ("gw0", None, 2, ("cuda:0", "0")),
        ("gw3", None, 2, ("cuda:1", "1")),
        ("gw4", "5,2,7", 8, ("cuda:1", "2")),
        ("gw5", "5,2,7", 8, ("cuda:2", "7")),
        ("gw1", "5,2,7", 2, ("cuda:1", "2")),  # torch sees only 2 of the 3 listed
        ("gw2", "GPU-aa, GPU-bb", 2, ("cuda:0", "GPU-aa")),
    ],
)
def test_worker_takes_the_ith_visible_device_modulo_their_count(worker, visible, count, expected):
    assert pinned_device(worker, visible, count) == expected


def test_bad_worker_ids_and_no_devices_are_errors():
    assert worker_index("gw12") == 12
    with pytest.raises(ValueError, match="expected gw<N>"):
        worker_index("worker-1")
    assert visible_devices("", 4) == []
    with pytest.raises(RuntimeError, match="no visible CUDA device"):
        pinned_device("gw0", "", 4)


def test_xdist_workers_each_pin_their_own_gpu(pytester, monkeypatch):
    pytester.makeconftest(FAKE_CUDA)
    pytester.makepyfile(test_record=RECORDING_TEST)
    record = pytester.path / "record.txt"
    monkeypatch.setenv("FAKE_GPUS", "8")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "5,2,7")
    monkeypatch.setenv("RECORD", str(record))
    res = pytester.runpytest_subprocess("-n", "4", "--gpu", "-p", "no:cacheprovider", "-q")
    res.assert_outcomes(passed=24)
    seen = {tuple(line.split()) for line in record.read_text().splitlines()}
    expected = {"gw0": "cuda:0", "gw1": "cuda:1", "gw2": "cuda:2", "gw3": "cuda:0"}
    assert seen and all(device == expected[w] == current for w, device, current in seen), seen
    assert len({device for _, device, _ in seen}) >= 2, seen
