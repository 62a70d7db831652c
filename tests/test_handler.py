"""The Mangum handler with API Gateway events from `sam local generate-event`, carrying a real
base64 multipart JPEG upload."""

from __future__ import annotations

import base64
import gc
import io
import json
import os
import subprocess
import sys

import pytest
from fastapi import FastAPI
from PIL import Image

from api_support import SAMPLE_JPEG, TINY_TFLITE
from devtools.events import EVENTS, event, multipart
from lesion_api.handler import SafeMangum
from lesion_api.main import create_app
from lesion_api.settings import Settings


@pytest.fixture(scope="module")
def handler():
    """The same Mangum set-up as lesion_api.handler, over the fixture model."""
    return SafeMangum(create_app(Settings(model_path=TINY_TFLITE)))


def test_the_entry_point_is_mangum_over_the_app() -> None:
    import lesion_api.handler

    assert isinstance(lesion_api.handler.handler, SafeMangum)
    assert isinstance(lesion_api.handler.handler.app, FastAPI)
    assert lesion_api.handler.handler.lifespan == "off"
    assert gc.isenabled(), "INIT pauses the garbage collector, then turns it back on"


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_health_through_the_handler(handler, version: str) -> None:
    response = handler(event(version, "GET", "/health"), None)
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["status"] == "ok"


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_png_reply_is_base64_with_its_content_type(handler, version: str) -> None:
    content_type, body = multipart(SAMPLE_JPEG.read_bytes())
    ev = event(
        version, "POST", "/v1/segment", body, {"content-type": content_type, "accept": "image/png"}
    )
    response = handler(ev, None)
    assert response["statusCode"] == 200, response["body"][:500]
    headers = {k.lower(): v for k, v in response["headers"].items()}
    assert headers["content-type"] == "image/png"
    assert response["isBase64Encoded"] is True
    mask = Image.open(io.BytesIO(base64.b64decode(response["body"])))
    assert mask.size == (1022, 767) and mask.mode == "1"


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_json_reply_with_query_parameters(handler, version: str) -> None:
    content_type, body = multipart(SAMPLE_JPEG.read_bytes())
    ev = event(
        version,
        "POST",
        "/v1/segment",
        body,
        {"content-type": content_type},
        "include_probability=true&pixel_spacing_mm=0.05",
    )
    response = handler(ev, None)
    assert response["statusCode"] == 200
    result = json.loads(response["body"])
    assert result["image"] == {"width": 1022, "height": 767}
    assert result["probability_png_base64"] and result["measurements"]["area_mm2"] is not None


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_bad_upload_through_the_handler_is_a_4xx(handler, version: str) -> None:
    content_type, body = multipart(b"not an image")
    response = handler(
        event(version, "POST", "/v1/segment", body, {"content-type": content_type}), None
    )
    assert response["statusCode"] == 415
    assert "JPEG or PNG" in json.loads(response["body"])["detail"]


def test_events_are_the_ones_sam_generates() -> None:
    for name in ("http_api_v2.json", "rest_api_v1.json"):
        ev = json.loads((EVENTS / name).read_text())
        assert ev["requestContext"]["accountId"] == "123456789012"  # sam's sample account


def _with(version: str, **changes) -> dict:
    ev = event(version, "GET", "/health")
    for key, value in changes.items():
        if value is ...:
            ev.pop(key, None)
        else:
            ev[key] = value
    return ev


MALFORMED = {
    "empty object": {},
    "list": [],
    "null": None,
    "string": "GET /health",
    "no requestContext v2": _with("v2", requestContext=...),
    "no requestContext v1": _with("v1", requestContext=...),
    "body not base64 v2": _with("v2", body="***not base64***", isBase64Encoded=True),
    "body not base64 v1": _with("v1", body="abcde", isBase64Encoded=True),
    "requestContext null": _with("v2", requestContext=None),
}


@pytest.mark.parametrize("name", MALFORMED)
def test_a_malformed_event_gets_a_400(handler, name: str) -> None:
    response = handler(MALFORMED[name], None)
    assert response["statusCode"] == 400
    assert "malformed Lambda event" in json.loads(response["body"])["detail"]


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_null_maps_are_read_as_empty(handler, version: str) -> None:
    ev = _with(version, headers=None, queryStringParameters=None)
    if version == "v1":
        ev["multiValueHeaders"] = ev["multiValueQueryStringParameters"] = None
    response = handler(ev, None)
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["status"] == "ok"


def test_docs_behind_a_rest_stage_link_under_the_stage(handler) -> None:
    """REST API stage URLs start with /prod: the docs page must load /prod/openapi.json."""
    response = handler(event("v1", "GET", "/docs"), None)
    assert response["statusCode"] == 200
    assert "'/prod/openapi.json'" in response["body"]
    spec = handler(event("v1", "GET", "/openapi.json"), None)
    assert json.loads(spec["body"])["servers"] == [{"url": "/prod"}]
    assert handler(event("v2", "GET", "/docs"), None)["body"].count("'/openapi.json'") == 1


COLD_IMPORT = """
import json
import lesion_api.handler as entry
from fastapi.openapi.models import OpenAPI
from pydantic import BaseModel
from lesion_api import schemas
from devtools.events import event

deferred = not OpenAPI.__pydantic_complete__
ours = [
    name for name, kind in vars(schemas).items()
    if isinstance(kind, type) and issubclass(kind, BaseModel)
    and kind.__module__ == schemas.__name__ and not kind.__pydantic_complete__
]
response = entry.handler(event("v2", "GET", "/openapi.json"), None)
print(json.dumps({
    "deferred": deferred, "ours_unbuilt": ours, "config": dict(BaseModel.model_config),
    "status": response["statusCode"], "document": json.loads(response["body"]),
}))
"""


def test_the_cold_handler_builds_the_openapi_models_on_first_use() -> None:
    """INIT leaves FastAPI's OpenAPI models unbuilt (lesion_api.openapi_models) and nothing
    else: the API's own schemas are built, pydantic's default is back, and the document the
    handler then serves is the one an eagerly imported FastAPI builds."""
    run = subprocess.run(
        [sys.executable, "-c", COLD_IMPORT],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "MODEL_PATH": str(TINY_TFLITE)},
    )
    cold = json.loads(run.stdout.strip().splitlines()[-1])
    assert cold["deferred"], "INIT built FastAPI's OpenAPI models"
    assert cold["ours_unbuilt"] == [], "the API's own schemas must be built at INIT"
    assert "defer_build" not in cold["config"]
    assert cold["status"] == 200
    assert cold["document"] == create_app(Settings(model_path=TINY_TFLITE)).openapi()
