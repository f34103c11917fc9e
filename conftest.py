"""pytest wiring: --gpu / --data-root / --no-cache, scale markers, fixtures, claim reports.

Full-scale claim tests run only with --gpu (and stop the session at once when no CUDA
device is present); a full test whose data set is missing skips with the message that
says how to provide it. Every test under claims/ is reported: the controller process
(never an xdist worker) writes reports/results.json and the HTML pages at session end.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

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

ROOT = Path(__file__).resolve().parent
RESULTS_KEY = "sgdclaims_claim"
pytest_plugins = ("pytester",)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sgdclaims")
    group.addoption("--gpu", action="store_true", help="run full-scale claim tests on CUDA")
    group.addoption(
        "--data-root",
        default=None,
        help="data sets in torchvision layouts (default: $SGDCLAIMS_DATA, then "
        "~/.cache/sgdclaims/data)",
    )
    group.addoption("--no-cache", action="store_true", help="recompute every experiment")
    group.addoption(
        "--report-dir", default=str(ROOT / "reports"), help="where claim reports are written"
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
    _check_marker_expression(config)
    if config.getoption("--no-cache"):
        os.environ["SGDCLAIMS_NO_CACHE"] = "1"
    if config.getoption("--gpu"):
        import torch

        if not torch.cuda.is_available():
            pytest.exit(
                "--gpu was given but no CUDA device is available "
                f"(torch {torch.__version__}, CUDA build {torch.version.cuda}); "
                "drop --gpu to run the fast scale on CPU",
                returncode=pytest.ExitCode.USAGE_ERROR,
            )
    if not hasattr(config, "workerinput"):
        outdir = Path(config.getoption("--report-dir"))
        config.pluginmanager.register(ClaimReportCollector(outdir), "sgdclaims-report")


def claim_identity(item: pytest.Item) -> dict[str, str | None] | None:
    """(claim, statistic, scale, dataset) of a test under claims/, else None."""
    path = Path(str(item.fspath))
    if path.parent.name != "claims" or not path.name.startswith("test_"):
        return None
    params = getattr(getattr(item, "callspec", None), "params", {})
    scale = params.get("scale")
    if scale is None:
        scale = "full" if item.get_closest_marker("full") else "fast"
    name = getattr(item, "originalname", item.name)
    return {
        "claim": path.stem.removeprefix("test_"),
        "statistic": name.removeprefix("test_"),
        "scale": scale,
        "dataset": params.get("dataset"),
    }


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from sgdclaims.not_reproduced import lookup

    gpu = config.getoption("--gpu")
    for item in items:
        if item.get_closest_marker("full") and not gpu:
            item.add_marker(pytest.mark.skip(reason="needs --gpu"))
        ident = claim_identity(item)
        if ident is None:
            continue
        entry = lookup(ident["claim"], ident["statistic"], ident["scale"], ident["dataset"])
        if entry is not None:
            item.add_marker(
                pytest.mark.xfail(strict=True, reason=f"not reproduced: {entry.reason}")
            )


@pytest.fixture(scope="session")
def data_root(pytestconfig: pytest.Config) -> Path:
    """Root of the data sets (torchvision layouts)."""
    from sgdclaims.data.registry import resolve_data_root

    return resolve_data_root(pytestconfig.getoption("--data-root"))


@pytest.fixture(scope="session")
def device(pytestconfig: pytest.Config):
    """torch.device('cuda') with --gpu, else the CPU."""
    import torch

    return torch.device("cuda" if pytestconfig.getoption("--gpu") else "cpu")


@pytest.fixture
def claim(request: pytest.FixtureRequest):
    """Recorder for a claim test's statistics, figures and setup (see sgdclaims.recording)."""
    from sgdclaims.recording import ClaimRecorder

    ident = claim_identity(request.node)
    if ident is None:
        raise RuntimeError("the `claim` fixture is for tests in claims/test_<claim>.py")
    recorder = ClaimRecorder(ident["claim"], ident["scale"], ident["dataset"], request.node.nodeid)
    request.node._sgdclaims_recorder = recorder
    yield recorder
    if recorder.records and not recorder.verified and recorder.failures():
        pytest.fail(f"{request.node.nodeid}: recorded failing statistics without verify()")


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
    ident = claim_identity(item)
    if ident is None:
        return
    if report.when == "call" or (report.when == "setup" and not report.passed):
        recorder = getattr(item, "_sgdclaims_recorder", None)
        entry = {
            **ident,
            "nodeid": item.nodeid,
            "when": report.when,
            "outcome": report.outcome,
            "xfail": bool(getattr(report, "wasxfail", "")),
            "reason": _reason(report),
            "duration": float(getattr(report, "duration", 0.0)),
            "run_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "recorded": recorder.to_json() if recorder is not None else None,
        }
        report.user_properties.append((RESULTS_KEY, json.dumps(entry, default=str)))


def _reason(report: pytest.TestReport) -> str:
    """A one-line reason for a skip, xfail or failure."""
    if getattr(report, "wasxfail", ""):
        return str(report.wasxfail)
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    if report.failed:
        crash = getattr(report.longrepr, "reprcrash", None)
        return crash.message if crash is not None else str(report.longrepr)[-500:]
    return ""


class ClaimReportCollector:
    """Collects claim-test entries from every report (xdist workers send them in
    user_properties) and, on the controller only, writes reports/ at session end."""

    def __init__(self, outdir: Path):
        self.outdir = outdir
        self.entries: dict[str, dict] = {}
        self.collected: set[str] = set()

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        self.collected = {item.nodeid for item in items if claim_identity(item) is not None}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for key, value in report.user_properties:
            if key == RESULTS_KEY:
                entry = json.loads(value)
                self.entries[entry["nodeid"]] = entry

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if hasattr(session.config, "workerinput") or not self.entries:
            return
        from sgdclaims.report.store import merge_and_write

        merge_and_write(
            list(self.entries.values()), self.outdir, repo=ROOT, collected=self.collected
        )
