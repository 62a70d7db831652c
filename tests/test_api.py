"""The FastAPI app: every route, and every kind of bad input gets a clear 4xx."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from api_support import (
    SAMPLE_JPEG,
    TINY_TFLITE,
    encode,
    jpeg_with_orientation,
    png_bomb,
    sample_image,
)
from lesion_api.main import create_app
from lesion_api.settings import Settings


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(Settings(model_path=TINY_TFLITE, max_upload_bytes=2_000_000)))


def post(client: TestClient, data: bytes, name: str = "x.jpg", mime: str = "image/jpeg", **kw):
    return client.post("/v1/segment", files={"file": (name, data, mime)}, **kw)


def test_health_describes_model_and_runtime(client: TestClient) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["error"] is None
    assert body["model"]["flavour"] == "int8" and body["model"]["input_size"] == 64
    assert len(body["model"]["sha256"]) == 64
    assert body["runtime"]["name"] == "litert" and body["runtime"]["version"]


def test_segment_returns_mask_at_upload_size_with_measurements(client: TestClient) -> None:
    response = post(client, SAMPLE_JPEG.read_bytes(), params={"pixel_spacing_mm": 0.02})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["image"] == {"width": 1022, "height": 767}
    png = Image.open(io.BytesIO(base64.b64decode(body["mask_png_base64"])))
    assert png.mode == "1"  # 1-bit greyscale; 8-bit readers see 0/255
    mask = np.asarray(png.convert("L"))
    assert mask.shape == (767, 1022) and set(np.unique(mask).tolist()) == {0, 255}
    m = body["measurements"]
    assert m["area_px"] == int((mask > 0).sum())
    assert m["area_mm2"] == pytest.approx(m["area_px"] * 0.02**2)
    assert 0 <= m["asymmetry"] <= 1 and m["border_irregularity"] >= 0.8
    assert body["probability_png_base64"] is None
    assert 0 <= body["confidence"]["mean_certainty"] <= 1
    assert body["timings_ms"]["total_ms"] > 0


def test_probability_map_on_request(client: TestClient) -> None:
    body = post(
        client,
        encode(sample_image(), "PNG"),
        "x.png",
        "image/png",
        params={"include_probability": "true"},
    ).json()
    probability = Image.open(io.BytesIO(base64.b64decode(body["probability_png_base64"])))
    assert probability.size == (256, 192) and probability.mode == "L"


def test_accept_png_returns_the_mask_itself(client: TestClient) -> None:
    response = post(client, SAMPLE_JPEG.read_bytes(), headers={"Accept": "image/png"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    mask = Image.open(io.BytesIO(response.content))
    assert mask.size == (1022, 767) and mask.mode == "1"


def test_exif_orientation_is_honoured(client: TestClient) -> None:
    rotated = jpeg_with_orientation(sample_image(), 6)  # stored 256x192, shown 192x256
    assert post(client, rotated).json()["image"] == {"width": 192, "height": 256}


@pytest.mark.parametrize(
    ("mode", "fmt"),
    [
        ("L", "JPEG"),
        ("L", "PNG"),
        ("P", "PNG"),
        ("RGBA", "PNG"),
        ("CMYK", "JPEG"),
        ("I;16", "PNG"),
        ("LA", "PNG"),
    ],
)
def test_image_modes(client: TestClient, mode: str, fmt: str) -> None:
    image = sample_image()
    image = image.convert("L").convert("I;16") if mode == "I;16" else image.convert(mode)
    response = post(client, encode(image, fmt), f"x.{fmt.lower()}", f"image/{fmt.lower()}")
    assert response.status_code == 200, response.text
    assert response.json()["image"] == {"width": 256, "height": 192}


def _truncated_jpeg() -> bytes:
    data = SAMPLE_JPEG.read_bytes()
    return data[: len(data) // 2]


def _corrupt_png() -> bytes:
    data = bytearray(encode(sample_image(), "PNG"))
    data[200:260] = bytes(60)  # zero part of the IDAT stream
    return bytes(data)


BAD_FILES = {
    "empty": (b"", 400, "empty"),
    "text": (b"hello, this is not an image", 415, "not a readable image"),
    "truncated jpeg": (_truncated_jpeg(), 422, "truncated"),
    "corrupt png": (_corrupt_png(), 422, "corrupt"),
    "gif": (encode(sample_image(), "GIF"), 415, "unsupported image type GIF"),
    "bmp": (encode(sample_image(), "BMP"), 415, "unsupported image type BMP"),
    "webp": (encode(sample_image(), "WEBP"), 415, "unsupported image type WEBP"),
    "tiff": (encode(sample_image(), "TIFF"), 415, "unsupported image type TIFF"),
    "tiny": (encode(Image.new("RGB", (8, 8)), "PNG"), 422, "both sides"),
    "pixel bomb": (png_bomb(12_000, 10_000), 413, "too many pixels"),
}


@pytest.mark.parametrize("name", BAD_FILES)
def test_bad_files_get_a_clear_4xx(client: TestClient, name: str) -> None:
    data, status, message = BAD_FILES[name]
    response = post(client, data)
    assert response.status_code == status, response.text
    assert message in response.json()["detail"]


def test_too_many_bytes(client: TestClient) -> None:
    noise = np.random.default_rng(0).integers(0, 256, (1200, 1200, 3), dtype=np.uint8)
    data = encode(Image.fromarray(noise), "PNG")
    assert len(data) > 2_000_000
    response = post(client, data)
    assert response.status_code == 413
    assert "larger than" in response.json()["detail"] or "limit" in response.json()["detail"]


def test_pixel_limit_from_settings() -> None:
    client = TestClient(create_app(Settings(model_path=TINY_TFLITE, max_image_pixels=10_000)))
    response = post(client, encode(sample_image(), "PNG"))
    assert response.status_code == 413 and "pixels" in response.json()["detail"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"files": {"image": ("x.jpg", b"abc", "image/jpeg")}}, "missing form field 'file'"),
        ({"json": {"file": "abc"}}, "missing form field 'file'"),
        ({"content": b"raw bytes", "headers": {"content-type": "image/jpeg"}}, "'file'"),
        *(
            (
                {
                    "files": {"file": ("x.jpg", SAMPLE_JPEG.read_bytes(), "image/jpeg")},
                    "params": {"pixel_spacing_mm": spacing},
                },
                "pixel_spacing_mm",
            )
            for spacing in ("-1", "0", "5e-324", "0.00009", "10.5", "nan", "inf")
        ),
        (
            {
                "files": {"file": ("x.jpg", SAMPLE_JPEG.read_bytes(), "image/jpeg")},
                "params": {"include_probability": "maybe"},
            },
            "include_probability",
        ),
    ],
)
def test_bad_requests_get_a_clear_422(client: TestClient, kwargs: dict, message: str) -> None:
    response = client.post("/v1/segment", **kwargs)
    assert response.status_code == 422, response.text
    assert message in response.json()["detail"]


def test_wrong_method_and_unknown_route(client: TestClient) -> None:
    assert client.get("/v1/segment").status_code == 405
    assert client.get("/nope").status_code == 404


def test_missing_model_is_reported_not_crashed(tmp_path: Path) -> None:
    client = TestClient(create_app(Settings(model_path=tmp_path / "none.tflite")))
    health = client.get("/health")
    assert health.status_code == 503 and "cannot read model file" in health.json()["error"]
    response = post(client, SAMPLE_JPEG.read_bytes())
    assert response.status_code == 503 and "not loaded" in response.json()["detail"]


def test_checksum_mismatch_of_baked_in_model_is_reported() -> None:
    client = TestClient(create_app(Settings(model_path=TINY_TFLITE, model_sha256="0" * 64)))
    assert "checksum mismatch" in client.get("/health").json()["error"]


def test_openapi_documents_every_response(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    responses = spec["paths"]["/v1/segment"]["post"]["responses"]
    assert {"200", "400", "413", "415", "422", "503"} <= set(responses)
    assert "image/png" in responses["200"]["content"]
    assert client.get("/docs").status_code == 200
    upload = spec["paths"]["/v1/segment"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert upload["encoding"] == {"file": {"contentType": "image/jpeg, image/png"}}
    assert upload["schema"] == {"$ref": "#/components/schemas/Body_segment_v1_segment_post"}


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_api_docs_load_nothing_from_another_origin(client: TestClient, page: str) -> None:
    response = client.get(page)
    html = response.text
    assert "http://" not in html and "https://" not in html, "no CDN, no fonts from elsewhere"
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "img-src 'self' data:" in policy
    assert "content-security-policy" not in client.get("/health").headers
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    assert assets and all(a.startswith("/static-offline-docs/") for a in assets), assets
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200 and len(response.content) > 1000, asset
        assert response.headers["content-type"].split(";")[0] in {
            "text/javascript",
            "application/javascript",
            "text/css",
            "image/png",
        }


def test_uploads_are_never_spooled_to_disk(client: TestClient, monkeypatch) -> None:
    import tempfile

    opened = []
    real = tempfile.TemporaryFile
    monkeypatch.setattr(
        tempfile, "TemporaryFile", lambda *a, **k: opened.append(1) or real(*a, **k)
    )
    noise = np.random.default_rng(1).integers(0, 256, (700, 640, 3), dtype=np.uint8)
    big = encode(Image.fromarray(noise), "PNG")
    assert len(big) > 1024 * 1024  # above Starlette's default spool threshold
    assert post(client, big, "x.png", "image/png").status_code == 200
    assert opened == []
