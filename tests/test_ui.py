"""The Streamlit UI (AppTest) against a real local API, and its error paths."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import tomllib
import zipfile

import numpy as np
import pytest
from PIL import Image

from servers import ROOT, api_server, free_port

pytest.importorskip("streamlit")
from starlette.formparsers import MultiPartParser
from starlette.requests import Request
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1 import app_test as app_test_module

from lesion_api.schemas import DEFAULT_MAX_UPLOAD_BYTES, Quality
from lesion_ui import api_client, render, upload

SAMPLE = ROOT / "ui" / "samples" / "ISIC_0000035.jpg"
CONFIG = tomllib.loads((ROOT / "ui" / ".streamlit" / "config.toml").read_text())
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def api_url():
    with api_server() as url:
        yield url


def app_test(monkeypatch: pytest.MonkeyPatch, api_url: str) -> AppTest:
    monkeypatch.setenv("API_URL", api_url)
    monkeypatch.setenv("API_TIMEOUT_S", "20")
    monkeypatch.delenv("EDGE_URL", raising=False)
    at = AppTest.from_file(str(ROOT / "ui" / "app.py"), default_timeout=60)
    return at.run()


def texts(elements) -> str:
    return " ".join(str(e.value) for e in elements)


def blank_png() -> bytes:
    blank = io.BytesIO()
    Image.new("RGB", (200, 200), "white").save(blank, format="PNG")
    return blank.getvalue()


@pytest.fixture
def offered(monkeypatch: pytest.MonkeyPatch):
    """What a download button of the last run offers: its bytes, from the run's media storage."""
    stores: list[MemoryMediaFileStorage] = []

    class Kept(MemoryMediaFileStorage):
        def __init__(self, endpoint: str) -> None:
            super().__init__(endpoint)
            stores.append(self)

    monkeypatch.setattr(app_test_module, "MemoryMediaFileStorage", Kept)
    return lambda button: stores[-1].get_file(button.proto.url.rsplit("/", 1)[1])


def test_health_and_disclaimer_are_shown(monkeypatch, api_url: str) -> None:
    at = app_test(monkeypatch, api_url)
    assert "not a medical device" in texts(at.warning)
    assert "Connected: unet-isic2018 (int8, 64 px)" in texts(at.sidebar.success)


def test_the_on_device_app_is_linked_only_when_set(monkeypatch, api_url: str) -> None:
    link = "[Segment on this device instead](http://127.0.0.1:8502)"
    without = app_test(monkeypatch, api_url)
    assert "on this device" not in texts(without.markdown) + texts(without.caption)
    monkeypatch.setenv("EDGE_URL", "http://127.0.0.1:8502")
    at = AppTest.from_file(str(ROOT / "ui" / "app.py"), default_timeout=60).run()
    assert link in [m.value for m in at.markdown]
    assert "the images never leave your device" in texts(at.caption)
    assert not at.exception


def test_upload_shows_results(monkeypatch, api_url: str) -> None:
    at = app_test(monkeypatch, api_url)
    at.file_uploader(key="uploads").upload("lesion.jpg", SAMPLE.read_bytes(), "image/jpeg").run()
    assert not at.exception and not at.error, texts(at.error)
    assert [s.value for s in at.subheader] == ["lesion.jpg"]
    table = at.table[0].value
    assert "area (px)" in table["measurement"].tolist()
    assert "latency:" in texts(at.caption)
    assert "Looks fine" in texts(at.main.success) and "estimated Dice" in texts(at.main.success)
    assert "Needs review" not in texts(at.warning)
    assert "lesion probability" in texts(at.get("html"))  # the colour map's legend
    assert not at.dataframe, "one image: no summary"


def test_a_doubtful_mask_is_flagged_for_review(monkeypatch, api_url: str) -> None:
    """A blank image: no lesion found, so the badge says why a person should look."""
    at = app_test(monkeypatch, api_url)
    at.file_uploader(key="uploads").upload("blank.png", blank_png(), "image/png").run()
    assert not at.exception and not at.error, texts(at.error)
    badge = texts(at.warning)
    assert "Needs review" in badge and "estimated Dice 0.00" in badge
    assert "no lesion found" in badge
    assert "Looks fine" not in texts(at.main.success)


def test_quality_badge_words() -> None:
    reasons = ["the lesion touches the image's edge", "the model is unsure over much of the image"]
    flagged = render.quality_badge(
        Quality(predicted_dice=0.6645, needs_review=True, reasons=reasons)
    )
    assert flagged == f"**Needs review** (estimated Dice 0.66): {'; '.join(reasons)}"
    fine = render.quality_badge(Quality(predicted_dice=0.8123, needs_review=False, reasons=[]))
    assert fine == "**Looks fine** (estimated Dice 0.81)"


def test_the_json_report_carries_the_quality(api_url: str) -> None:
    data = SAMPLE.read_bytes()
    result = api_client.segment(
        api_url, "lesion.jpg", data, "image/jpeg", None, DEFAULT_MAX_UPLOAD_BYTES
    )
    report = json.loads(render.report("lesion.jpg", result.body, result.round_trip_ms))
    assert report["quality"] == result.body.quality.model_dump()
    assert set(report["quality"]) == {"predicted_dice", "needs_review", "reasons"}


def test_sample_button(monkeypatch, api_url: str) -> None:
    at = app_test(monkeypatch, api_url)
    at.selectbox(key="sample").select("ISIC_0000099.jpg").run()
    at.button(key="try_sample").click().run()
    assert not at.exception and not at.error, texts(at.error)
    assert [s.value for s in at.subheader] == ["ISIC_0000099.jpg"]


def test_a_file_that_is_not_an_image(monkeypatch, api_url: str) -> None:
    at = app_test(monkeypatch, api_url)
    at.file_uploader(key="uploads").upload("fake.jpg", b"not an image", "image/jpeg").run()
    assert "fake.jpg is not a readable JPEG or PNG image" in texts(at.error)
    assert not at.exception


def test_a_file_too_large(monkeypatch, api_url: str) -> None:
    at = app_test(monkeypatch, api_url)
    at.file_uploader(key="uploads").upload("big.jpg", b"\xff" * 4_400_000, "image/jpeg").run()
    assert "the API accepts at most 4,300,000" in texts(at.error)


def test_the_upload_limit_is_the_apis(monkeypatch) -> None:
    """The uploader's own limit (the one it prints) and the check before sending follow
    /health, not a copy of the limit; the label repeats none."""
    with api_server(MAX_UPLOAD_BYTES="2500000") as url:
        at = app_test(monkeypatch, url)
        uploader = at.file_uploader(key="uploads")
        assert uploader.proto.max_upload_size_mb == 2
        assert uploader.label == "Dermoscopy images (JPEG or PNG)"
        uploader.upload("big.jpg", b"\xff" * 2_600_000, "image/jpeg").run()
    assert "the API accepts at most 2,500,000" in texts(at.error)


def test_the_uploader_never_promises_more_than_is_taken() -> None:
    assert upload.uploader_limit_mb(DEFAULT_MAX_UPLOAD_BYTES, 200) == 4  # 4.3 MB: 4 whole MiB
    assert upload.uploader_limit_mb(DEFAULT_MAX_UPLOAD_BYTES, 3) == 3  # this UI's server
    assert upload.uploader_limit_mb(5_000, 200) == 1  # Streamlit's least
    assert upload.uploader_limit_mb(4 * upload.MIB, 200) == 4


def test_the_config_agrees_with_the_api_and_trims_the_toolbar() -> None:
    """ui/.streamlit/config.toml (read beside the page): the server takes what the API takes by
    default, in whole MiB, and the toolbar has no developer menu."""
    limit_mb = CONFIG["server"]["maxUploadSize"]
    assert limit_mb == upload.uploader_limit_mb(DEFAULT_MAX_UPLOAD_BYTES, 200)
    assert CONFIG["client"]["toolbarMode"] == "minimal"


def test_uploads_stay_in_memory(monkeypatch, api_url: str) -> None:
    """Streamlit parses uploads with Starlette, which spools a file over 1 MiB to the disk: the
    page raises that, so the largest upload its server takes stays in memory."""
    monkeypatch.setattr(MultiPartParser, "spool_max_size", 1024 * 1024)  # Starlette's own
    app_test(monkeypatch, api_url)
    assert MultiPartParser.spool_max_size > 1024 * 1024
    upload.keep_in_memory(CONFIG["server"]["maxUploadSize"])
    payload = b"\xff" * (CONFIG["server"]["maxUploadSize"] * upload.MIB)
    body = (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.jpg"\r\n'
        b"Content-Type: image/jpeg\r\n\r\n" + payload + b"\r\n--b--\r\n"
    )
    scope = {
        "type": "http",
        "method": "PUT",
        "headers": [(b"content-type", b"multipart/form-data; boundary=b")],
    }

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def spooled_to_disk() -> bool:
        form = await Request(scope, receive).form()
        rolled: bool = form["file"].file._rolled
        await form.close()
        return rolled

    loop = asyncio.new_event_loop()  # not asyncio.run: it would unset this thread's loop, which
    try:  # another test's Mangum handler set and still holds
        assert not loop.run_until_complete(spooled_to_disk())
    finally:
        loop.close()


def test_the_probability_map_is_in_viridis_colours() -> None:
    ramp = Image.fromarray(np.arange(256, dtype=np.uint8).reshape(1, 256))
    colours = np.asarray(render.colour_map(ramp))[0]
    assert colours.shape == (256, 3)
    assert tuple(colours[0]) == (0x44, 0x01, 0x54) and tuple(colours[255]) == (0xFD, 0xE7, 0x25)
    matplotlib = pytest.importorskip("matplotlib")
    viridis = matplotlib.colormaps["viridis"](np.arange(256) / 255)[:, :3] * 255
    assert np.abs(colours - viridis).max() < 6
    for stop in render.VIRIDIS:
        assert stop in render.legend()


def test_several_images_are_summarised(monkeypatch, api_url: str, offered) -> None:
    """One table of every image (the API's field names), its CSV and a ZIP of every image's
    mask, overlay and report; a refused image is a row that says why, and names stay apart."""
    at = app_test(monkeypatch, api_url)
    at.file_uploader(key="uploads").set_value(
        [
            ("lesion.jpg", SAMPLE.read_bytes(), "image/jpeg"),
            ("blank.png", blank_png(), "image/png"),
            ("fake.jpg", b"not an image", "image/jpeg"),
            ("lesion.jpg", SAMPLE.read_bytes(), "image/jpeg"),
        ]
    ).run()
    assert not at.exception
    names = ["lesion.jpg", "blank.png", "fake.jpg", "lesion.jpg"]
    assert [s.value for s in at.subheader] == ["Summary of 4 images", *names]
    table = at.dataframe[0].value
    assert list(table.columns) == list(render.SUMMARY_COLUMNS)
    assert table["file"].tolist() == names
    assert table["needs_review"].tolist() == [False, True, None, False]
    assert "no lesion found" in table["reasons"][1]
    assert "not a readable JPEG or PNG image" in table["error"][2]
    assert table["predicted_dice"][0] > 0.5 and table["lesion_found"][0]

    buttons = {button.label: button for button in at.get("download_button")}
    summary = offered(buttons["summary CSV"])
    assert (summary.filename, summary.mimetype) == ("summary.csv", "text/csv")
    rows = list(csv.DictReader(io.StringIO(summary.content.decode())))
    assert list(rows[0]) == list(render.SUMMARY_COLUMNS)
    assert [row["file"] for row in rows] == names
    assert float(rows[0]["area_fraction"]) == table["area_fraction"][0]
    assert rows[1]["lesion_found"] == "False" and rows[2]["lesion_found"] == ""

    zipped = offered(buttons["ZIP of every mask, overlay and report"])
    assert zipped.filename == "segmentations.zip"
    with zipfile.ZipFile(io.BytesIO(zipped.content)) as archive:
        assert sorted(archive.namelist()) == sorted(
            f"{stem}_{part}"
            for stem in ("lesion", "blank", "lesion-2")
            for part in ("mask.png", "overlay.png", "report.json")
        )
        for name in archive.namelist():
            data = archive.read(name)
            if name.endswith(".png"):
                assert data.startswith(PNG_SIGNATURE)
                Image.open(io.BytesIO(data)).verify()
            else:
                report = json.loads(data)
                assert report["file"] == ("blank.png" if name.startswith("blank") else "lesion.jpg")
                assert set(report["quality"]) == {"predicted_dice", "needs_review", "reasons"}


def test_download_names_stay_apart() -> None:
    stems = render.unique_stems(["a.jpg", "a.png", "a-2.jpg", "b.jpg", "a.jpg"])
    assert stems == ["a", "a-2", "a-2-2", "b", "a-3"]


def test_api_refusal_shows_its_detail(monkeypatch, api_url: str) -> None:
    at = app_test(monkeypatch, api_url)
    tiny_png = (
        ROOT
        / "tests"
        / "fixtures"
        / "isic2018"
        / "ISIC2018_Task1_Validation_GroundTruth"
        / "ISIC_0012255_segmentation.png"
    ).read_bytes()
    small = io.BytesIO()
    Image.open(io.BytesIO(tiny_png)).resize((8, 8)).save(small, format="PNG")
    at.file_uploader(key="uploads").upload("small.png", small.getvalue(), "image/png").run()
    assert "the API answered 422: the image is 8x8" in texts(at.error)


def test_api_down_is_a_message_not_a_traceback(monkeypatch) -> None:
    at = app_test(monkeypatch, f"http://127.0.0.1:{free_port()}")
    assert "API not available: cannot reach the API" in texts(at.sidebar.error)
    at.file_uploader(key="uploads").upload("lesion.jpg", SAMPLE.read_bytes(), "image/jpeg").run()
    assert "cannot reach the API" in texts(at.error)
    assert not at.exception


def test_slow_api_times_out_with_a_message(monkeypatch) -> None:
    import socket

    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        monkeypatch.setenv("API_TIMEOUT_S", "1")
        monkeypatch.setenv("API_URL", f"http://127.0.0.1:{silent.getsockname()[1]}")
        at = AppTest.from_file(str(ROOT / "ui" / "app.py"), default_timeout=60).run()
        at.file_uploader(key="uploads").upload("l.jpg", SAMPLE.read_bytes(), "image/jpeg").run()
        assert "did not answer within 1 s" in texts(at.error)
