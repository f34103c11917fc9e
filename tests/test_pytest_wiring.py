"""The pytest wiring of conftest.py, run in a scratch project with pytester."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]

CLAIM_TESTS = """
import pytest
from sgdclaims.cases import scale_cases
from sgdclaims.data.registry import DatasetMissing

@pytest.mark.parametrize(("scale", "dataset"), scale_cases(fast=["toyset"], full=["bigset"]))
def test_good_stat(claim, scale, dataset):
    claim.record("good_stat", 0.9, op=">=", threshold=0.8, per_seed=[0.85, 0.9, 0.95],
                 control=0.1, reference="~0.97 (Fig. 4)")
    claim.record("side_stat", 1.5)
    claim.verify()

@pytest.mark.parametrize(("scale", "dataset"), scale_cases(fast=["toyset"]))
def test_bad_stat(claim, scale, dataset):
    claim.record("bad_stat", 0.1, op=">=", threshold=0.8)
    claim.verify()

@pytest.mark.parametrize(("scale", "dataset"), scale_cases(fast=["toyset"]))
def test_broken_stat(claim, scale, dataset):
    raise RuntimeError("experiment crashed")

@pytest.mark.parametrize(("scale", "dataset"), scale_cases(full=["nodata"]))
def test_needs_data(claim, scale, dataset):
    raise DatasetMissing("'nodata' not found at /x; provide it with `sgdclaims data fetch nodata`")
"""


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("PYTHONPATH", str(pytester.path))
    pytester.makeconftest((ROOT / "conftest.py").read_text())
    (pytester.path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    (pytester.path / "claims").mkdir()
    (pytester.path / "claims" / "test_toy.py").write_text(CLAIM_TESTS)
    return pytester


def outcomes(result: pytest.RunResult) -> dict[str, int]:
    return result.parseoutcomes()


def test_full_skips_without_gpu_and_report_is_written(project):
    report_dir = project.path / "out"
    res = project.runpytest_subprocess("claims", f"--report-dir={report_dir}", "-rs")
    res.stdout.fnmatch_lines(["*needs --gpu*"])
    assert outcomes(res) == {"passed": 1, "failed": 2, "skipped": 2}
    data = json.loads((report_dir / "results.json").read_text())
    by_stat = {(e["statistic"], e["scale"]): e for e in data["tests"].values()}
    good = by_stat[("good_stat", "fast")]
    assert good["outcome"] == "passed" and good["dataset"] == "toyset"
    rec = good["recorded"]["records"]
    assert rec[0]["value"] == 0.9 and rec[0]["passed"] and rec[0]["spread"] == pytest.approx(0.05)
    assert rec[1]["asserted"] is False
    assert by_stat[("good_stat", "full")]["reason"] == "needs --gpu"
    assert by_stat[("bad_stat", "fast")]["recorded"]["records"][0]["passed"] is False
    assert "experiment crashed" in by_stat[("broken_stat", "fast")]["reason"]
    assert (report_dir / "index.html").exists()


def test_gpu_without_cuda_stops_at_once(project):
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    res = project.runpytest_subprocess("claims", "--gpu")
    assert res.ret == pytest.ExitCode.USAGE_ERROR
    res.stderr.fnmatch_lines(["*--gpu was given but no CUDA device is available*"])


def test_marker_typo_is_an_error(project):
    res = project.runpytest_subprocess("claims", "-m", "fsat")
    assert res.ret == pytest.ExitCode.USAGE_ERROR
    res.stderr.fnmatch_lines(["*unknown marker(s)*fsat*"])
    ok = project.runpytest_subprocess("claims", "-m", "fast and not full", "--report-dir=out")
    assert ok.ret == pytest.ExitCode.TESTS_FAILED  # selects the fast ones, some of which fail


REGISTRY_PLUGIN = """
from sgdclaims import not_reproduced as nr

nr.REGISTRY = (
    nr.NotReproduced("toy", "bad_stat", "fast", "toyset", "too small", "x, y"),
    nr.NotReproduced("toy", "good_stat", "fast", "*", "stale entry", "z"),
)
"""


def test_registry_marks_strict_xfail(project):
    (project.path / "fake_registry.py").write_text(REGISTRY_PLUGIN)
    res = project.runpytest_subprocess(
        "claims", "-m", "fast", "--report-dir=out", "-p", "fake_registry"
    )
    counts = outcomes(res)
    assert counts.get("xfailed") == 1  # bad_stat: declared not reproduced
    assert counts.get("failed") == 2  # broken_stat, and good_stat's unexpected (strict) pass
    data = json.loads((project.path / "out" / "results.json").read_text())
    bad = next(e for e in data["tests"].values() if e["statistic"] == "bad_stat")
    assert bad["xfail"] and "too small" in bad["reason"]


def test_missing_data_skips_full_test_with_message(project):
    (project.path / "fake_cuda.py").write_text(
        "import torch\ntorch.cuda.is_available = lambda: True\n"
    )
    res = project.runpytest_subprocess(
        "claims",
        "-m",
        "full",
        "-k",
        "needs_data",
        "--gpu",
        "-rs",
        "--report-dir=out",
        "-p",
        "fake_cuda",
    )
    assert outcomes(res) == {"skipped": 1, "deselected": 4}
    res.stdout.fnmatch_lines(["*sgdclaims data fetch nodata*"])


def test_other_claims_results_are_kept(project):
    project.runpytest_subprocess("claims", "--report-dir=out")
    first = json.loads((project.path / "out" / "results.json").read_text())["tests"]
    project.runpytest_subprocess("claims", "-k", "good_stat", "--report-dir=out")
    second = json.loads((project.path / "out" / "results.json").read_text())["tests"]
    assert set(first) == set(second)


def test_renamed_tests_are_pruned(project):
    project.runpytest_subprocess("claims", "--report-dir=out")
    tests = project.path / "claims" / "test_toy.py"
    tests.write_text(tests.read_text().replace("def test_bad_stat", "def test_worse_stat"))
    project.runpytest_subprocess("claims", "-k", "good_stat", "--report-dir=out")
    kept = json.loads((project.path / "out" / "results.json").read_text())["tests"]
    assert not any("bad_stat" in nodeid for nodeid in kept)
    assert any("good_stat" in nodeid for nodeid in kept)
