"""The claim report in a real browser: headless Chromium opens the pages from file://,
logs no console errors, follows the links, and draws the figures (non-blank pixels)."""

from __future__ import annotations

import io
import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from sgdclaims.report.catalogue import CATALOGUE
from sgdclaims.report.render import render_all

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "fixtures" / "report" / "results.json"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
WIDTH = 1400


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """A headless Chromium driven through the system chromedriver, with a fresh profile."""
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip(
            "Chromium or chromedriver not found; install the Debian packages "
            "chromium and chromium-driver (make test installs them)"
        )
    webdriver = pytest.importorskip("selenium.webdriver", reason="pip install selenium")
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="sgdclaims-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    driver.set_window_size(WIDTH, 1000)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture's report rendered into a fresh folder."""
    out = tmp_path_factory.mktemp("report")
    render_all(json.loads(FIXTURE.read_text()), out)
    return out


def _console_errors(driver) -> list[dict]:
    return [e for e in driver.get_log("browser") if e.get("level") in ("SEVERE", "ERROR")]


def _open(driver, url: str) -> None:
    driver.get(url)
    assert driver.execute_script("return document.readyState") == "complete"


def test_index_opens_without_console_errors(browser, site):
    from selenium.webdriver.common.by import By

    _open(browser, (site / "index.html").as_uri())
    assert browser.title == "SGD claims — report"
    assert _console_errors(browser) == []
    names = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "table.claims a.name")]
    assert names == list(CATALOGUE)
    badges = browser.find_elements(By.CSS_SELECTOR, "td.verdict .badge.big")
    assert [b.text for b in badges] == [
        "supported",
        "partly supported",
        "failed",
        "skipped",
        "error",
    ]
    colours = {b.value_of_css_property("color") for b in badges}
    assert len(colours) == len(badges), "each verdict has its own colour"


def test_links_lead_to_every_claim_page_and_back(browser, site):
    from selenium.webdriver.common.by import By

    for claim in CATALOGUE:
        _open(browser, (site / "index.html").as_uri())
        browser.find_element(By.CSS_SELECTOR, f'a.name[href="{claim}.html"]').click()
        assert browser.current_url == (site / f"{claim}.html").as_uri()
        assert _console_errors(browser) == [], claim
        assert browser.find_element(By.TAG_NAME, "h1").text == CATALOGUE[claim].claim
        for anchor in browser.find_elements(By.CSS_SELECTOR, 'a[href^="#"]'):
            target = anchor.get_attribute("href").split("#", 1)[1]
            assert browser.find_elements(By.ID, target), f"{claim}: broken anchor #{target}"
        browser.find_element(By.LINK_TEXT, "← all claims").click()
        assert browser.current_url == (site / "index.html").as_uri()


def test_figures_are_drawn(browser, site, tmp_path):
    from PIL import Image
    from selenium.webdriver.common.by import By

    _open(browser, (site / "linear_early.html").as_uri())
    images = browser.find_elements(By.CSS_SELECTOR, "figure img")
    assert len(images) == 2
    for img in images:
        loaded = browser.execute_script(
            "return arguments[0].complete && arguments[0].naturalWidth > 0", img
        )
        assert loaded, "an embedded SVG figure did not decode"
    figure = browser.find_element(By.CSS_SELECTOR, "figure img")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", figure)
    shot = figure.screenshot_as_png
    (tmp_path / "figure.png").write_bytes(shot)
    browser.save_screenshot(str(tmp_path / "page.png"))
    pixels = Image.open(io.BytesIO(shot)).convert("L")
    assert pixels.width > 200 and pixels.height > 150
    histogram = pixels.histogram()
    dark = sum(histogram[:200]) / (pixels.width * pixels.height)
    assert dark > 0.01, f"figure looks blank ({dark:.2%} non-white pixels)"
    assert _console_errors(browser) == []


def test_hostile_strings_do_not_run(browser, tmp_path):
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    data = json.loads(FIXTURE.read_text())
    hostile = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    data["note"] = hostile
    for entry in data["tests"].values():
        for setup in (entry.get("recorded") or {}).get("setup", []):
            setup["config"]["dataset"] = hostile
    render_all(data, tmp_path)
    for page in ("index.html", "linear_early.html"):
        _open(browser, (tmp_path / page).as_uri())
        with pytest.raises(NoAlertPresentException):
            browser.switch_to.alert.text  # noqa: B018
        assert hostile in browser.find_element(By.CSS_SELECTOR, ".note").text
    assert _console_errors(browser) == []


def test_narrow_window_does_not_scroll_sideways(browser, site):
    try:
        browser.set_window_size(420, 900)
        for page in ("index.html", "linear_early.html"):
            _open(browser, (site / page).as_uri())
            overflow = browser.execute_script(
                "return document.documentElement.scrollWidth - window.innerWidth"
            )
            assert overflow <= 1, f"{page} is {overflow}px wider than a 420px window"
    finally:
        browser.set_window_size(WIDTH, 1000)
