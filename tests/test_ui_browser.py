"""End to end in a real browser: Debian's chromium driven by Playwright, against the API and the
UI started on 127.0.0.1. Uploads a real image, waits for the overlay, the measurements and the
quality badge."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

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


def test_upload_in_a_real_browser(tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian chromium is missing: apt-get install chromium (see .ci/run)")
    with api_server() as api_url, ui_server(api_url) as ui_url, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(ui_url)
        page.get_by_text("Connected: unet-isic2018").wait_for(timeout=60_000)
        page.locator("input[type=file]").set_input_files(
            str(ROOT / "ui" / "samples" / "ISIC_0000035.jpg")
        )
        page.get_by_text("lesion outline").wait_for(timeout=60_000)
        table = page.locator("[data-testid=stTable]")
        table.wait_for(timeout=30_000)
        assert "area (px)" in table.inner_text()
        assert "border irregularity" in table.inner_text()
        page.get_by_text("estimated Dice").wait_for(timeout=30_000)  # the quality badge
        assert page.locator("img").count() >= 4  # original, overlay, mask, probability
        page.screenshot(path=str(tmp_path / "ui.png"), full_page=True)
        browser.close()
    assert (tmp_path / "ui.png").stat().st_size > 10_000


@pytest.mark.parametrize(
    ("page_path", "operation"), [("/docs", "/v1/segment"), ("/redoc", "Segment")]
)
def test_api_docs_render_offline_in_a_real_browser(page_path: str, operation: str) -> None:
    """Swagger UI and ReDoc come from the API itself: with every other origin cut off, the page
    still lists the operations, and it asked nothing of another origin."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian chromium is missing: apt-get install chromium (see .ci/run)")
    with api_server() as api_url, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
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
        browser.close()
    assert elsewhere == []
