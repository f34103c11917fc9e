"""pytest wiring (a pytest11 plugin): --gpu / --data-root / --no-cache / --results-cache /
--report-dir, scale markers, the claim tests' cases and spec checks, verdicts, reports.

A claim test module `claims/test_<id>.py` asks for `spec_check` (parametrised over every
(scale, data set, check) of the claim's spec) and may ask for `case` (parametrised over the
claim's (scale, data set) cases) for harness checks of its own. Full-scale cases run only
with --gpu. A statistic declared not reproduced is marked xfail(strict, raises=ClaimMiss):
only a claim-statistic miss matches it; a crash or a data error is an error. The controller
process (never an xdist worker) writes the results store and the HTML pages at the end.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

RESULTS_KEY = "sgdclaims_claim"
CASE_KEY = "sgdclaims_case"
CASES_STASH = pytest.StashKey[dict]()
#: per test: its ClaimCase, the evaluated Outcome of its spec check, and whether the case's
#: payload was sent with this test's report
CASE_STASH = pytest.StashKey[Any]()
OUTCOME_STASH = pytest.StashKey[Any]()

settings.register_profile(
    "ci",
    deadline=None,
    max_examples=40,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "dev",
    deadline=None,
    max_examples=150,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sgdclaims")
    group.addoption(
        "--gpu",
        action="store_true",
        help="run full-scale claim tests on CUDA (with -n N: one GPU per worker)",
    )
    group.addoption(
        "--data-root",
        default=None,
        help="data sets in torchvision layouts (default: $SGDCLAIMS_DATA, then "
        "~/.cache/sgdclaims/data)",
    )
    group.addoption("--no-cache", action="store_true", help="recompute every experiment")
    group.addoption(
        "--results-cache",
        default=None,
        help="experiment result cache (default: $SGDCLAIMS_CACHE, then ~/.cache/sgdclaims/results)",
    )
    group.addoption(
        "--report-dir", default=None, help="where claim reports are written (default: reports/)"
    )


def _check_marker_expression(config: pytest.Config) -> None:
    """Strict markers for -m too: a name in the expression that is not a registered marker
    (a typo such as `-m fsat`) is a usage error instead of silently selecting nothing."""
    expr = config.getoption("markexpr") or ""
    registered = {line.split(":")[0].split("(")[0].strip() for line in config.getini("markers")}
    registered |= {"skip", "skipif", "xfail", "parametrize", "usefixtures", "filterwarnings"}
    names = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", expr)) - {"and", "or", "not"}
    unknown = sorted(names - registered)
    if unknown:
        raise pytest.UsageError(
            f"-m {expr!r} names unknown marker(s) {unknown}; registered: {sorted(registered)}"
        )


def pytest_configure(config: pytest.Config) -> None:
    for line in (
        "fast: claim test at CPU scale (2 cores, minutes)",
        "full: claim test at the papers' scale; runs only with --gpu",
    ):
        config.addinivalue_line("markers", line)
    _check_marker_expression(config)
    config.stash[CASES_STASH] = {}
    if config.getoption("--gpu"):
        from sgdclaims.executors.devices import cuda_missing

        message = cuda_missing("--gpu")
        if message is not None:
            pytest.exit(message, returncode=pytest.ExitCode.USAGE_ERROR)
    if not hasattr(config, "workerinput"):
        outdir = config.getoption("--report-dir") or Path(config.rootpath) / "reports"
        config.pluginmanager.register(
            ClaimReportCollector(Path(outdir), Path(config.rootpath)), "sgdclaims-report"
        )


def claim_of_module(path: Path) -> str | None:
    """The claim id of a claim test module `claims/test_<id>.py`, else None."""
    if path.parent.name != "claims" or not path.name.startswith("test_"):
        return None
    return path.stem.removeprefix("test_")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise `spec_check` and `case` of a claim test module over the claim's cases."""
    claim = claim_of_module(Path(str(metafunc.definition.fspath)))
    wants = {"spec_check", "case"} & set(metafunc.fixturenames)
    if claim is None or not wants:
        return
    from sgdclaims import claims

    spec = claims.spec(claim)  # raises at collection when the spec names unknown values
    claims.check_falsifiable(claim, claims.get(claim))  # ... or a control cannot be shown to fail
    params = []
    for scale, dataset in claims.cases(claim):
        marks = [getattr(pytest.mark, scale)]
        if "spec_check" in wants:
            for check in spec.checks_for(scale, dataset):
                miss = spec.registered_miss(check.name, scale, dataset)
                extra = [] if miss is None else [_xfail(miss)]
                value = (claim, scale, dataset, check.name)
                ident = f"{scale}-{dataset}-{check.name}"
                params.append(pytest.param(value, marks=[*marks, *extra], id=ident))
        else:
            ident = f"{scale}-{dataset}"
            params.append(pytest.param((claim, scale, dataset, None), marks=marks, id=ident))
    metafunc.parametrize("claim_case_id", params, indirect=True)


def _xfail(miss: Any) -> pytest.MarkDecorator:
    from sgdclaims.verdicts import ClaimMiss

    return pytest.mark.xfail(strict=True, raises=ClaimMiss, reason=f"not reproduced: {miss.reason}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--gpu"):
        return
    for item in items:
        if item.get_closest_marker("full"):
            item.add_marker(pytest.mark.skip(reason="needs --gpu"))


@pytest.fixture(scope="session")
def data_root(pytestconfig: pytest.Config) -> Path:
    """Root of the data sets (torchvision layouts)."""
    from sgdclaims.data.registry import resolve_data_root

    return resolve_data_root(pytestconfig.getoption("--data-root"))


@pytest.fixture(scope="session")
def device(pytestconfig: pytest.Config) -> str:
    """'cpu', or with --gpu this worker's own GPU: xdist worker gw<i> takes the i-th visible
    device (of an outer CUDA_VISIBLE_DEVICES) modulo their count."""
    if not pytestconfig.getoption("--gpu"):
        return "cpu"
    from sgdclaims.executors.devices import pin_worker

    return pin_worker(os.environ.get("PYTEST_XDIST_WORKER"), os.environ.get("CUDA_VISIBLE_DEVICES"))


@pytest.fixture(scope="session")
def run_context(pytestconfig: pytest.Config, data_root: Path, device: str):
    """Where experiments run and cache their results (from the command line)."""
    from sgdclaims.runner import RunContext

    cache = pytestconfig.getoption("--results-cache")
    return RunContext(
        data_root=data_root,
        device=device,
        cache_root=Path(cache) if cache else None,
        use_cache=not pytestconfig.getoption("--no-cache"),
        progress=False,
    )


@pytest.fixture
def claim_case_id(request: pytest.FixtureRequest) -> tuple[str, str, str, str | None]:
    """(claim, scale, data set, check or None) of a claim test (set by parametrisation)."""
    return request.param


@pytest.fixture
def case(request: pytest.FixtureRequest, claim_case_id, run_context):
    """The ClaimCase of a claim test: config, cached result, values."""
    from sgdclaims.claimcase import ClaimCase

    claim, scale, dataset, _ = claim_case_id
    known = request.config.stash[CASES_STASH]
    key = (claim, scale, dataset)
    if key not in known:
        known[key] = ClaimCase(claim, scale, dataset, run_context)
    request.node.stash[CASE_STASH] = known[key]
    return known[key]


class SpecCheck:
    """One check of the spec on one case; `assert_holds()` evaluates, records and enforces."""

    def __init__(self, case: Any, name: str, node: pytest.Item) -> None:
        self.case, self.name, self.node = case, name, node

    def assert_holds(self) -> None:
        """Evaluate the check; raise ClaimMiss / ControlPassed / HarnessCheckFailed, or skip
        as 'not testable here' when a precondition failed."""
        from sgdclaims.verdicts import NotTestable, enforce, evaluate

        case = self.case
        outcome = evaluate(
            case.spec, self.name, case.values, dataset=case.dataset, scale=case.scale
        )
        self.node.stash[OUTCOME_STASH] = outcome
        try:
            enforce(outcome)
        except NotTestable as exc:
            pytest.skip(str(exc))


@pytest.fixture
def spec_check(request: pytest.FixtureRequest, claim_case_id, case) -> SpecCheck:
    """The spec check of a claim test (see SpecCheck)."""
    return SpecCheck(case, claim_case_id[3], request.node)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    from sgdclaims.data.registry import DatasetMissing

    if (
        call.excinfo is not None
        and call.excinfo.errisinstance(DatasetMissing)
        and item.get_closest_marker("full")
    ):
        report.outcome = "skipped"
        report.longrepr = (str(item.fspath), item.location[1], str(call.excinfo.value))
    params = getattr(getattr(item, "callspec", None), "params", {})
    ident = params.get("claim_case_id")
    if ident is None or not (
        report.when == "call" or (report.when == "setup" and not report.passed)
    ):
        return
    payload, failure = _case_payload(item)
    if failure is not None:
        report.outcome, report.longrepr = "failed", str(failure)
    error = failure or (None if call.excinfo is None else call.excinfo.value)
    entry = _entry(item, error, report, ident)
    report.user_properties.append((RESULTS_KEY, json.dumps(entry)))
    if payload is not None:
        report.user_properties.append((CASE_KEY, payload))


def _entry(item: pytest.Item, error: BaseException | None, report: pytest.TestReport, ident):
    """The store entry of a claim test (sgdclaims.record: one record, one verdict mapping)."""
    from sgdclaims import claims
    from sgdclaims.record import entry_of

    claim, scale, dataset, check = ident
    spec = claims.spec(claim)
    checked = item.stash.get(OUTCOME_STASH, None)
    skip = None
    if report.skipped and checked is None:
        skip = _reason(report)
    if checked is not None and error is not None and not _raised_by_check(error):
        checked = None  # the check was evaluated, then something else crashed: an error
    entry = entry_of(
        claim,
        scale,
        dataset,
        check or getattr(item, "originalname", item.name),
        "harness" if check is None else spec.check(check).kind,
        item.nodeid,
        checked,
        None if check is None else spec.registered_miss(check, scale, dataset),
        error=error,
        skip_reason=skip,
        duration=float(getattr(report, "duration", 0.0)),
    )
    return entry.to_json()


def _raised_by_check(error: BaseException) -> bool:
    """True for the exceptions SpecCheck raises from an outcome (a spec failure, a skip)."""
    from sgdclaims.verdicts import SpecFailure

    return isinstance(error, (SpecFailure, pytest.skip.Exception))


class PayloadFailed(RuntimeError):
    """Building a case's report payload (its figure data, its config) raised."""


def _case_payload(item: pytest.Item) -> tuple[str | None, PayloadFailed | None]:
    """The case's stored payload (values, figure data, config), sent once per case with its
    first test's report. A claim's figure or config code that raises fails that test as an
    error naming the exception, instead of stopping the session inside this hook."""
    case = item.stash.get(CASE_STASH, None)
    if case is None or not case.computed or case.sent:
        return None, None
    case.sent = True
    try:
        return json.dumps(case.payload(), default=str), None
    except Exception as exc:
        why = f"building the case's report payload raised {type(exc).__name__}: {exc}"
        return None, PayloadFailed(why)


def _reason(report: pytest.TestReport) -> str:
    """The one-line reason of a skip."""
    if isinstance(report.longrepr, tuple):
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    return str(report.longrepr or "")


class ClaimReportCollector:
    """Collects claim-test entries and case payloads from every report (xdist workers send
    them in user_properties) and, on the controller only, writes reports/ at session end."""

    def __init__(self, outdir: Path, root: Path) -> None:
        self.outdir, self.root = outdir, root
        self.entries: dict[str, dict] = {}
        self.cases: dict[str, dict] = {}
        self.collected: set[str] = set()

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        self.collected = {
            item.nodeid for item in items if claim_of_module(Path(str(item.fspath))) is not None
        }

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for key, value in report.user_properties:
            if key == RESULTS_KEY:
                entry = json.loads(value)
                self.entries[entry["nodeid"]] = entry
            elif key == CASE_KEY:
                payload = json.loads(value)
                self.cases[f"{payload['claim']}/{payload['scale']}/{payload['dataset']}"] = payload

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if hasattr(session.config, "workerinput") or not self.entries:
            return
        from sgdclaims.report.store import merge_and_write

        merge_and_write(
            list(self.entries.values()),
            self.cases,
            self.outdir,
            repo=self.root,
            collected=self.collected,
        )
