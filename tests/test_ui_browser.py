"""End to end in a real browser: Debian's chromium driven by Playwright, against the API and the
UI started on 127.0.0.1 as `make up` starts them. Uploads real images, waits for the overlay, the
colour-mapped probability map, the measurements, the quality badge and the summary of several;
saves the screenshots of docs/screenshots/ (with UI_SCREENSHOTS=docs/screenshots)."""

from __future__ import annotations

import csv
import functools
import io
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from lesion_ui import render
from servers import ROOT, api_server, ui_server

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
SAMPLES = ROOT / "ui" / "samples"
SCREENSHOTS_ENV = "UI_SCREENSHOTS"
"""`UI_SCREENSHOTS=docs/screenshots pytest tests/test_ui_browser.py` refreshes the committed
screenshots; otherwise they go to a temporary folder (a test run leaves the checkout alone)."""
# Tall enough that a whole result or summary is on screen, narrow enough for small screenshots.
VIEWPORT = {"width": 1300, "height": 1600}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium, headless."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian chromium is missing: apt-get install chromium (see .ci/run)")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def ui_url() -> Iterator[str]:
    """The UI's URL, against a real local API."""
    with api_server() as api_url, ui_server(api_url) as url:
        yield url


def open_page(browser: Any, ui_url: str) -> Any:
    page = browser.new_page(viewport=VIEWPORT, accept_downloads=True)
    page.goto(ui_url)
    page.get_by_text("Connected: unet-isic2018").wait_for(timeout=60_000)
    return page


@functools.cache
def screenshot_folder() -> Path:
    folder = os.environ.get(SCREENSHOTS_ENV)
    path = (ROOT / folder) if folder else Path(tempfile.mkdtemp(prefix="ui-screenshots-"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def screenshot(page: Any, name: str, first: Any, last: Any) -> Path:
    """<screenshot folder>/<name>: the main column from `first` down to `last`."""
    top, bottom = first.bounding_box(), last.bounding_box()  # a heading spans the column
    clip = {
        "x": top["x"] - 16,
        "y": top["y"] - 8,
        "width": top["width"] + 32,
        "height": bottom["y"] + bottom["height"] - top["y"] + 16,
    }
    page.mouse.move(0, 0)  # no hover on a button
    path = screenshot_folder() / name
    page.screenshot(path=str(path), clip=clip)
    return path


def downloaded(page: Any, label: str) -> bytes:
    with page.expect_download() as download:
        page.get_by_role("button", name=label).click()
    return Path(download.value.path()).read_bytes()


def test_upload_in_a_real_browser(browser: Any, ui_url: str) -> None:
    page = open_page(browser, ui_url)
    # One upload limit, Streamlit's own, as the API's /health says (4.3 MB: 4 whole MB).
    label = page.get_by_text("Dermoscopy images (JPEG or PNG)", exact=True)
    label.wait_for(timeout=60_000)  # the main column may render after the sidebar
    assert label.count() == 1
    limits = page.get_by_text("per file")
    limits.first.wait_for(timeout=60_000)
    assert limits.count() == 1 and limits.inner_text().startswith("4MB per file")
    # The minimal toolbar: no developer menu, no deploy button.
    assert page.locator("[data-testid=stMainMenu], [data-testid=stAppDeployButton]").count() == 0
    page.locator("input[type=file]").set_input_files(str(SAMPLES / "ISIC_0000035.jpg"))
    page.get_by_text("lesion outline").wait_for(timeout=60_000)
    table = page.locator("[data-testid=stTable]")
    table.wait_for(timeout=30_000)
    assert "area (px)" in table.inner_text()
    assert "border irregularity" in table.inner_text()
    page.get_by_text("estimated Dice").wait_for(timeout=30_000)  # the quality badge
    assert page.locator("img").count() >= 4  # original, overlay, mask, probability
    assert page.get_by_text("Summary of").count() == 0, "one image: no summary"

    legend = page.get_by_role("img", name="colour bar: lesion probability 0 (purple) to 1 (yellow)")
    legend.wait_for(timeout=30_000)
    assert legend.inner_text().split() == ["0", "lesion", "probability", "1"]
    probability = page.locator("[data-testid=stImage]").filter(has_text="probability map")
    src = probability.locator("img").get_attribute("src")
    response = page.request.get(src if src.startswith("http") else ui_url + src)
    pixels = np.asarray(Image.open(io.BytesIO(response.body())).convert("RGB"), dtype=int)
    assert np.ptp(pixels, axis=2).max() > 100, "colours, not grey"
    path = screenshot(
        page, "ui-result.png", page.get_by_role("heading", name="ISIC_0000035.jpg"), legend
    )
    assert 10_000 < path.stat().st_size < 300_000
    page.close()


def test_several_images_in_a_real_browser(browser: Any, ui_url: str, tmp_path: Path) -> None:
    """Three real samples and a blank image (no lesion: flagged for review, with the reason)."""
    page = open_page(browser, ui_url)
    Image.new("RGB", (200, 200), "white").save(tmp_path / "blank.png")
    files = [SAMPLES / "ISIC_0000012.jpg", SAMPLES / "ISIC_0000035.jpg", tmp_path / "blank.png"]
    files.append(SAMPLES / "ISIC_0000099.jpg")
    names = [file.name for file in files]
    page.locator("input[type=file]").set_input_files([str(file) for file in files])
    heading = page.get_by_role("heading", name="Summary of 4 images")
    heading.wait_for(timeout=60_000)
    page.locator("[data-testid=stDataFrame]").wait_for(timeout=30_000)
    zip_button = page.get_by_role("button", name="ZIP of every mask, overlay and report")
    zip_button.wait_for(timeout=60_000)  # the summary is filled in once every image is done
    rows = list(csv.DictReader(io.StringIO(downloaded(page, "summary CSV").decode())))
    assert [row["file"] for row in rows] == names
    assert list(rows[0]) == list(render.SUMMARY_COLUMNS)
    assert [row["needs_review"] for row in rows] == ["False", "False", "True", "False"]
    assert "no lesion found" in rows[2]["reasons"]
    with zipfile.ZipFile(io.BytesIO(downloaded(page, zip_button.inner_text()))) as archive:
        assert len(archive.namelist()) == 3 * len(names)
    path = screenshot(page, "ui-summary.png", heading, zip_button)
    assert 10_000 < path.stat().st_size < 300_000
    page.close()


@pytest.mark.parametrize(
    ("page_path", "operation"), [("/docs", "/v1/segment"), ("/redoc", "Segment")]
)
def test_api_docs_render_offline_in_a_real_browser(
    browser: Any, page_path: str, operation: str
) -> None:
    """Swagger UI and ReDoc come from the API itself: with every other origin cut off, the page
    still lists the operations, and it asked nothing of another origin."""
    with api_server() as api_url:
        page = browser.new_page()
        elsewhere: list[str] = []

        def only_the_api(route) -> None:  # type: ignore[no-untyped-def]
            if route.request.url.startswith(api_url):
                route.continue_()
            else:
                elsewhere.append(route.request.url)
                route.abort()

        page.route("**/*", only_the_api)
        page.goto(api_url + page_path)
        page.get_by_text(operation).first.wait_for(timeout=60_000)
        page.close()
    assert elsewhere == []
