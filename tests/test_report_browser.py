"""The claim report in a real browser: headless Chromium opens the pages of two real claim
runs (the toy claim, conftest.toy_store) from file://, logs no console errors, follows the
links, draws the figures (non-blank pixels), shows the values of both runs and the changed
verdict, and fits 1280 px and 420 px windows without sideways scrolling."""

from __future__ import annotations

import io
import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from sgdclaims import claims
from sgdclaims.report.render import render_all

pytestmark = pytest.mark.browser

PAGES = [*claims.CLAIMS, "toy"]  # the registry order; `new-claim` appends
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
WIDTH = 1280
#: window widths the pages must fit: a laptop and a phone
WIDTHS = (1280, 420)


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
def site(toy_store: Path) -> Path:
    """The pages the toy claim run wrote (with the toy claim registered there)."""
    return toy_store


@pytest.fixture(scope="module")
def wide_site(toy_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The toy pages with nine cases, six of them with long data set names (a claim run on
    many data sets), rendered here."""
    data = json.loads((toy_store / "results.json").read_text())
    names = ["fashion_mnist_binary_0_4_vs_5_9", "cifar10_first_five_vs_last_five", "imagenet",
             "mnist", "sinusoid_disc", "a_data_set_name_without_any_break_opportunity"]  # fmt: skip
    for nodeid, entry in list(data["tests"].items()):
        if entry["dataset"] == "toyset":
            for name in names:
                data["tests"][f"{nodeid}-{name}"] = {**entry, "scale": "full", "dataset": name}
    out = tmp_path_factory.mktemp("wide-site")
    render_all(data, out)
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
    names = [a.text for a in browser.find_elements(By.CSS_SELECTOR, ".claim-card a.name")]
    assert names == PAGES
    badges = browser.find_elements(By.CSS_SELECTOR, ".cc-verdict .badge.big")
    assert [b.text for b in badges] == ["not run"] * len(claims.CLAIMS) + ["error"]
    assert badges[-1].value_of_css_property("color") != badges[0].value_of_css_property("color")


def test_links_lead_to_every_claim_page_and_back(browser, site):
    from selenium.webdriver.common.by import By

    for claim in PAGES:
        _open(browser, (site / "index.html").as_uri())
        browser.find_element(By.CSS_SELECTOR, f'a.name[href="{claim}.html"]').click()
        assert browser.current_url == (site / f"{claim}.html").as_uri()
        assert _console_errors(browser) == [], claim
        if claim != "toy":
            assert browser.find_element(By.TAG_NAME, "h1").text == claims.spec(claim).claim
        for anchor in browser.find_elements(By.CSS_SELECTOR, 'a[href^="#"]'):
            target = anchor.get_attribute("href").split("#", 1)[1]
            assert browser.find_elements(By.ID, target), f"{claim}: broken anchor #{target}"
        browser.find_element(By.LINK_TEXT, "← all claims").click()
        assert browser.current_url == (site / "index.html").as_uri()


def test_figures_are_drawn(browser, site, tmp_path):
    from PIL import Image
    from selenium.webdriver.common.by import By

    _open(browser, (site / "toy.html").as_uri())
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


def test_hostile_strings_do_not_run(browser, toy_store, tmp_path):
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    data = json.loads((toy_store / "results.json").read_text())
    hostile = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    data["note"] = hostile
    for case in data["cases"].values():
        case["config"]["dataset"] = hostile
    render_all(data, tmp_path)
    for page in ("index.html", "toy.html"):
        _open(browser, (tmp_path / page).as_uri())
        with pytest.raises(NoAlertPresentException):
            browser.switch_to.alert.text  # noqa: B018
        assert hostile in browser.find_element(By.CSS_SELECTOR, ".note").text
    assert _console_errors(browser) == []


OVERFLOWING = """
const width = document.documentElement.clientWidth;
return [...document.querySelectorAll('body *')]
  .filter(e => e.getClientRects().length && e.getBoundingClientRect().right > width + 1)
  .slice(0, 5).map(e => `${e.tagName}.${e.className.baseVal ?? e.className}`);
"""


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("pages", ["site", "wide_site"])
def test_pages_fit_the_window_without_sideways_scrolling(browser, request, pages, width):
    site = request.getfixturevalue(pages)
    try:
        browser.set_window_size(width, 900)
        for page in ("index.html", "toy.html", f"{claims.CLAIMS[0]}.html"):
            _open(browser, (site / page).as_uri())
            overflow = browser.execute_script(
                "return document.documentElement.scrollWidth - window.innerWidth"
            )
            assert overflow <= 1, f"{page} is {overflow}px wider than a {width}px window"
            assert browser.execute_script(OVERFLOWING) == [], f"{page} at {width}px"
    finally:
        browser.set_window_size(WIDTH, 1000)


def test_changed_verdict_and_both_values_are_visible(browser, site):
    from selenium.webdriver.common.by import By

    _open(browser, (site / "index.html").as_uri())
    card = browser.find_element(By.CSS_SELECTOR, ".claim-card#toy")
    assert "has-moved" in card.get_attribute("class")
    moved = card.find_element(By.CSS_SELECTOR, ".moved")
    assert moved.is_displayed() and "fast · toyset" in moved.text
    assert "gated failed (0.76 ± 0.01) → supported (0.91 ± 0.01)" in moved.text
    _open(browser, (site / "toy.html").as_uri())
    row = browser.find_element(By.CSS_SELECTOR, "#stat-score tr.main.moved")
    assert row.is_displayed() and "0.91" in row.text and "was: 0.76 ± 0.01" in row.text
    dots = row.find_elements(By.CSS_SELECTOR, "svg.spark circle")
    assert len(dots) == 2 and all(d.is_displayed() for d in dots)
    heights = [d.location["y"] for d in dots]
    assert heights[0] > heights[1]  # 0.76 then 0.91: the line goes up
    history = browser.find_element(By.CSS_SELECTOR, "#stat-score details.history")
    history.find_element(By.TAG_NAME, "summary").click()
    text = history.find_element(By.TAG_NAME, "table").text
    assert "0.76 ± 0.01" in text and "0.91 ± 0.01" in text
    assert _console_errors(browser) == []
