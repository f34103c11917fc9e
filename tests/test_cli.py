"""The `sgdclaims` command: run, costs, data fetch/list, report, readme, and their errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from sgdclaims import claims
from sgdclaims.cli import main


def test_fetch_unknown_dataset_is_an_error(capsys, tmp_path):
    assert main(["data", "fetch", "svhn", "--data-root", str(tmp_path)]) == 2
    assert "unknown data set(s) ['svhn']" in capsys.readouterr().err


def test_fetch_imagenet_says_where_to_put_it(capsys, tmp_path):
    assert main(["data", "fetch", "imagenet", "--data-root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "imagenet" in err and str(tmp_path / "imagenet") in err


def test_fetch_builtin_and_list(capsys, tmp_path):
    assert main(["data", "fetch", "digits", "sinusoid_disc", "--data-root", str(tmp_path)]) == 0
    assert "built in" in capsys.readouterr().out
    assert main(["data", "list", "--data-root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "digits 8x8" in out and "cifar10        missing" in out


def test_report_without_results_is_an_error(capsys, tmp_path):
    assert main(["report", "--report-dir", str(tmp_path)]) == 2
    assert "no recorded claim results" in capsys.readouterr().err


def test_report_on_corrupt_json(capsys, tmp_path):
    (tmp_path / "results.json").write_text("{not json")
    assert main(["report", "--report-dir", str(tmp_path)]) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_console_script_usage_error():
    out = subprocess.run(
        [sys.executable, "-m", "sgdclaims.cli", "nonsense"], capture_output=True, text=True
    )
    assert out.returncode == 2 and "invalid choice" in out.stderr


def test_readme_prints_and_writes_the_claims_and_cost_tables(capsys, tmp_path):
    from sgdclaims.claims import readme_table
    from sgdclaims.costtable import readme_block

    assert main(["readme"]) == 0
    assert capsys.readouterr().out.strip() == f"{readme_table()}\n\n{readme_block()}".strip()
    readme = tmp_path / "README.md"
    readme.write_text("# x\n<!-- claims:begin -->\nold\n<!-- claims:end -->\n- costs:\n"
                      "  <!-- costs:begin -->\n  old\n  <!-- costs:end -->\nrest\n")  # fmt: skip
    assert main(["readme", "--write", "--path", str(readme)]) == 0
    assert readme.read_text() == (
        f"# x\n<!-- claims:begin -->\n{readme_table()}\n<!-- claims:end -->\n- costs:\n"
        f"  <!-- costs:begin -->\n{readme_block()}\n  <!-- costs:end -->\nrest\n"
    )
    readme.write_text("no markers")
    assert main(["readme", "--write", "--path", str(readme)]) == 2
    assert "lacks the markers" in capsys.readouterr().err


# --- sgdclaims run --------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["run", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_run_unknown_claim_gets_the_registry(capsys):
    code, _, err = run_cli(capsys, "nakkiran")
    assert code == 2 and f"unknown claim 'nakkiran'; known: {list(claims.CLAIMS)}" in err


def test_run_unknown_data_set_gets_the_known_ones(capsys):
    code, _, err = run_cli(capsys, "linear_early", "--dataset", "svhn")
    assert code == 2 and "unknown data set 'svhn' at fast scale; known: [" in err


def test_run_on_cuda_without_cuda_stops_with_the_gpu_message(capsys, tmp_path):
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    code, _, err = run_cli(capsys, "linear_early", "--device", "cuda", "--cache-dir", str(tmp_path))
    assert code == 2
    assert "--device cuda was given but no CUDA device is available" in err
    assert not list(tmp_path.iterdir())


def test_run_slurm_without_submitit_or_partition_is_one_line(capsys, tmp_path, monkeypatch):
    args = ("linear_early", "--executor", "slurm", "--cache-dir", str(tmp_path / "c"))
    monkeypatch.setitem(sys.modules, "submitit", None)
    code, _, err = run_cli(capsys, *args)
    assert code == 2 and err.count("\n") == 1 and "--executor slurm needs submitit" in err
    monkeypatch.delitem(sys.modules, "submitit")
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "srun").write_text("#!/bin/sh\nexit 0\n")
    (fake / "srun").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}{os.pathsep}/bin")
    code, _, err = run_cli(capsys, *args)
    assert code == 2 and err.count("\n") == 1 and "--executor slurm needs --partition" in err


def test_run_unwritable_shared_cache_is_named_before_any_job(capsys, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    cache = blocker / "cache"
    code, _, err = run_cli(
        capsys, "linear_early", "--executor", "submitit-local", "--cache-dir", str(cache)
    )
    assert code == 2 and f"the shared cache directory {cache} is not writable" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not-a-dir"]


def linear_early_project(dest: Path) -> Path:
    """A copy of the project with linear_early as its only claim (so the store renders
    whatever state the other claims are in); returns its src folder for PYTHONPATH."""
    src = dest / "src"
    shutil.copytree(ROOT / "src" / "sgdclaims", src / "sgdclaims",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    registry = src / "sgdclaims" / "claims" / "__init__.py"
    text = registry.read_text()
    start = text.index("CLAIMS: tuple[str, ...] = (")
    end = text.index(")\n", start) + 2
    registry.write_text(text[:start] + 'CLAIMS: tuple[str, ...] = ("linear_early",)\n' + text[end:])
    (dest / "claims").mkdir()
    shutil.copy(ROOT / "claims" / "test_linear_early.py", dest / "claims")
    (dest / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\nmarkers = ["fast: fast", "full: full"]\n'
    )
    return src


@pytest.mark.slow
def test_submitit_local_run_fills_the_cache_and_pytest_reads_it(tmp_path):
    """`sgdclaims run` through submitit's LocalExecutor (real subprocess jobs) computes the
    units and records the verdicts; `pytest claims` then reuses every unit and records the
    same verdicts under the same node ids."""
    src = linear_early_project(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(src), "OMP_NUM_THREADS": "1"}
    cache, store = tmp_path / "cache", tmp_path / "reports"
    cli = subprocess.run(
        [sys.executable, "-m", "sgdclaims.cli", "run", "linear_early", "--dataset",
         "sinusoid_disc", "--executor", "submitit-local", "--cache-dir", str(cache),
         "--report-dir", str(store), "--quiet"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert cli.returncode == 0, cli.stdout[-2000:] + cli.stderr[-3000:]
    assert "3 units (0 from the cache)" in cli.stdout
    assert "early_explained" in cli.stdout and "supported" in cli.stdout
    assert len(list(cache.glob("linear_early/*/unit-*.pkl"))) == 3
    assert len(list((cache / "_jobs").glob("*_result.pkl"))) == 3
    by_cli = json.loads((store / "results.json").read_text())
    verdicts = {k: e["verdict"] for k, e in by_cli["tests"].items()}
    assert by_cli["cases"]["linear_early/fast/sinusoid_disc"]["reused_units"] == 0
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "claims", "-m", "fast",
         "-k", "sinusoid_disc", f"--results-cache={cache}", f"--report-dir={store}", "-q"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert tests.returncode == 0, tests.stdout[-3000:]
    by_pytest = json.loads((store / "results.json").read_text())
    assert by_pytest["cases"]["linear_early/fast/sinusoid_disc"]["reused_units"] == 3
    spec_checks = {k: e["verdict"] for k, e in by_pytest["tests"].items() if "test_spec[" in k}
    assert spec_checks == verdicts


def test_cost_table_counts_units_and_steps_and_times_a_smoke_run(capsys, tmp_path):
    from sgdclaims.costtable import cost_rows, load_costs, markdown_table
    from sgdclaims.executors.costs import measure_all

    path = tmp_path / "costs.json"
    rows, errors = measure_all(["linear_early"], path=path, log=lambda m: None)
    assert errors == []
    from sgdclaims import claims

    assert [r.dataset for r in rows] == claims.get("linear_early").cases.datasets("full")
    mnist = rows[0]
    assert mnist.units == 10 and mnist.steps_per_unit == 50 * (60_000 // 64)
    assert mnist.s_per_step > 0 and mnist.gpu_hours < mnist.cpu_hours
    assert load_costs(path) == sorted(rows, key=lambda r: r.dataset)
    served = {row["dataset"]: row for row in cost_rows("linear_early", path)}
    assert served["mnist"]["steps"] == 10 * mnist.steps_per_unit
    assert "| `linear_early` | mnist | 10 | 46,850 |" in markdown_table(rows)
    assert main(["costs"]) == 0
    assert "| claim | full data set | units |" in capsys.readouterr().out
