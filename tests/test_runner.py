"""Configs, cases, cache keys and the cached runner: hit, miss, corruption (an error, never
reused), resume after kill -9."""

from __future__ import annotations

import dataclasses
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import ClassVar

import pandas as pd
import pytest

from sgdclaims.cache import MAGIC, CorruptCacheEntry, dump_entry, load_entry
from sgdclaims.config import Cases, Change, Config, Set
from sgdclaims.runner import RunContext, UnitResult, run_units
from sgdclaims.validate import require_positive, require_seeds


@dataclasses.dataclass(frozen=True)
class ToyConfig(Config):
    SMOKE: ClassVar[dict] = {"seeds": (0,), "lr": lambda cfg: cfg.lr * 10}
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


def ctx(tmp_path: Path, **kwargs) -> RunContext:
    return RunContext(cache_root=tmp_path, progress=False, **kwargs)


def test_config_hash_and_validation():
    a, b = ToyConfig(), ToyConfig()
    assert a.cache_key() == b.cache_key()
    assert a.cache_key() != a.replace(lr=0.1).cache_key()
    assert a.smoke() == ToyConfig(seeds=(0,), lr=1e-2)
    with pytest.raises(ValueError, match="lr must be positive"):
        ToyConfig(lr=-1.0)
    with pytest.raises(ValueError, match="K must be positive"):
        ToyConfig(K=0)
    with pytest.raises(ValueError, match="seeds has repeated"):
        ToyConfig(seeds=(1, 1))
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.lr = 2.0  # type: ignore[misc]


def test_cases_build_configs_with_a_reason_beside_every_change():
    cases = Cases(
        ToyConfig,
        full={"a": {}, "b": {"K": Set(10.0, "the paper's value on b")}},
        fast={"a": {"lr": Set(0.1, "faster")}, "c": {"seeds": Set((0,), "one seed")}},
        fast_common={"K": Set(5.0, "short runs")},
    )
    assert cases.datasets("full") == ["a", "b"] and cases.datasets("fast") == ["a", "c"]
    assert cases.config("full", "b") == ToyConfig(K=10.0)
    assert cases.config("fast", "a") == ToyConfig(lr=0.1, K=5.0)
    assert cases.changes("full", "b") == [Change("K", 10.0, "inf", "the paper's value on b")]
    assert cases.changes("fast", "a") == [
        Change("lr", 0.1, 1e-3, "faster"),
        Change("K", 5.0, "inf", "short runs"),
    ]
    with pytest.raises(ValueError, match="unknown data set 'z' at fast scale; known: \\['a'"):
        cases.config("fast", "z")
    with pytest.raises(ValueError, match="scale must be 'fast' or 'full'"):
        cases.config("huge", "a")
    with pytest.raises(ValueError, match="has no field 'nope'"):
        Cases(ToyConfig, full={"a": {"nope": Set(1, "x")}}, fast={})
    with pytest.raises(TypeError, match="Set\\(value, why\\)"):
        Cases(ToyConfig, full={"a": {"lr": 0.1}}, fast={})
    with pytest.raises(ValueError, match="needs a reason"):
        Set(0.1, " ")


def test_run_units_miss_then_hit(tmp_path):
    calls = []

    def counting(unit):
        calls.append(unit)
        return compute(unit)

    cfg = ToyConfig()
    r1 = run_units(cfg, cfg.seeds, counting, ctx(tmp_path))
    r2 = run_units(cfg, cfg.seeds, counting, ctx(tmp_path))
    assert calls == [0, 1, 2] and r2.reused == 3 and r1.reused == 0
    pd.testing.assert_frame_equal(r1.frame("curve"), r2.frame("curve"))
    assert list(r2.scalars["final"]) == [0.5, 0.6, 0.7]
    assert r2.provenance == {"data": "toy"}
    with pytest.raises(KeyError, match="curve"):
        r2.frame("nope")
    assert r2.compute_seconds == pytest.approx(r1.compute_seconds)
    run_units(cfg, cfg.seeds, counting, ctx(tmp_path, use_cache=False))
    assert calls == [0, 1, 2, 0, 1, 2]


@pytest.mark.parametrize("damage", ["flip", "truncate", "header", "schema", "not a dict"])
def test_corrupt_entry_is_an_error_naming_the_file(tmp_path, damage):
    cfg = ToyConfig()
    run_units(cfg, (0,), compute, ctx(tmp_path))
    path = next((tmp_path / "test_runner").rglob("unit-0.pkl"))
    raw = bytearray(path.read_bytes())
    if damage == "flip":
        raw[-5] ^= 0xFF
    elif damage == "truncate":
        raw = raw[: len(raw) // 2]
    elif damage == "header":
        raw[:4] = b"XXXX"
    path.write_bytes(bytes(raw))
    if damage in ("schema", "not a dict"):
        import hashlib
        import pickle

        record = {"schema": 0, "payload": compute(0)} if damage == "schema" else [compute(0)]
        body = pickle.dumps(record)
        path.write_bytes(MAGIC + hashlib.sha256(body).hexdigest().encode() + b"\n" + body)
    with pytest.raises(CorruptCacheEntry):
        load_entry(path)
    with pytest.raises(CorruptCacheEntry, match=f"{path}.*delete the file to recompute"):
        run_units(cfg, (0,), compute, ctx(tmp_path))
    path.unlink()
    assert run_units(cfg, (0,), compute, ctx(tmp_path)).reused == 0
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
        from sgdclaims.runner import RunContext, UnitResult, run_units
        def compute(unit):
            with open({str(marker)!r}, "a") as f:
                f.write(f"{{unit}}\\n")
            if unit == 2 and sys.argv[1] == "hang":
                time.sleep(600)
            return UnitResult(scalars={{"u": unit}})
        run_units(ToyConfig(seeds=(0, 1, 2, 3)), (0, 1, 2, 3), compute,
                  RunContext(cache_root=Path({str(tmp_path / "cache")!r}), progress=False))
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


def test_the_executor_gets_only_the_missing_units_in_order(tmp_path):
    """run_units hands its executor the units not in the cache (all with use_cache off);
    what the executor computes in process is used as is, the rest read from the cache."""
    from sgdclaims.runner import Batch, LocalExecutor

    seen: list[tuple[list, int]] = []

    class Spy(LocalExecutor):
        def run(self, batch: Batch):
            seen.append((list(batch.units), batch.total))
            assert batch.key == cfg.cache_key() and batch.folder.name == batch.key
            return super().run(batch)

    cfg = ToyConfig(seeds=(0, 1, 2, 3))
    run_units(cfg, (1, 3), compute, ctx(tmp_path, executor=Spy()))
    result = run_units(cfg, cfg.seeds, compute, ctx(tmp_path, executor=Spy()))
    assert seen == [([1, 3], 2), ([0, 2], 4)]
    assert result.reused == 2 and result.units == [0, 1, 2, 3]
    assert list(result.scalars["final"]) == [0.5, 0.6, 0.7, 0.8]
    assert run_units(cfg, cfg.seeds, compute, ctx(tmp_path, executor=Spy())).reused == 4
    assert len(seen) == 2  # nothing missing: the executor is not asked
    run_units(cfg, (0,), compute, ctx(tmp_path, executor=Spy(), use_cache=False))
    assert seen[-1] == ([0], 1)
