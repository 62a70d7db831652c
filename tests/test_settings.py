"""Configuration that fails at start-up: a setting outside its choices or range stops the
process (the Lambda's INIT, `python -m lesion_api.serve`) with a message naming it, and the
routes take settings and the model through typed dependencies a test can swap."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from api_support import SAMPLE_JPEG, TINY_TFLITE
from cli_support import run_module
from lesion_api.dependencies import get_app_settings, get_model
from lesion_api.main import create_app
from lesion_api.model import ModelState
from lesion_api.settings import Settings, UploadLimits


@pytest.mark.parametrize(
    ("variable", "value"),
    [("RUNTIME", "litrt"), ("LOG_LEVEL", "verbose"), ("INTERPRETERS", "0"), ("NUM_THREADS", "x")],
)
def test_a_bad_setting_is_refused_by_name(monkeypatch, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError, match=variable.lower()):
        Settings()


def test_the_lambda_init_fails_on_a_bad_setting() -> None:
    result = run_module("lesion_api.handler", env={"RUNTIME": "litrt"}, timeout=120)
    assert result.returncode != 0
    assert "runtime" in result.stderr and "'litert', 'tflite-runtime' or 'tensorflow'" in (
        result.stderr
    )


def test_the_server_stops_at_start_up_on_a_bad_setting() -> None:
    result = run_module("lesion_api.serve", "--port", "1", env={"LOG_LEVEL": "LOUD"}, timeout=120)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "invalid settings" in result.stderr and "log_level" in result.stderr
    assert "Traceback" not in result.stderr


def test_limits_are_one_typed_object() -> None:
    settings = Settings(model_path=TINY_TFLITE, max_upload_bytes=10, max_image_pixels=20)
    assert settings.upload_limits == UploadLimits(10, 20, settings.max_decode_bytes)


def test_routes_take_the_model_and_settings_as_dependencies() -> None:
    app = create_app(Settings(model_path=TINY_TFLITE))
    client = TestClient(app)
    app.dependency_overrides[get_model] = lambda: ModelState(None, None, None, "swapped out")
    assert client.get("/health").json()["error"] == "swapped out"
    upload = {"file": ("x.jpg", SAMPLE_JPEG.read_bytes(), "image/jpeg")}
    response = client.post("/v1/segment", files=upload)
    assert response.status_code == 503 and "swapped out" in response.json()["detail"]
    app.dependency_overrides.clear()
    app.dependency_overrides[get_app_settings] = lambda: Settings(
        model_path=TINY_TFLITE, max_upload_bytes=100
    )
    assert client.get("/health").json()["limits"]["max_upload_bytes"] == 100
    assert client.post("/v1/segment", files=upload).status_code == 413
