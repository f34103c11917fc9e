"""The pytest plugin, the verdicts and the results store, run on a sixth claim (`toy`) that a
test adds to a copy of the package with three files and one registry line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch
from tiny_data import write_idx_split
from toy_claim import write_toy_project


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    write_idx_split(root / "FashionMNIST" / "raw", 60, 20)
    return root


def toy(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, not_reproduced: str = ""):
    src = write_toy_project(pytester.path, not_reproduced)
    monkeypatch.setenv("PYTHONPATH", str(src))
    return pytester


def run(project: pytest.Pytester, data_root: Path, *args: str) -> pytest.RunResult:
    cache = project.path / "cache"
    return project.runpytest_subprocess(
        "claims", f"--data-root={data_root}", f"--results-cache={cache}", "--report-dir=out", *args
    )


def stored(project: pytest.Pytester) -> dict:
    return json.loads((project.path / "out" / "results.json").read_text())


def verdicts(project: pytest.Pytester) -> dict[tuple[str, str], str]:
    tests = stored(project)["tests"].values()
    return {(e["dataset"], e["statistic"]): e["verdict"] for e in tests}


def test_toy_claim_runs_and_its_page_renders(pytester, monkeypatch, data_root):
    project = toy(pytester, monkeypatch)
    res = run(project, data_root, "-rs")
    res.stdout.fnmatch_lines(["*needs --gpu*"])
    res.stdout.fnmatch_lines(["*not testable here: precondition ready = 0*"])
    assert res.parseoutcomes() == {"passed": 16, "failed": 1, "skipped": 13}  # with `alive`
    got = verdicts(project)
    assert got[("toyset", "score")] == "supported"
    assert got[("toyset", "ready")] == "met"
    assert got[("toyset", "side")] == "reported"
    assert got[("toyset", "test_three_seeds")] == "passed"
    assert got[("lowset", "score")] == "failed"  # a miss that nobody declared
    assert got[("lowset", "ready")] == "not met"
    assert got[("lowset", "gated")] == "not testable here"
    assert got[("bigset", "score")] == "skipped"
    entry = next(
        e for e in stored(project)["tests"].values()
        if e["dataset"] == "toyset" and e["statistic"] == "score"
    )  # fmt: skip
    record = entry["record"]
    assert record["value"] == pytest.approx(0.91) and record["per_seed"] == [0.9, 0.91, 0.92]
    assert record["control"]["holds"] and record["reference"] == "~0.97 (Fig. 1)"
    case = stored(project)["cases"]["toy/fast/toyset"]
    assert case["figures"]["scores"] == [0.9, 0.91, 0.92] and case["units"] == ["0", "1", "2"]
    assert case["changes"] == [
        {
            "field": "dataset",
            "value": "toyset",
            "paper": "synthetic",
            "why": "the synthetic toy set",
        },
        {"field": "seeds", "value": [0, 1, 2], "paper": list(range(10)), "why": "3 seeds"},
    ]
    page = (project.path / "out" / "toy.html").read_text()
    assert "The toy score is high." in page and "data:image/svg+xml;base64," in page
    assert "not testable here" in page
    # `sgdclaims report` redraws every page from the store alone, byte for byte
    before = {p.name: p.read_bytes() for p in (project.path / "out").glob("*.html")}
    for p in (project.path / "out").glob("*.html"):
        p.unlink()
    redraw = project.run(sys.executable, "-m", "sgdclaims.cli", "report", "--report-dir", "out")
    assert redraw.ret == 0
    after = {p.name: p.read_bytes() for p in (project.path / "out").glob("*.html")}
    assert after == before


REGISTRY = """
    NotReproduced("score", "fast", "lowset", "the toy level is low", "level 0.1"),
    NotReproduced("score", "fast", "fashion_mnist", "declared to test errors", "none"),
    NotReproduced("score", "fast", "toyset", "a stale entry", "none"),
"""


def test_registry_xfails_claim_misses_only(pytester, monkeypatch, data_root):
    project = toy(pytester, monkeypatch, f"({REGISTRY})")
    images = data_root / "FashionMNIST" / "raw" / "train-images-idx3-ubyte.gz"
    images.write_bytes(images.read_bytes()[:100])  # a truncated file at the data root
    res = run(project, data_root, "-m", "fast", "-k", "score")
    counts = res.parseoutcomes()
    assert counts.get("xfailed") == 1  # lowset: a declared claim-statistic miss
    assert counts.get("failed") == 2  # fashion_mnist: a data error; toyset: a strict XPASS
    got = verdicts(project)
    assert got[("lowset", "score")] == "not reproduced"
    assert got[("fashion_mnist", "score")] == "error"
    assert got[("toyset", "score")] == "failed"
    reason = next(
        e["reason"] for e in stored(project)["tests"].values() if e["dataset"] == "fashion_mnist"
    )
    assert "CorruptDataFile" in reason or "gzip" in reason or "truncated" in reason


def test_spec_naming_an_unknown_value_is_a_collection_error(pytester, monkeypatch, data_root):
    project = toy(pytester, monkeypatch)
    spec = project.path / "src" / "sgdclaims" / "claims" / "toy" / "spec.py"
    spec.write_text(
        spec.read_text().replace(
            'Check("side", "reported", "A reported number."),',
            'Check("side", "reported", "A reported number."),\n'
            '        Check("ghost", "reported", "Nobody computes this."),',
        )
    )
    res = run(project, data_root)
    assert res.ret == pytest.ExitCode.INTERRUPTED
    assert "the spec names ['ghost'], which statistics() does not return" in res.stdout.str()


def test_a_raising_figure_is_an_error_not_a_stopped_session(pytester, monkeypatch, data_root):
    project = toy(pytester, monkeypatch)
    figures = project.path / "src" / "sgdclaims" / "claims" / "toy" / "figures.py"
    figures.write_text(
        figures.read_text().replace(
            '    return {"scores": list(values["score"].per_seed)}',
            '    raise KeyError("no such frame")',
        )
    )
    res = run(project, data_root, "-m", "fast", "-k", "toyset")
    assert "INTERNALERROR" not in res.stdout.str()
    assert res.parseoutcomes().get("failed") == 1  # the case's first test carries the payload
    tests = stored(project)["tests"].values()
    errors = [e for e in tests if e["verdict"] == "error"]
    assert len(errors) == 1 and "KeyError" in errors[0]["reason"]


def test_gpu_without_cuda_stops_at_once(pytester, monkeypatch, data_root):
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    project = toy(pytester, monkeypatch)
    res = run(project, data_root, "--gpu")
    assert res.ret == pytest.ExitCode.USAGE_ERROR
    res.stderr.fnmatch_lines(["*--gpu was given but no CUDA device is available*"])


def test_marker_typo_is_an_error(pytester, monkeypatch, data_root):
    project = toy(pytester, monkeypatch)
    res = run(project, data_root, "-m", "fsat")
    assert res.ret == pytest.ExitCode.USAGE_ERROR
    res.stderr.fnmatch_lines(["*unknown marker(s)*fsat*"])


def test_missing_data_skips_full_test_with_message(pytester, monkeypatch, data_root):
    project = toy(pytester, monkeypatch)
    (project.path / "fake_cuda.py").write_text(
        "import torch\ntorch.cuda.is_available = lambda: True\n"
        "torch.cuda.device_count = lambda: 1\ntorch.cuda.set_device = lambda device: None\n"
    )
    monkeypatch.setenv("PYTHONPATH", f"{project.path / 'src'}:{project.path}")
    res = run(project, data_root, "-m", "full", "-k", "nodata and score", "--gpu", "-rs",
              "-p", "fake_cuda")  # fmt: skip
    assert res.parseoutcomes().get("skipped") == 1
    res.stdout.fnmatch_lines(["*sgdclaims data fetch nodata*"])


def test_other_results_are_kept_and_renamed_tests_pruned(pytester, monkeypatch, data_root):
    project = toy(pytester, monkeypatch)
    run(project, data_root)
    first = stored(project)["tests"]
    run(project, data_root, "-k", "toyset")
    assert set(stored(project)["tests"]) == set(first)
    claim_test = project.path / "claims" / "test_toy.py"
    claim_test.write_text(claim_test.read_text().replace("test_three_seeds", "test_seeds"))
    run(project, data_root, "-k", "toyset")
    kept = stored(project)["tests"]
    assert not any("test_three_seeds" in nodeid for nodeid in kept)
    assert any("test_seeds[fast-toyset]" in nodeid for nodeid in kept)


def test_precompute_fills_the_cache_that_the_claim_tests_read(pytester, monkeypatch, data_root):
    """`sgdclaims precompute` computes every fast unit in a pool of processes; the claim
    tests then reuse all of them and record the same verdicts."""
    import subprocess

    project = toy(pytester, monkeypatch)
    cache = project.path / "cache"
    out = subprocess.run(
        [sys.executable, "-m", "sgdclaims.cli", "precompute", "toy", "--jobs", "2",
         f"--cache-dir={cache}", f"--data-root={data_root}", "--quiet"],
        cwd=project.path, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    assert "9 units of 3 cases in 2 processes" in out.stdout
    assert len(list(cache.glob("toy/*/unit-*.pkl"))) == 9
    run(project, data_root, "-m", "fast")
    cases = stored(project)["cases"]
    assert all(c["reused_units"] == len(c["units"]) for c in cases.values()), cases.keys()
    assert verdicts(project)[("toyset", "score")] == "supported"


def test_precompute_orders_jobs_by_the_stores_unit_times(tmp_path):
    """The store keys unit times by str(unit); the queue finds them by the unit's job slug,
    tuple units (iterative_linearisation's ('K', '10')) included."""
    from sgdclaims.executors.precompute import previous_unit_seconds
    from sgdclaims.report.store import write_results
    from sgdclaims.runner import unit_slug

    key = "iterative_linearisation/fast/mnist"
    case = {"unit_seconds": {str(("K", "10")): 12.5, "0": 3.0}}
    write_results(tmp_path, {"schema": 3, "cases": {key: case}, "tests": {}, "sessions": []})
    seconds = previous_unit_seconds(tmp_path)
    assert seconds[(key, unit_slug(("K", "10")))] == 12.5
    assert seconds[(key, unit_slug(0))] == 3.0
