"""The on-device app (build/edge, `make edge`) in a real browser: Debian's chromium driven by
Playwright, the site served on 127.0.0.1 by devtools/edge_server.py with edge/headers.json's
headers. The model's output is Python LiteRT's to the byte, masks and quality estimates agree
with the served ones, nothing goes over the network once the page has loaded (and it works
offline), and bad files get a message in the page."""

from __future__ import annotations

import gzip
import io
import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from devtools.edge_vectors import VECTORS
from segcore.decoding import read_for_model
from segcore.paths import DEPLOYED_MODEL
from segcore.predictor import TFLitePredictor
from segcore.quality import QualityModel
from servers import ROOT, edge_server

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage"]
SITE = ROOT / "build" / "edge"
FIXTURES = ROOT / "tests" / "fixtures"
JPEGS = [
    FIXTURES / "samples" / "ISIC_0000012.jpg",
    *sorted((FIXTURES / "isic2018_fullview" / "ISIC2018_Task1-2_Training_Input").glob("*.jpg")),
    *sorted((FIXTURES / "isic2018" / "ISIC2018_Task1-2_Validation_Input").glob("*.jpg")),
    FIXTURES / "crafted" / "exif_short_as_ascii.jpg",
]
MIN_DICE = 0.995
MAX_PREDICTED_DICE_GAP = 0.02
"""The browser's map of a JPEG differs slightly from the API's (its DCT-scaled decode)."""
DOWNLOADS_PER_PAGE = 7
CACHED = """async () => {
    for (const key of await caches.keys()) {
        const urls = (await (await caches.open(key)).keys()).map((r) => r.url);
        const has = (suffix) => urls.some((u) => u.endsWith(suffix));
        if (has('.wasm') && has('.tflite') && has('/js/app.js')) return true;
    }
    return false;
}"""


@pytest.fixture(scope="module")
def site_url() -> Iterator[str]:
    if not (SITE / "index.html").exists():
        pytest.fail("build/edge is missing: run make edge")
    with edge_server(SITE) as port:
        yield f"http://127.0.0.1:{port}/"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian chromium is missing: apt-get install chromium (see .ci/run)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        browser.close()


def opened(context: Any, url: str) -> Any:
    """A page of the app whose model has loaded."""
    page = context.new_page()
    page.goto(url)
    page.evaluate("() => lesionEdge.ready.then(() => true)")
    return page


def segment(page: Any, files: list[Path]) -> list[dict[str, Any]]:
    """Pick `files` in the page and wait for their results (reports or errors), in order."""
    before = page.evaluate("() => lesionEdge.results.length")
    page.set_input_files("#files", [str(f) for f in files])
    page.wait_for_function(
        f"() => lesionEdge.results.length >= {before + len(files)}", timeout=120_000
    )
    results: list[dict[str, Any]] = page.evaluate("() => lesionEdge.results")
    for result in results[before:]:
        if "error" not in result:
            assert_quality(result)
    return results[before:]


def assert_quality(result: dict[str, Any]) -> None:
    """A result carries the API's quality fields, as the API has them."""
    quality = result["quality"]
    assert set(quality) == {"predicted_dice", "needs_review", "reasons"}, quality
    assert 0 <= quality["predicted_dice"] <= 1, quality
    assert round(quality["predicted_dice"], 4) == quality["predicted_dice"], quality
    assert isinstance(quality["needs_review"], bool), quality
    assert all(isinstance(r, str) for r in quality["reasons"]), quality
    assert bool(quality["reasons"]) == quality["needs_review"], quality


def shown_quality(page: Any, card: int) -> str:
    """The quality badge's words on the `card`-th result."""
    article = page.locator("article.result").nth(card)
    review = article.get_attribute("data-review")
    text: str = article.locator("p.quality").inner_text()
    assert review in ("true", "false"), review
    return text


def offered_mask(page: Any, card: int) -> np.ndarray:
    """The mask PNG the page offers for its `card`-th result, downloaded, as 0/255."""
    link = page.locator("article.result").nth(card).get_by_role("link", name="mask PNG")
    with page.expect_download(timeout=10_000) as download:
        link.click()
    with Image.open(download.value.path()) as png:
        return np.asarray(png.convert("L"))


def served(path: Path) -> tuple[np.ndarray, dict[str, Any]]:
    """The API's mask of an image and its quality estimate (lesion_api.segmentation's)."""
    predictor = TFLitePredictor(DEPLOYED_MODEL)
    with Image.open(path) as image:
        segmented = predictor.segment(read_for_model(image, predictor.input_size))
    quality = QualityModel.load().assess(segmented.probabilities)
    return np.asarray(segmented.mask), {
        "predicted_dice": quality.predicted_dice,
        "needs_review": quality.needs_review,
        "reasons": list(quality.reasons),
    }


def dice(a: np.ndarray, b: np.ndarray) -> float:
    x, y = a > 128, b > 128
    total = x.sum() + y.sum()
    return 1.0 if total == 0 else float(2 * (x & y).sum() / total)


def test_page_is_isolated_and_model_checked(browser: Any, site_url: str) -> None:
    context = browser.new_context()
    page = opened(context, site_url)
    assert page.evaluate("() => crossOriginIsolated")
    sha = json.loads((SITE / "pipeline.json").read_text())["model"]["sha256"]
    assert f"sha256 {sha} — checked" in page.inner_text("#model")
    assert "threaded build" in page.inner_text("#runtime")
    context.close()


def test_model_output_is_python_litert_s_to_the_byte(browser: Any, site_url: str) -> None:
    vectors = json.loads(gzip.decompress(VECTORS.read_bytes()))
    context = browser.new_context()
    page = opened(context, site_url)
    for image in vectors["images"]:
        output = page.evaluate(
            """async (b64) => {
                const { model } = await lesionEdge.ready;
                const input = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
                const out = await model.run(input);
                return btoa(String.fromCharCode(...out));
            }""",
            image["model_input"],
        )
        assert output == image["outputs"], image["file"]
    context.close()


def test_masks_agree_with_the_served_ones(browser: Any, site_url: str, tmp_path: Path) -> None:
    png = tmp_path / "ISIC_0000012.png"  # lossless: the browser decodes the very same pixels
    with Image.open(JPEGS[0]) as image:
        image.save(png)
    files = [*JPEGS, png]
    context = browser.new_context(accept_downloads=True)
    agreement = {}
    estimates = {}
    # A page at a time for a few files: chromium stops a page's downloads after ten.
    for start in range(0, len(files), DOWNLOADS_PER_PAGE):
        batch = files[start : start + DOWNLOADS_PER_PAGE]
        page = opened(context, site_url)
        for card, (path, result) in enumerate(zip(batch, segment(page, batch), strict=True)):
            assert "error" not in result, (path.name, result)
            mask, (served_mask, served_quality) = offered_mask(page, card), served(path)
            assert mask.shape == served_mask.shape
            exact = float(np.mean((mask > 128) == (served_mask > 128)))
            agreement[path.name] = (dice(mask, served_mask), exact)
            assert agreement[path.name][0] >= MIN_DICE, agreement
            assert result["measurements"]["area_px"] == int((mask > 128).sum())
            quality = result["quality"]
            estimates[path.name] = (quality, served_quality)
            assert quality["needs_review"] == served_quality["needs_review"], estimates[path.name]
            gap = abs(quality["predicted_dice"] - served_quality["predicted_dice"])
            assert gap <= MAX_PREDICTED_DICE_GAP, estimates[path.name]
            shown = shown_quality(page, card)
            dice_words = f"estimated Dice {quality['predicted_dice']:.2f}"
            if quality["needs_review"]:
                assert shown == f"Needs review ({dice_words}): " + "; ".join(quality["reasons"])
            else:
                assert shown == f"Looks fine ({dice_words})", shown
        page.close()
    # A PNG is decoded exactly in both places, and then every step is the same arithmetic.
    assert agreement[png.name] == (1.0, 1.0), agreement
    assert estimates[png.name][0] == estimates[png.name][1], estimates[png.name]

    print(json.dumps(agreement, indent=1))  # JPEG: the server decodes at a reduced DCT scale
    print(
        json.dumps(
            {name: [a["predicted_dice"], b["predicted_dice"]] for name, (a, b) in estimates.items()}
        )
    )
    context.close()


def test_no_request_after_loading_and_offline_works(browser: Any, site_url: str) -> None:
    context = browser.new_context()
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    page = opened(context, site_url)
    deadline = time.monotonic() + 60
    while not page.evaluate(CACHED):  # the service worker holds what the page loaded
        assert time.monotonic() < deadline, "the service worker cached nothing in 60 s"
        time.sleep(0.25)
    assert all(url.startswith(site_url) for url in requests), requests
    requests.clear()
    results = segment(page, JPEGS[:3])
    assert all("error" not in r for r in results)
    # blob: URLs (the pictures shown, the downloads) are the page's own memory, not the network.
    network = [url for url in requests if not url.startswith("blob:")]
    assert network == [], f"segmenting made requests: {network}"
    assert len(requests) == 3 * 3, requests  # three pictures an image, as blob: URLs

    context.set_offline(True)
    page.reload()
    page.evaluate("() => lesionEdge.ready.then(() => true)")
    assert page.evaluate("() => crossOriginIsolated")
    (result,) = segment(page, JPEGS[:1])
    assert result["measurements"]["lesion_found"], result
    context.close()


def corrupt_png(tmp_path: Path) -> Path:
    """A PNG whose header is fine and whose pixel data is not."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 120, 90)).save(buffer, "PNG")
    data = bytearray(buffer.getvalue())
    start = data.index(b"IDAT") + 8
    data[start : start + 20] = bytes(range(20))
    path = tmp_path / "corrupt.png"
    path.write_bytes(bytes(data))
    return path


def test_bad_files_get_a_message_and_the_page_goes_on(
    browser: Any, site_url: str, tmp_path: Path
) -> None:
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40)
    files = [
        corrupt_png(tmp_path),
        junk,
        ROOT / "README.md",
        FIXTURES / "crafted" / "truncated_ihdr.png",
        FIXTURES / "crafted" / "grey16_6400x6250.png",
        JPEGS[0],
    ]
    context = browser.new_context()
    page = opened(context, site_url)
    results = segment(page, files)
    messages = [r.get("error") for r in results]
    assert messages[0] == "the image cannot be read: the file is corrupt or truncated"
    assert messages[1] == "the JPEG file is broken (bad segment marker)"
    assert messages[2] == "the file is not a readable image; choose a JPEG or PNG"
    assert "the limit is 40,000,000 pixels" in str(messages[3])
    assert "16-bit PNG" in str(messages[4])
    assert messages[5] is None and results[5]["measurements"]["lesion_found"]
    alerts = page.locator("article.result [role=alert]").all_inner_texts()
    assert alerts == messages[:5]
    context.close()


def renderer_peaks_mb() -> dict[int, float]:
    """Peak resident memory (VmHWM) of each chromium renderer process, in MiB (Linux)."""
    peaks = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            if "--type=renderer" not in (status.parent / "cmdline").read_text():
                continue
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines())
        except OSError:  # the process has gone
            continue
        peaks[int(status.parent.name)] = int(fields["VmHWM"].split()[0]) / 1024
    return peaks


def test_a_40_megapixel_photo_is_read_in_strips(
    browser: Any, site_url: str, tmp_path: Path
) -> None:
    big = tmp_path / "big.jpg"
    with Image.open(JPEGS[0]) as image:
        image.resize((7296, 5472), Image.Resampling.BILINEAR).save(big, quality=90)
    context = browser.new_context()
    page = opened(context, site_url)
    before = renderer_peaks_mb()
    (result,) = segment(page, [big])
    assert result["image"] == {"width": 7296, "height": 5472}, result
    after = renderer_peaks_mb()
    growth = max(after[pid] - before[pid] for pid in before.keys() & after.keys())
    # The browser's decoded bitmap is 160 MB (RGBA) and the full-size map and mask 80 MB; the
    # strips, the reduced copy and the PNG are small. Another full-size RGBA copy would not fit.
    print(f"renderer peak memory grew {growth:.0f} MiB for a 40 MP photo")
    assert growth < 400
    context.close()


def test_without_isolation_headers_the_page_says_it_falls_back(browser: Any, site_url: str) -> None:
    context = browser.new_context(service_workers="block")

    def without_isolation(route: Any) -> None:
        response = route.fetch()
        kept = {
            k: v
            for k, v in response.headers.items()
            if k.lower() not in ("cross-origin-opener-policy", "cross-origin-embedder-policy")
        }
        route.fulfill(response=response, headers=kept)

    context.route("**/*", without_isolation)
    page = opened(context, site_url)
    assert not page.evaluate("() => crossOriginIsolated")
    runtime = page.inner_text("#runtime")
    assert "plain build: the page is not cross-origin isolated" in runtime, runtime
    (result,) = segment(page, JPEGS[:1])
    assert result["runtime"]["build"] == "plain" and result["measurements"]["lesion_found"]
    context.close()
