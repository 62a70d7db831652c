"""Many clients at once against a real uvicorn server: every answer is the image's own.

Each image's mask is first fetched alone; then 8 clients post all the images at once, and every
answer must be byte-identical to that image's sequential answer.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pytest

from segcore.predictor import TFLitePredictor
from servers import api_server

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
DEPLOYED = ROOT / "models" / "unet.tflite"
FIXTURES = ROOT / "tests" / "fixtures"
CLIENTS, REQUESTS_EACH = 8, 12


def real_images() -> dict[str, bytes]:
    paths = [
        *sorted(FIXTURES.glob("isic2018*/*_Input/*.jpg")),
        FIXTURES / "samples" / "ISIC_0000012.jpg",
    ]
    return {f"{p.parent.parent.name}/{p.name}": p.read_bytes() for p in paths}


def mask_of(client: httpx.Client, url: str, data: bytes) -> bytes:
    response = client.post(
        f"{url}/v1/segment",
        files={"file": ("x.jpg", data, "image/jpeg")},
        headers={"Accept": "image/png"},
    )
    assert response.status_code == 200, response.text[:300]
    return response.content


@pytest.mark.parametrize("interpreters", ["1", "2"])
def test_concurrent_answers_equal_sequential_answers(interpreters: str) -> None:
    images = real_images()
    with api_server(DEPLOYED, INTERPRETERS=interpreters) as url:
        with httpx.Client(timeout=60) as client:
            expected = {name: mask_of(client, url, data) for name, data in images.items()}
        assert len(set(expected.values())) == len(images)  # the images really differ
        names = sorted(images)
        start = threading.Barrier(CLIENTS)

        def one_client(index: int) -> list[tuple[str, bool]]:
            results = []
            with httpx.Client(timeout=60) as client:
                start.wait()
                for i in range(REQUESTS_EACH):
                    name = names[(index + i) % len(names)]
                    results.append((name, mask_of(client, url, images[name]) == expected[name]))
            return results

        with ThreadPoolExecutor(CLIENTS) as pool:
            answers = [r for rs in pool.map(one_client, range(CLIENTS)) for r in rs]
    wrong = [name for name, same in answers if not same]
    assert len(answers) == CLIENTS * REQUESTS_EACH and wrong == []


def test_the_pool_lends_each_thread_its_own_interpreter() -> None:
    predictor = TFLitePredictor(DEPLOYED, num_threads=1, pool_size=3)
    assert predictor.interpreters_created == 1
    rng = np.random.default_rng(0)
    size = predictor.input_size
    inputs = [rng.integers(0, 256, (1, size, size, 3), dtype=np.uint8) for _ in range(6)]
    expected = [predictor.predict(x) for x in inputs]
    with ThreadPoolExecutor(6) as pool:
        for _ in range(3):
            got = list(pool.map(predictor.predict, inputs))
            assert all(np.array_equal(a, b) for a, b in zip(got, expected, strict=True))
    assert 1 <= predictor.interpreters_created <= 3  # made on need, never above the bound
