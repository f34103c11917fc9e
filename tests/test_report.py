"""Claim reports: pages of two real claim runs (the toy claim, see conftest.toy_store):
verdicts and their summary, values over runs, changed verdicts, downloads, provenance,
escaping, determinism and the CLI. The store itself: tests/test_report_store.py."""

from __future__ import annotations

import copy
import csv
import io
import json
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sgdclaims import claims
from sgdclaims.cli import main as cli_main
from sgdclaims.costtable import load_costs
from sgdclaims.figure import paper_figure
from sgdclaims.report import store
from sgdclaims.report.downloads import cell, download_names
from sgdclaims.report.format import fmt_number
from sgdclaims.report.provenance import collect_provenance
from sgdclaims.report.render import render_all, render_pages
from sgdclaims.report.store import RESULTS_FILE, kept_sessions, load_results, merge_and_write
from sgdclaims.report.summary import cases_sentence
from sgdclaims.report.views import EntryView, claim_verdict, claim_views, page_name
from sgdclaims.verdicts import VERDICTS

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = "<script>alert('x')</script>"


def _index_row(index: str, claim: str) -> str:
    """The index card of one claim."""
    start = index.index(f'id="{claim}">')
    return index[start : index.index("</article>", start)]


def _stat_card(page: str, statistic: str) -> str:
    """The card of one statistic on a claim page."""
    start = page.index(f'id="stat-{statistic}"')
    return page[start : page.index('<div class="stat-card"', start + 1)]


def test_store_holds_every_verdict_kind(store_data):
    kinds = {e["verdict"] for e in store_data["tests"].values()}
    assert kinds == set(VERDICTS)
    assert len(store_data["sessions"]) == 2  # two runs; only the xdist controller wrote
    assert set(store_data["cases"]) == {"toy/fast/toyset", "toy/fast/lowset"}


def test_a_declared_miss_that_now_holds_is_failed(store_data):
    entry = store_data["tests"]["claims/test_toy.py::test_spec[fast-toyset-score]"]
    assert entry["reason"].startswith("declared not reproduced, but score = 0.91")
    assert "the declaration is stale" in entry["reason"]
    assert entry["verdict"] == "failed"


def test_toy_page_written_by_the_run(toy_store):
    page = (toy_store / "toy.html").read_text()
    assert "The toy score is high." in page and "A synthetic claim that exercises" in page
    assert 'id="stat-score"' in page and "A low score." in page  # what would falsify it
    assert "~0.97 (Fig. 1)" in page  # the paper's value beside ours
    assert "score_control = 0.56" in page  # the control beside the statistic
    assert page.count('<img src="data:image/svg+xml;base64,') == 2  # a figure per case
    assert '<tr class="changed">' in page and "the synthetic toy set" in page  # setup + why
    assert "not testable here: precondition ready = 0" in page
    assert "not reproduced: the toy level is low (tried: level 0.1)" in page  # the registry
    assert "CorruptDataFile" in page or "truncated" in page  # the data error, as an error
    assert re.search(r"[0-9a-f]{40}", page) and "torch 2." in page  # provenance
    assert "Traceback" not in page
    assert re.search(r"margin [0-9.]+ sd · holds in \d+% of resamples", page)  # stability
    assert "reference-seconds" in page and "GFLOP/s" in page  # time against the budget


def test_index_row_shows_values_criteria_problems(toy_store):
    row = _index_row((toy_store / "index.html").read_text(), "toy")
    assert "score" in row and "≥ 0.8" in row and "0.91" in row and "± 0.01" in row
    assert '<span class="badge v-error big">error</span>' in row
    assert "needs --gpu" in row and "compute" in row
    assert "not testable here: precondition ready = 0 (needs &gt;= 1)" in row
    assert "the toy level is low (tried: level 0.1)" in row
    for verdict in ("error", "not reproduced", "not testable here"):  # badges with counts
        assert re.search(rf'class="badge v-{verdict.replace(" ", "-")}">\d+ {verdict}<', row)


def test_summary_says_what_was_tested(store_data, toy_store):
    toy = next(v for v in claim_views(store_data) if v.id == "toy")
    assert toy.summary.startswith("Of 3 cases run, ")
    assert "1 not reproduced" in toy.summary and "2 cases skipped (needs --gpu)" in toy.summary
    for page in ("index.html", "toy.html"):
        assert toy.summary in (toy_store / page).read_text()
    findings = {f["verdict"]: f for f in toy.findings}
    assert findings["not testable here"]["statistics"] == [("gated", ["fast · lowset"])]
    assert findings["supported"]["statistics"] == [("gated", ["fast · toyset"])]


def _entry(case: str, statistic: str, verdict: str, kind: str = "statistic") -> EntryView:
    scale, dataset = case.split("/")
    return EntryView(f"{case}-{statistic}", statistic, kind, scale, dataset, verdict,
                     "needs --gpu" if verdict == "skipped" else "", 0.0, "", "s", None)  # fmt: skip


def test_cases_sentence_counts_cases_by_verdict():
    entries = [
        _entry("fast/a", "x", "supported"), _entry("fast/a", "y", "not testable here"),
        _entry("fast/b", "x", "supported"), _entry("fast/b", "y", "supported"),
        _entry("fast/c", "x", "not reproduced"), _entry("fast/c", "p", "not met", "precondition"),
        _entry("full/a", "x", "skipped"),
    ]  # fmt: skip
    assert cases_sentence(entries) == (
        "Of 3 cases run, 1 not reproduced, 1 partly supported and 1 supported; "
        "1 case skipped (needs --gpu)."
    )
    assert cases_sentence([_entry("full/a", "x", "error")]) == "Of 1 case run, 1 with an error."


def test_claims_without_results_appear_as_not_run(store_data):
    pages = render_pages(store_data)
    for claim in claims.CLAIMS:
        row = _index_row(pages["index.html"], claim)
        assert '<span class="badge v-not-run big">not run</span>' in row
        assert f"pytest claims/test_{claim}.py -m fast" in row
        assert "has no recorded results yet" in pages[page_name(claim)]


def test_claim_pages_show_their_cost_rows(store_data):
    """Every measured full-scale cost row appears on its claim's page, with its time."""
    rows = load_costs()
    assert {r.claim for r in rows} == set(claims.CLAIMS), "run `sgdclaims costs --measure`"
    pages = render_pages(store_data)
    for r in rows:
        section = pages[page_name(r.claim)].split('id="costs"')[1].split("</section>")[0]
        assert f"<td>{r.dataset}</td>" in section
        if r.cpu_hours is not None:
            assert f"{r.cpu_hours:.3g}" in section
    assert "Not measured yet" in pages["toy.html"]


def test_unregistered_claim_still_gets_a_page(store_data):
    """Rendered in this process, where the toy claim is not registered: its results still
    show, with a note that its figures have no drawer here."""
    page = render_pages(store_data)["toy.html"]
    assert "is not in the registry" in page and "0.91" in page


def _poison(data: dict) -> dict:
    """Put a script tag into every kind of string the report shows."""
    data = copy.deepcopy(data)
    data["note"] = HOSTILE
    data["sessions"][-1]["device"] = HOSTILE
    for entry in data["tests"].values():
        entry["reason"] += HOSTILE
        entry["dataset"] += HOSTILE
        if entry.get("record"):
            entry["record"].update(reference=HOSTILE, note=HOSTILE, details={HOSTILE: 1.0})
    for case in data["cases"].values():
        case["config"][HOSTILE] = HOSTILE
        case["changes"].append({"field": HOSTILE, "value": HOSTILE, "paper": 1, "why": HOSTILE})
        case["provenance"]["source"] = HOSTILE
        case["units"] = [HOSTILE]
        case["config_class"] = HOSTILE
    evil = copy.deepcopy(next(iter(data["tests"].values())))
    evil.update(claim=f"../../evil{HOSTILE}", nodeid=f"claims/test_evil.py::{HOSTILE}")
    data["tests"][evil["nodeid"]] = evil
    return data


def _poison_history(data: dict) -> None:
    """Put a script tag into every string of the stored runs."""
    for runs in data["history"].values():
        for run in runs:
            run.update(commit=HOSTILE, session=HOSTILE, finished_at=HOSTILE)
            for check in run["checks"].values():
                check.update(verdict=HOSTILE, reason=HOSTILE)
            run["checks"][HOSTILE] = {"verdict": HOSTILE, "kind": HOSTILE, "value": HOSTILE}


def test_hostile_strings_render_as_text(store_data, tmp_path):
    data = _poison(store_data)
    _poison_history(data)
    written = render_all(data, tmp_path)
    assert all(p.parent == tmp_path for p in written)
    pages = [p for p in written if p.suffix == ".html"]
    assert len(pages) == len(claims.CLAIMS) + 3  # index, the toy claim, the evil one
    assert len(written) == len(pages) + 2 * 3  # statistics, history, figure data of two claims
    for path in pages:
        page = path.read_text()
        assert "<script" not in page.lower(), path.name
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in (tmp_path / "toy.html").read_text()


@given(st.text(max_size=120))
def test_page_names_are_safe_file_names(claim_id):
    assert re.fullmatch(r"[A-Za-z0-9_-]+\.html", page_name(claim_id))


def test_rendering_is_byte_identical(store_data, tmp_path):
    first = render_pages(store_data)
    shuffled = json.loads(json.dumps(store_data))
    shuffled["tests"] = dict(reversed(list(shuffled["tests"].items())))
    shuffled["cases"] = dict(reversed(list(shuffled["cases"].items())))
    assert render_pages(shuffled) == first


def test_pages_are_self_contained(toy_store):
    for path in toy_store.glob("*.html"):
        page = path.read_text()
        assert not re.search(r'(src|href)="(https?:)?//', page), path.name
        assert not re.search(r'src="(?!data:)', page), path.name
        for href in re.findall(r'href="(?!data:)([^"#]+)', page):  # pages and downloads
            assert "/" not in href and (toy_store / href).is_file(), (path.name, href)


def test_downloads_beside_the_page(toy_store):
    names = download_names("toy.html")
    page = (toy_store / "toy.html").read_text()
    for name in names.values():
        assert f'href="{name}" download' in page
    rows = list(csv.DictReader(io.StringIO((toy_store / names["statistics"]).read_text())))
    score = next(r for r in rows if r["statistic"] == "score" and r["dataset"] == "toyset")
    assert float(score["bootstrap_share"]) == 1.0 and float(score["margin_sd"]) > 0
    assert float(score["value"]) == pytest.approx(0.91) and score["op"] == ">="
    assert [float(v) for v in score["per_seed"].split(";")] == pytest.approx([0.9, 0.91, 0.92])
    assert score["paper"] == "~0.97 (Fig. 1)" and score["control"] == "score_control"
    runs = list(csv.DictReader(io.StringIO((toy_store / names["history"]).read_text())))
    values = [
        float(r["value"]) for r in runs if r["statistic"] == "score" and r["dataset"] == "toyset"
    ]
    assert values == pytest.approx([0.76, 0.91])  # both runs, oldest first

    def no_constants(name):
        raise ValueError(f"{name} is not strict JSON")

    figures = json.loads((toy_store / names["figures"]).read_text(), parse_constant=no_constants)
    assert figures["cases"]["fast/toyset"]["figure_data"]["scores"] == pytest.approx(
        [0.9, 0.91, 0.92]
    )
    assert figures["cases"]["fast/toyset"]["cache_key"]


def test_csv_cells_never_run_as_formulas():
    assert cell("=HYPERLINK(1)") == "'=HYPERLINK(1)" and cell("@x") == "'@x"
    assert cell(-0.5) == "-0.5" and cell([1.0, float("nan")]) == "1.0;nan" and cell(None) == ""


def test_figures_name_the_papers_figure(toy_store):
    """Every figure of every claim has a caption and names the paper's figure it redraws
    (Figure(paper="Fig. 4"), a reference in its caption, or paper=OURS for none)."""
    assert "the paper's Fig. 1" in (toy_store / "toy.html").read_text()
    missing = [
        f"{claim}: {figure.name}"
        for claim in claims.CLAIMS
        for figure in claims.get(claim).figures
        if not figure.caption.strip() or not paper_figure(figure)
    ]
    assert missing == []


def test_claim_page_shows_values_over_runs(toy_store):
    card = _stat_card((toy_store / "toy.html").read_text(), "score")
    toyset = card[card.index("fast · toyset</td>") :]
    assert "0.91" in toyset and "was: 0.76 ± 0.01 (not reproduced)" in toyset  # both values
    assert toyset.count("<circle") == 2 and '<svg class="spark"' in toyset
    assert re.search(r"<title>[^<]*· [0-9a-f]{7}: 0.76 ± 0.01 \(not reproduced\)</title>", toyset)
    assert (
        "Values over the kept runs (2 for fast · fashion_mnist, 2 for fast · lowset, 2 for" in card
    )


def test_index_marks_the_case_whose_verdict_changed(toy_store):
    row = _index_row((toy_store / "index.html").read_text(), "toy")
    assert "claim-card has-moved" in (toy_store / "index.html").read_text()
    moved = re.findall(r'<div class="moved">(.*?)</div>', row, flags=re.S)
    assert len(moved) == 1 and "toyset" in moved[0] and "lowset" not in moved[0]
    assert "<b>gated</b> failed (0.76 ± 0.01) → supported (0.91 ± 0.01)" in moved[0]
    assert "1 case changed verdict since the previous run" in (toy_store / "index.html").read_text()


def test_provenance_per_unit(store_data):
    case = store_data["cases"]["toy/fast/toyset"]
    case.update(unit_seconds={"0": 2.5, "1": 61.0, "2": 0.5}, reused=["2"], reused_units=1)
    page = render_pages(store_data)["toy.html"]
    assert "0: 2.5 s (computed in this run)" in page
    assert "1: 1 min 01 s (computed in this run)" in page
    assert "2: 0.5 s (reused from the cache)" in page
    assert "1 of 3 units reused from the cache, 2 computed" in page
    assert case["cache_key"] in page


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
        (["supported", "skipped", "passed"], "supported"),
        (["supported", "not reproduced"], "partly supported"),
        (["supported", "not testable here"], "partly supported"),
        (["not reproduced", "not testable here"], "not reproduced"),
        (["not testable here", "skipped"], "not testable here"),
        (["supported", "failed", "not reproduced"], "failed"),
        (["failed", "error"], "error"),
    ],
)
def test_claim_verdict_aggregates_tests(verdicts, expected):
    assert claim_verdict(verdicts) == expected


def test_claim_verdict_of_the_toy_run(store_data):
    toy = next(v for v in claim_views(store_data) if v.id == "toy")
    assert toy.verdict == "error"


def test_cli_report_rerenders_from_the_store(toy_store, tmp_path, capsys):
    shutil.copy(toy_store / RESULTS_FILE, tmp_path / RESULTS_FILE)
    assert cli_main(["report", "--report-dir", str(tmp_path)]) == 0
    assert "index.html" in capsys.readouterr().out
    first = (tmp_path / "index.html").read_bytes()
    assert cli_main(["report", "--report-dir", str(tmp_path)]) == 0
    assert (tmp_path / "index.html").read_bytes() == first


def test_cli_report_without_results_explains(tmp_path, capsys):
    assert cli_main(["report", "--report-dir", str(tmp_path)]) == 2
    assert "pytest claims -m fast" in capsys.readouterr().err


def test_merge_keeps_other_cases_and_their_sessions(store_data, tmp_path, monkeypatch):
    session = {"session_id": "20300101T000000Z", "git_commit": None, "device": "test"}
    monkeypatch.setattr(store, "collect_provenance", lambda repo: session)
    (tmp_path / RESULTS_FILE).write_text(json.dumps(store_data))
    nodeid, entry = next((k, v) for k, v in store_data["tests"].items() if v["dataset"] == "toyset")
    fresh = {**entry, "run_at": "2030-01-01T00:00:00+00:00"}
    merge_and_write([fresh], {}, tmp_path, repo=tmp_path)
    merged = load_results(tmp_path)
    assert merged["tests"][nodeid]["session"] == "20300101T000000Z"
    others = [k for k in store_data["tests"] if k != nodeid]
    assert all(merged["tests"][k] == store_data["tests"][k] for k in others)
    assert merged["cases"] == store_data["cases"]
    assert [s["session_id"] for s in merged["sessions"]][-1] == "20300101T000000Z"


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
