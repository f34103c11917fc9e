"""The results store: history across runs (bounded, per case), `sgdclaims report --compare /
--since`, older schemas migrated or refused by version, and two sessions writing at once."""

from __future__ import annotations

import contextlib
import json
import math
import multiprocessing
import shutil
import time
from pathlib import Path

import pytest

from sgdclaims.cli import main as cli_main
from sgdclaims.report import history as hist
from sgdclaims.report import store
from sgdclaims.report.store import RESULTS_FILE, SCHEMA, StoreError, load_results


def test_history_keeps_every_run_of_a_case(store_data):
    history = store_data["history"]
    assert store_data["schema"] == SCHEMA
    assert set(history) == {"toy/fast/toyset", "toy/fast/lowset", "toy/fast/fashion_mnist"}
    first, second = history["toy/fast/toyset"]
    assert first["commit"] != second["commit"] and len(first["commit"]) == 40
    assert first["session"] != second["session"] and first["finished_at"] < second["finished_at"]
    assert (first["scale"], first["dataset"]) == ("fast", "toyset")
    assert first["cache_key"] != second["cache_key"]  # the code changed between the runs
    score = [run["checks"]["score"] for run in (first, second)]
    assert [s["value"] for s in score] == pytest.approx([0.76, 0.91])
    assert score[0]["per_seed"] == pytest.approx([0.75, 0.76, 0.77])
    assert score[0]["verdict"] == "not reproduced"
    assert [run["checks"]["gated"]["verdict"] for run in (first, second)] == ["failed", "supported"]


def test_history_is_bounded_and_skips_runs_that_only_skipped():
    session = {"session_id": "s", "git_commit": "c" * 40}
    entry = {
        "claim": "a",
        "scale": "fast",
        "dataset": "d",
        "statistic": "x",
        "verdict": "supported",
    }
    skipped = {**entry, "scale": "full", "verdict": "skipped"}
    history: dict = {}
    for i in range(25):
        run = {**entry, "record": {"value": float(i)}}
        history = hist.append_history(history, [run, skipped], {}, {**session, "session_id": i})
    runs = history["a/fast/d"]
    assert len(runs) == hist.HISTORY_RUNS and "a/full/d" not in history
    assert [r["checks"]["x"]["value"] for r in runs] == list(range(5, 25))


def test_sparkline_geometry():
    def point(value, verdict="supported"):
        return hist.Point("s", "", "", False, verdict, value)

    spark = hist.sparkline([point(0.5), point(float("nan"), "failed"), point(1.0)], 0.8)
    xs = [d[0] for d in spark.dots]
    assert xs == sorted(xs) and xs[0] == 4.0 and xs[-1] == spark.width - 4
    assert spark.path.count("M") == 2  # the NaN breaks the line
    assert "gap" in spark.dots[1][2] and spark.dots[1][1] == spark.height - 4
    assert spark.dots[2][1] < spark.threshold_y < spark.dots[0][1]  # 1.0 above 0.8 above 0.5
    single = hist.sparkline([point(math.inf)], None)
    assert single.path == "" and single.dots[0][1] == 4.0 and single.threshold_y is None


def test_compare_shows_only_what_moved(toy_store, tmp_path, capsys):
    shutil.copy(toy_store / RESULTS_FILE, tmp_path / RESULTS_FILE)
    history = load_results(tmp_path)["history"]
    first, second = history["toy/fast/toyset"]
    assert (
        cli_main(["report", "--report-dir", str(tmp_path), "--compare", first["commit"][:9]]) == 0
    )
    out = capsys.readouterr().out
    assert out.startswith(
        f"Compared with the last run at {first['commit'][:9]}: 1 of 3 cases moved"
    )
    assert "toy · fast · toyset" in out and "gated" in out
    assert "0.76 ± 0.01 (failed) → 0.91 ± 0.01 (supported)" in out
    assert "2 unchanged: toy · fast · fashion_mnist, toy · fast · lowset" in out
    assert not (tmp_path / "index.html").exists()  # it prints; it renders nothing
    assert cli_main(["report", "--report-dir", str(tmp_path), "--since", second["session"]]) == 0
    assert capsys.readouterr().out.split("\n", 1)[1] == out.split("\n", 1)[1]
    assert cli_main(["report", "--report-dir", str(tmp_path), "--compare", "deadbeef"]) == 2
    assert "no recorded run was made at 'deadbeef'" in capsys.readouterr().err


def _v2(data: dict) -> dict:
    """The store as the schema 2 writer left it: no schema field, no history."""
    old = {k: v for k, v in data.items() if k not in ("schema", "history")}
    assert store.schema_of(old) == 2
    return old


def test_schema_2_is_migrated(store_data, tmp_path, capsys):
    (tmp_path / RESULTS_FILE).write_text(json.dumps(_v2(store_data)))
    migrated = load_results(tmp_path)
    assert migrated["schema"] == SCHEMA
    runs = migrated["history"]["toy/fast/toyset"]
    assert len(runs) == 1 and runs[0]["checks"]["score"]["value"] == pytest.approx(0.91)
    assert runs[0]["commit"] == store_data["history"]["toy/fast/toyset"][-1]["commit"]
    assert cli_main(["report", "--report-dir", str(tmp_path)]) == 0
    assert f"from schema 2 to {SCHEMA}" in capsys.readouterr().out
    assert json.loads((tmp_path / RESULTS_FILE).read_text())["schema"] == SCHEMA


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"schema": 99}, "schema version 99, newer than this sgdclaims reads"),
        ({"schema": "3"}, "its schema field is '3', not a version number"),
        ({"tests": {"a": {"recorded": {}}}}, "schema version 1 .* cannot be migrated"),
        ({"tests": []}, "not a sgdclaims results file"),
    ],
)
def test_unreadable_schemas_are_refused_by_version(store_data, tmp_path, capsys, change, message):
    (tmp_path / RESULTS_FILE).write_text(json.dumps({**_v2(store_data), **change}))
    with pytest.raises(StoreError, match=message):
        load_results(tmp_path)
    assert cli_main(["report", "--report-dir", str(tmp_path)]) == 2
    assert "error: " in capsys.readouterr().err
    assert not (tmp_path / "index.html").exists()  # never rendered from a misread store


def _session(n: int) -> dict:
    return {"session_id": "20300101T000000Z", "git_commit": f"{n}" * 40, "device": "test"}


def _write_one(outdir: str, claim: str, start: float, locked: bool) -> None:
    """One session's merge (in a child process), started at `start`, slowed down between
    reading the store and writing it so that the two sessions overlap."""
    read = store.load_results

    def slow_read(path: Path) -> dict:
        data = read(path)
        time.sleep(0.5)
        return data

    store.load_results = slow_read
    store.collect_provenance = lambda repo: _session(len(claim))
    if not locked:
        store.store_lock = lambda outdir: contextlib.nullcontext()
    entry = {"claim": claim, "scale": "fast", "dataset": "d", "statistic": "x",
             "nodeid": f"claims/test_{claim}.py::x", "verdict": "supported",
             "record": {"value": 1.0}}  # fmt: skip
    time.sleep(max(0.0, start - time.time()))
    store.merge_and_write([entry], {}, Path(outdir), repo=Path(outdir), render=False)


def _two_sessions_at_once(outdir: Path, locked: bool) -> dict:
    context = multiprocessing.get_context("fork")
    start = time.time() + 0.5
    workers = [
        context.Process(target=_write_one, args=(str(outdir), claim, start, locked))
        for claim in ("a", "bb")
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
        assert w.exitcode == 0
    return json.loads((outdir / RESULTS_FILE).read_text())


def test_two_sessions_writing_at_once_keep_both(tmp_path):
    data = _two_sessions_at_once(tmp_path, locked=True)
    assert sorted(data["tests"]) == ["claims/test_a.py::x", "claims/test_bb.py::x"]
    assert sorted(data["history"]) == ["a/fast/d", "bb/fast/d"]
    ids = sorted(s["session_id"] for s in data["sessions"])
    assert ids == ["20300101T000000Z", "20300101T000000Z-2"]  # the same second, two sessions
    assert not list(tmp_path.glob(".results.json.*"))  # no temporary file left behind


def test_without_the_lock_one_session_loses_its_records(tmp_path):
    """The race the lock prevents is real here: this is what the test above would catch."""
    data = _two_sessions_at_once(tmp_path, locked=False)
    assert len(data["tests"]) == 1
