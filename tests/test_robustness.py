"""Uploads crafted to break decoders, and seeded mutations of real ones: never a 5xx.

The crafted files (tests/fixtures/crafted, made by scripts/make_crafted_fixtures.py) each once
made the API answer 500, or decode hundreds of MB.
"""

from __future__ import annotations

import random

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from api_support import SAMPLE_JPEG, TINY_TFLITE, encode, sample_image
from lesion_api.main import create_app
from lesion_api.settings import Settings
from scripts.make_crafted_fixtures import CRAFTED, OUT

FUZZ_CASES = 600


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = create_app(Settings(model_path=TINY_TFLITE))
    return TestClient(app, raise_server_exceptions=False)


def post(client: TestClient, data: bytes, name: str = "x.jpg"):
    return client.post("/v1/segment", files={"file": (name, data, "application/octet-stream")})


@pytest.mark.parametrize("name", sorted(CRAFTED))
def test_crafted_files_get_their_documented_answer(client: TestClient, name: str) -> None:
    status, what = CRAFTED[name]
    response = post(client, (OUT / name).read_bytes(), name)
    assert response.status_code == status, f"{what}: {response.text[:300]}"
    assert response.headers["content-type"] == "application/json"
    if status != 200:
        assert response.json()["detail"]


def test_the_committed_crafted_files_are_what_the_script_makes() -> None:
    from scripts.make_crafted_fixtures import build

    built = build()
    assert set(built) == set(CRAFTED)
    for name, data in built.items():
        assert (OUT / name).read_bytes() == data, (
            f"run python -m scripts.make_crafted_fixtures: {name}"
        )


def test_a_broken_exif_block_does_not_stop_the_orientation(client: TestClient) -> None:
    body = post(client, (OUT / "exif_short_as_ascii.jpg").read_bytes()).json()
    assert body["image"] == {"width": 192, "height": 256}  # stored 256x192, orientation 6


def test_mpo_is_read_as_its_first_frame(client: TestClient) -> None:
    assert post(client, (OUT / "phone.mpo").read_bytes()).json()["image"] == {
        "width": 320,
        "height": 240,
    }


def _mutations(seed: int, count: int) -> list[bytes]:
    """Seeded byte flips, truncations, insertions and chunk splices of real JPEG and PNG bytes."""
    rng = random.Random(seed)
    small = sample_image().resize((96, 72))
    originals = [
        encode(small, "JPEG", quality=85),
        encode(small, "JPEG", quality=85, progressive=True),
        encode(small, "PNG"),
        encode(small.convert("L"), "PNG"),
        encode(small.convert("P"), "PNG"),
    ]
    cases = []
    for _ in range(count):
        data = bytearray(rng.choice(originals))
        for _ in range(rng.randint(1, 4)):
            kind = rng.randrange(4)
            at = rng.randrange(len(data))
            if kind == 0:
                data[at] = rng.randrange(256)
            elif kind == 1:
                del data[at:]
                data += b"\0" * rng.randrange(2)
            elif kind == 2:
                data[at:at] = rng.randbytes(rng.randint(1, 16))
            else:
                other = rng.choice(originals)
                cut = rng.randrange(len(other))
                data[at:] = other[cut:]
        cases.append(bytes(data))
    return cases


def test_fuzzed_uploads_never_get_a_5xx(client: TestClient) -> None:
    statuses: dict[int, int] = {}
    for data in _mutations(seed=2018, count=FUZZ_CASES):
        response = post(client, data)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        assert response.status_code < 500, response.text[:300]
        assert response.headers["content-type"] == "application/json"
    assert statuses.get(200) and len(statuses) > 2  # the mutations reach both sides


def test_an_unexpected_error_is_json_and_closes_the_connection(monkeypatch) -> None:
    import lesion_api.routes.segment as route

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(route, "segment_upload", broken)
    client = TestClient(create_app(Settings(model_path=TINY_TFLITE)), raise_server_exceptions=False)
    response = post(client, SAMPLE_JPEG.read_bytes())
    assert response.status_code == 500
    assert response.json() == {"detail": "internal server error"}
    assert response.headers["connection"] == "close"


def test_head_health_trailing_slash_and_model_path(client: TestClient) -> None:
    assert client.head("/health").status_code == 200
    response = client.get("/health/", follow_redirects=False)
    assert response.status_code == 404 and "location" not in response.headers
    source = client.get("/health").json()["model"]["source"]
    assert source == TINY_TFLITE.name  # the file's name, not where it lives


def test_decode_memory_cap_from_settings() -> None:
    client = TestClient(create_app(Settings(model_path=TINY_TFLITE, max_decode_bytes=10_000_000)))
    response = post(client, (OUT / "grey_6400x6250.png").read_bytes())
    assert response.status_code == 413 and "needs 40,000,000 bytes" in response.json()["detail"]


def test_a_lambda_memory_size_caps_the_decode(monkeypatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
    assert Settings(model_path=TINY_TFLITE).max_decode_bytes == 512 * 2**20 // 4


def test_a_large_jpeg_is_decoded_at_reduced_scale() -> None:
    from segcore.decoding import draft_for_model

    with Image.open(SAMPLE_JPEG) as image:  # 1022x767
        assert draft_for_model(image, 128) == (1022, 767)
        assert image.size == (256, 192)  # a quarter keeps 128 a side; an eighth would not
