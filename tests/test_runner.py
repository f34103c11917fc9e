"""Config hashing and the cached runner: hit, miss, corruption, resume after kill -9."""

from __future__ import annotations

import dataclasses
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from typing import ClassVar

import pandas as pd
import pytest

from sgdclaims.cache import MAGIC, CorruptCacheEntry, dump_entry, load_entry
from sgdclaims.config import Config, require_positive, require_seeds
from sgdclaims.runner import UnitResult, run_units


@dataclasses.dataclass(frozen=True)
class ToyConfig(Config):
    claim: ClassVar[str] = "toy"
    WHY: ClassVar[dict[str, str]] = {"lr": "faster at small scale"}
    lr: float = 1e-3
    seeds: tuple[int, ...] = (0, 1, 2)
    K: float = math.inf

    def validate(self) -> None:
        require_positive("lr", self.lr)
        require_positive("K", self.K, allow_inf=True)
        require_seeds("seeds", self.seeds)


def compute(unit):
    frame = pd.DataFrame({"step": [0, 1], "acc": [0.5, 0.5 + unit / 10]})
    return UnitResult(
        frames={"curve": frame}, scalars={"final": 0.5 + unit / 10}, provenance={"data": "toy"}
    )


def test_config_hash_and_validation():
    a, b = ToyConfig(), ToyConfig()
    assert a.cache_key() == b.cache_key()
    assert a.cache_key() != a.replace(lr=0.1).cache_key()
    assert a.replace(lr=0.1).paper_differences() == {
        "lr": {"value": 0.1, "paper": 1e-3, "why": "faster at small scale"}
    }
    with pytest.raises(ValueError, match="lr must be positive"):
        ToyConfig(lr=-1.0)
    with pytest.raises(ValueError, match="K must be positive"):
        ToyConfig(K=0)
    with pytest.raises(ValueError, match="seeds has repeated"):
        ToyConfig(seeds=(1, 1))
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.lr = 2.0  # type: ignore[misc]


def test_run_units_miss_then_hit(tmp_path):
    calls = []

    def counting(unit):
        calls.append(unit)
        return compute(unit)

    cfg = ToyConfig()
    r1 = run_units(cfg, cfg.seeds, counting, cache_root=tmp_path, progress=False)
    r2 = run_units(cfg, cfg.seeds, counting, cache_root=tmp_path, progress=False)
    assert calls == [0, 1, 2] and r2.reused == 3 and r1.reused == 0
    pd.testing.assert_frame_equal(r1.frame("curve"), r2.frame("curve"))
    assert list(r2.scalars["final"]) == [0.5, 0.6, 0.7]
    assert r2.provenance == {"data": "toy"}
    with pytest.raises(KeyError, match="curve"):
        r2.frame("nope")
    run_units(cfg, cfg.seeds, counting, cache_root=tmp_path, progress=False, use_cache=False)
    assert calls == [0, 1, 2, 0, 1, 2]


def test_no_cache_env(tmp_path, monkeypatch):
    calls = []
    cfg = ToyConfig()
    run_units(
        cfg, (0,), lambda u: calls.append(u) or compute(u), cache_root=tmp_path, progress=False
    )
    monkeypatch.setenv("SGDCLAIMS_NO_CACHE", "1")
    run_units(
        cfg, (0,), lambda u: calls.append(u) or compute(u), cache_root=tmp_path, progress=False
    )
    assert calls == [0, 0]


@pytest.mark.parametrize("damage", ["flip", "truncate", "header", "schema"])
def test_corrupt_entry_is_recomputed(tmp_path, damage):
    cfg = ToyConfig()
    run_units(cfg, (0,), compute, cache_root=tmp_path, progress=False)
    path = next((tmp_path / "toy").rglob("unit-0.pkl"))
    raw = bytearray(path.read_bytes())
    if damage == "flip":
        raw[-5] ^= 0xFF
    elif damage == "truncate":
        raw = raw[: len(raw) // 2]
    elif damage == "header":
        raw[:4] = b"XXXX"
    path.write_bytes(bytes(raw))
    if damage == "schema":
        import hashlib
        import pickle

        body = pickle.dumps({"schema": 0, "payload": compute(0)})
        path.write_bytes(MAGIC + hashlib.sha256(body).hexdigest().encode() + b"\n" + body)
    with pytest.raises(CorruptCacheEntry):
        load_entry(path)
    calls = []
    with pytest.warns(UserWarning, match="recomputing corrupt cache entry"):
        run_units(
            cfg, (0,), lambda u: calls.append(u) or compute(u), cache_root=tmp_path, progress=False
        )
    assert calls == [0]
    assert isinstance(load_entry(path), UnitResult)


def test_dump_is_atomic_no_tmp_left(tmp_path):
    dump_entry(tmp_path / "a.pkl", {"x": 1})
    assert [p.name for p in tmp_path.iterdir()] == ["a.pkl"]


def test_resume_after_kill_9(tmp_path):
    """A run killed (SIGKILL) in unit 2 resumes: units 0 and 1 are reused, never half-read."""
    script = tmp_path / "job.py"
    marker = tmp_path / "computed.txt"
    script.write_text(
        textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        sys.path.insert(0, {str(os.path.dirname(__file__))!r})
        from test_runner import ToyConfig
        from sgdclaims.runner import UnitResult, run_units
        def compute(unit):
            with open({str(marker)!r}, "a") as f:
                f.write(f"{{unit}}\\n")
            if unit == 2 and sys.argv[1] == "hang":
                time.sleep(600)
            return UnitResult(scalars={{"u": unit}})
        run_units(ToyConfig(seeds=(0, 1, 2, 3)), (0, 1, 2, 3), compute,
                  cache_root=Path({str(tmp_path / "cache")!r}), progress=False)
        print("done")
    """)
    )
    proc = subprocess.Popen([sys.executable, str(script), "hang"])
    deadline = time.time() + 120
    while time.time() < deadline and (not marker.exists() or "2" not in marker.read_text()):
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert marker.read_text().split() == ["0", "1", "2"]
    out = subprocess.run([sys.executable, str(script), "go"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert marker.read_text().split() == ["0", "1", "2", "2", "3"]
