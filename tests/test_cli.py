"""The `sgdclaims` command: data fetch/list and report, and their errors."""

from __future__ import annotations

import subprocess
import sys

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
