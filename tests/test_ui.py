"""The Streamlit UI (AppTest) against a real local API, and its error paths."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from servers import ROOT, api_server, free_port

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest

from lesion_api.schemas import DEFAULT_MAX_UPLOAD_BYTES, Quality
from lesion_ui import api_client, render

SAMPLE = ROOT / "ui" / "samples" / "ISIC_0000035.jpg"


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


def test_a_doubtful_mask_is_flagged_for_review(monkeypatch, api_url: str) -> None:
    """A blank image: no lesion found, so the badge says why a person should look."""
    blank = io.BytesIO()
    Image.new("RGB", (200, 200), "white").save(blank, format="PNG")
    at = app_test(monkeypatch, api_url)
    at.file_uploader(key="uploads").upload("blank.png", blank.getvalue(), "image/png").run()
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
    """The uploader and the check before sending follow /health, not a copy of the limit."""
    with api_server(MAX_UPLOAD_BYTES="5000") as url:
        at = app_test(monkeypatch, url)
        uploader = at.file_uploader(key="uploads")
        assert "at most 5 kB" in uploader.label
        uploader.upload("lesion.jpg", SAMPLE.read_bytes(), "image/jpeg").run()
    assert len(SAMPLE.read_bytes()) > 5_000
    assert "the API accepts at most 5,000" in texts(at.error)


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
