"""The quality estimate and its "needs review" flag (segcore.quality): its signals, the served fit,
and the same answer in every output path (API JSON and PNG headers, segment CLI, batch)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from api_support import SAMPLE_JPEG
from cli_support import run_module
from lesion_api.main import create_app
from lesion_api.routes.segment import NEEDS_REVIEW_HEADER, PREDICTED_DICE_HEADER
from lesion_api.schemas import Confidence, Measurements, Quality
from lesion_api.settings import Settings
from segcore.decoding import read_for_model
from segcore.paths import DEPLOYED_MODEL
from segcore.predictor import TFLitePredictor
from segcore.quality import (
    MAX_COMPONENTS,
    QUALITY_FILE,
    SIGNALS,
    TOGETHER,
    QualityModel,
    signals,
)

SIZE = 128
SAMPLES = sorted((Path(__file__).parent / "fixtures" / "samples").glob("*.jpg"))


def disc(radius: float, centre: tuple[float, float] = (64, 64), level: float = 0.98) -> np.ndarray:
    y, x = np.mgrid[:SIZE, :SIZE]
    inside = (y - centre[0]) ** 2 + (x - centre[1]) ** 2 <= radius**2
    return np.where(inside, level, 1 - level).astype(np.float32)


@pytest.fixture(scope="module")
def served() -> QualityModel:
    return QualityModel.load()


def test_signals_of_a_clean_confident_lesion() -> None:
    values = signals(disc(30))
    assert values["lesion_mean_probability"] == pytest.approx(0.98)
    assert values["mean_certainty"] == pytest.approx(0.96)
    assert values["components"] == 1 and values["touches_border"] == 0
    assert np.exp(values["log_lesion_share"]) == pytest.approx(np.pi * 30**2 / SIZE**2, rel=0.02)
    assert values["log_uncertain_to_lesion"] < -7  # no uncertain pixel at all


def test_signals_of_no_lesion_fragments_and_the_border() -> None:
    empty = signals(np.full((SIZE, SIZE), 0.1, np.float32))
    assert empty["lesion_mean_probability"] == 0 and empty["components"] == 0
    spots = np.full((SIZE, SIZE), 0.02, np.float32)
    for k in range(8):
        spots[10 + 14 * k : 14 + 14 * k, 5:9] = 0.6
    spots[60:70, 0:10] = 0.9
    values = signals(spots)
    assert values["components"] == MAX_COMPONENTS and values["touches_border"] == 1


def test_a_clean_lesion_passes_and_a_doubtful_one_is_flagged_with_reasons(
    served: QualityModel,
) -> None:
    good = served.assess(disc(30))
    assert not good.needs_review and good.reasons == () and good.predicted_dice > 0.85
    doubtful = np.full((SIZE, SIZE), 0.3, np.float32)
    doubtful[40:50, 40:50] = 0.55
    doubtful[90:94, 100:128] = 0.6
    bad = served.assess(doubtful)
    assert bad.needs_review and bad.predicted_dice < served.threshold
    assert 1 <= len(bad.reasons) <= 2 and all(isinstance(r, str) and r for r in bad.reasons)
    nothing = served.assess(np.full((SIZE, SIZE), 0.05, np.float32))
    assert nothing.needs_review and nothing.reasons == ("no lesion found",)
    assert served.assess(doubtful) == bad  # deterministic


def test_the_served_fit_belongs_to_the_deployed_model() -> None:
    document = json.loads(QUALITY_FILE.read_text())
    assert tuple(document["signals"]) == SIGNALS
    assert document["model_sha256"] == hashlib.sha256(DEPLOYED_MODEL.read_bytes()).hexdigest(), (
        "the model changed: refit with benchmarks/studies/quality_fit.py"
    )
    assert 0.5 < document["threshold"] < 1


def test_a_fit_for_other_signals_is_refused(tmp_path: Path) -> None:
    document = json.loads(QUALITY_FILE.read_text())
    path = tmp_path / "quality.json"
    path.write_text(json.dumps({**document, "signals": list(reversed(SIGNALS))}))
    with pytest.raises(ValueError, match="signals"):
        QualityModel.load(path)


@pytest.fixture(scope="module")
def deployed_client() -> TestClient:
    return TestClient(create_app(Settings(model_path=DEPLOYED_MODEL)))


def expected(path: Path, served: QualityModel) -> dict[str, object]:
    predictor = TFLitePredictor(DEPLOYED_MODEL)
    with Image.open(path) as image:
        quality = served.assess(predictor.segment(read_for_model(image, 128)).probabilities)
    return {
        "predicted_dice": quality.predicted_dice,
        "needs_review": quality.needs_review,
        "reasons": list(quality.reasons),
    }


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.stem)
def test_the_api_answers_the_same_quality_in_json_and_png(
    deployed_client: TestClient, served: QualityModel, path: Path
) -> None:
    files = {"file": (path.name, path.read_bytes(), "image/jpeg")}
    body = deployed_client.post("/v1/segment", files=files).json()
    assert body["quality"] == expected(path, served)
    png = deployed_client.post("/v1/segment", files=files, headers={"accept": "image/png"})
    assert png.headers[PREDICTED_DICE_HEADER] == f"{body['quality']['predicted_dice']:.4f}"
    assert png.headers[NEEDS_REVIEW_HEADER] == str(body["quality"]["needs_review"]).lower()


def test_cors_lets_a_browser_read_the_quality_headers() -> None:
    app = create_app(Settings(model_path=DEPLOYED_MODEL, cors_origins=["https://ui.example"]))
    with TestClient(app) as client:
        response = client.post(
            "/v1/segment",
            files={"file": ("a.jpg", SAMPLE_JPEG.read_bytes(), "image/jpeg")},
            headers={"accept": "image/png", "origin": "https://ui.example"},
        )
    exposed = response.headers["access-control-expose-headers"].lower()
    assert PREDICTED_DICE_HEADER.lower() in exposed and NEEDS_REVIEW_HEADER.lower() in exposed


def test_the_schema_documents_quality(deployed_client: TestClient) -> None:
    schema = deployed_client.get("/openapi.json").json()
    quality = schema["components"]["schemas"]["Quality"]
    assert set(quality["required"]) == {"predicted_dice", "needs_review", "reasons"}
    assert "quality" in schema["components"]["schemas"]["Segmentation"]["required"]
    ok = schema["paths"]["/v1/segment"]["post"]["responses"]["200"]
    assert set(ok["headers"]) == {PREDICTED_DICE_HEADER, NEEDS_REVIEW_HEADER}


def test_the_segment_cli_prints_the_apis_result(
    deployed_client: TestClient, tmp_path: Path
) -> None:
    result = run_module("segcore.segment", *map(str, SAMPLES), "--out", str(tmp_path), timeout=120)
    assert result.returncode == 0, result.stderr
    printed = [json.loads(line) for line in result.stdout.splitlines()]
    for path, line in zip(SAMPLES, printed, strict=True):
        files = {"file": (path.name, path.read_bytes(), "image/jpeg")}
        api = deployed_client.post("/v1/segment", files=files).json()
        for part, model in (("measurements", Measurements), ("confidence", Confidence)):
            assert model.model_validate(line[part]).model_dump() == api[part], part
        assert Quality.model_validate(line["quality"]).model_dump() == api["quality"]
        assert (line["width"], line["height"]) == (api["image"]["width"], api["image"]["height"])


def test_a_signal_is_a_reason_only_on_its_risky_side() -> None:
    """A fitted term can be negative on a signal's harmless side (the signals overlap): a mask
    the model is sure of is never said to be unsure."""

    def model(certainty_coefficient: float) -> QualityModel:
        return QualityModel(
            means=(0.5, 0.5, 0.0, 1.0, -3.0, 0.5),
            scales=(1.0,) * len(SIGNALS),
            coefficients=(0.0, certainty_coefficient, 0.0, 0.0, 0.0, 0.0),
            intercept=0.5,
            threshold=0.99,
            model_sha256="",
        )

    sure = disc(30)  # mean certainty 0.96, above the made-up mean of 0.5
    assert model(-1.0).assess(sure).reasons == (TOGETHER,)
    unsure = np.full((SIZE, SIZE), 0.45, np.float32)
    unsure[40:80, 40:80] = 0.55  # certainty 0.1, below that mean
    assert model(1.0).assess(unsure).reasons == ("the model is unsure over much of the image",)
