"""Structured logs and EMF metrics (issue 31): through the Lambda handler with real API Gateway
event shapes and through the batch function, every log line is one JSON object carrying the
invocation's ids, no line carries an image's name, content or EXIF, and every metric document is
valid EMF with the right counts."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from PIL import Image

from api_support import BATCH_BUCKET, SAMPLE_JPEG, TINY_TFLITE
from devtools.events import event, multipart, s3_put, sqs_batch
from lesion_api import logs
from lesion_api.batch import create_batch, key_id
from lesion_api.handler import SafeMangum
from lesion_api.logs import JsonFormatter
from lesion_api.main import create_app
from lesion_api.metrics import NAMESPACE, Metrics, emf_document
from lesion_api.settings import Settings

SCHEMA = json.loads((Path(__file__).parent / "fixtures" / "emf" / "schema.json").read_text())
SECRETS = ("jane-doe-mrn-12345", "EXIF-SECRET-42")


@dataclass
class Context:
    """What the handler reads of Lambda's context object."""

    aws_request_id: str


class Lines(logging.Handler):
    """The JSON lines the formatter writes, parsed."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.lines: list[dict[str, Any]] = []
        self.lock_ = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        text = self.format(record)
        with self.lock_:
            self.lines.append(json.loads(text))


@pytest.fixture
def lines() -> Iterator[Lines]:
    handler = Lines()
    root = logging.getLogger()
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)


@pytest.fixture(scope="module")
def handler() -> SafeMangum:
    app = create_app(Settings(model_path=TINY_TFLITE, metrics=True))
    return SafeMangum(app, app.state.serving.metrics)


def emf_documents(text: str) -> list[dict[str, Any]]:
    """The EMF documents among stdout's lines, each checked against the schema and the rule
    that every referenced member is on the root node."""
    documents = [json.loads(line) for line in text.splitlines() if line.startswith('{"_aws"')]
    for document in documents:
        jsonschema.validate(document, SCHEMA)
        for directive in document["_aws"]["CloudWatchMetrics"]:
            assert directive["Namespace"] == NAMESPACE
            for name in [d for dims in directive["Dimensions"] for d in dims]:
                assert isinstance(document[name], str), name
            for metric in directive["Metrics"]:
                assert isinstance(document[metric["Name"]], int | float), metric
    return documents


def secret_jpeg() -> bytes:
    """The sample with an EXIF description nobody should ever see in a log."""
    exif = Image.Exif()
    exif[0x010E] = SECRETS[1]  # ImageDescription
    buffer = io.BytesIO()
    with Image.open(SAMPLE_JPEG) as image:
        image.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def upload(data: bytes, filename: str, request_id: str = "api-gw-1") -> dict[str, Any]:
    content_type, body = multipart(data, filename)
    ev = event("v1", "POST", "/v1/segment", body, {"content-type": content_type})
    ev["requestContext"]["requestId"] = request_id
    return ev


def test_a_segmentation_logs_json_lines_with_the_ids(
    handler: SafeMangum, lines: Lines, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    monkeypatch.setattr(logs, "_started", False)
    first = handler(upload(secret_jpeg(), f"{SECRETS[0]}.jpg", "api-gw-1"), Context("lambda-1"))
    second = handler(upload(secret_jpeg(), "x.jpg", "api-gw-2"), Context("lambda-2"))
    assert first["statusCode"] == second["statusCode"] == 200
    by_request = {
        line["request_id"]: line for line in lines.lines if line["message"] == "segmented"
    }
    assert by_request["lambda-1"]["correlation_id"] == "api-gw-1"
    assert by_request["lambda-1"]["cold_start"] is True
    assert by_request["lambda-2"]["cold_start"] is False
    segmented = by_request["lambda-2"]
    assert (segmented["status"], segmented["width"], segmented["height"]) == (200, 1022, 767)
    assert segmented["total_ms"] > 0 and len(segmented["model_sha256"]) == 64
    answered = [line for line in lines.lines if line["message"] == "answered"]
    assert [(a["request_id"], a["status"]) for a in answered] == [
        ("lambda-1", 200),
        ("lambda-2", 200),
    ]
    out = capsys.readouterr().out
    everything = out + json.dumps(lines.lines)
    assert not any(secret in everything for secret in SECRETS), "an upload's name or EXIF leaked"
    documents = emf_documents(out)
    cold = [d for d in documents if "ColdStarts" in d]
    assert len(cold) == 1 and cold[0]["Function"] == "api"
    done = [d for d in documents if "Segmentations" in d]
    assert len(done) == 2 and all(d["TotalLatency"] > 0 for d in done)
    assert done[0]["ImageMegapixels"] == pytest.approx(1022 * 767 / 1e6)


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        (b"not an image at all", {}, 415),
        (b"", {"content-length": str(50 * 2**20)}, 413),  # refused before the body is read
    ],
)
def test_a_refusal_is_counted_by_status_code(
    handler: SafeMangum,
    lines: Lines,
    capsys: pytest.CaptureFixture[str],
    body: bytes,
    headers: dict[str, str],
    status: int,
) -> None:
    if body:
        ev = upload(body, f"{SECRETS[0]}.txt")
    else:
        ev = event("v1", "POST", "/v1/segment", b"", headers)
    response = handler(ev, Context("lambda-r"))
    assert response["statusCode"] == status
    refusals = [d for d in emf_documents(capsys.readouterr().out) if "Refusals" in d]
    assert [(d["Refusals"], d["StatusCode"], d["Function"]) for d in refusals] == [
        (1, str(status), "api")
    ]
    refused = [line for line in lines.lines if line["message"] in ("refused", "answered")]
    assert all(line["status"] == status for line in refused)
    assert all(SECRETS[0] not in json.dumps(line) for line in lines.lines)


def test_concurrent_invocations_keep_their_own_ids(handler: SafeMangum, lines: Lines) -> None:
    data = SAMPLE_JPEG.read_bytes()

    def invoke(n: int) -> None:
        loop = asyncio.new_event_loop()  # Mangum runs the app on this thread's loop
        asyncio.set_event_loop(loop)
        try:
            ev, context = upload(data, "x.jpg", f"api-gw-{n}"), Context(f"lambda-{n}")
            assert handler(ev, context)["statusCode"] == 200
        finally:
            loop.close()

    threads = [threading.Thread(target=invoke, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    segmented = [line for line in lines.lines if line["message"] == "segmented"]
    assert sorted(line["request_id"] for line in segmented) == [f"lambda-{n}" for n in range(6)]
    for line in segmented:
        assert line["correlation_id"] == line["request_id"].replace("lambda", "api-gw")


def test_outside_lambda_each_request_gets_a_correlation_id(lines: Lines) -> None:
    from fastapi.testclient import TestClient

    client = TestClient(create_app(Settings(model_path=TINY_TFLITE)))
    assert client.get("/health").status_code == 200
    assert client.get("/health").status_code == 200
    answered = [line for line in lines.lines if line["message"] == "answered"]
    ids = {line["correlation_id"] for line in answered}
    assert len(answered) == 2 and len(ids) == 2 and all(len(i) == 32 for i in ids)


def test_metrics_are_off_unless_asked(capsys: pytest.CaptureFixture[str]) -> None:
    Metrics("api", enabled=False).emit({"Segmentations": (1, "Count")})
    assert capsys.readouterr().out == ""
    Metrics("api", enabled=True).emit({"Segmentations": (1, "Count")})
    (document,) = emf_documents(capsys.readouterr().out)
    assert document["Segmentations"] == 1


def test_emf_document_shape() -> None:
    document = emf_document("batch", {"BatchErrors": (2, "Count")}, {"StatusCode": "413"}, 5)
    assert document == {
        "_aws": {
            "Timestamp": 5,
            "CloudWatchMetrics": [
                {
                    "Namespace": NAMESPACE,
                    "Dimensions": [["Function", "StatusCode"]],
                    "Metrics": [{"Name": "BatchErrors", "Unit": "Count"}],
                }
            ],
        },
        "Function": "batch",
        "StatusCode": "413",
        "BatchErrors": 2,
    }
    jsonschema.validate(document, SCHEMA)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**document, "_aws": {"CloudWatchMetrics": []}}, SCHEMA)


def test_the_batch_function_counts_objects_and_names_no_key(
    batch_s3, lines: Lines, capsys: pytest.CaptureFixture[str]
) -> None:
    batch = create_batch(Settings(model_path=TINY_TFLITE, metrics=True), s3=batch_s3)
    good, bad = f"incoming/{SECRETS[0]}.jpg", f"incoming/{SECRETS[0]}-2.png"
    batch_s3.put_object(Bucket=BATCH_BUCKET, Key=good, Body=secret_jpeg())
    batch_s3.put_object(Bucket=BATCH_BUCKET, Key=bad, Body=b"not an image")
    answer = batch.handle(sqs_batch(s3_put(BATCH_BUCKET, good, 10), s3_put(BATCH_BUCKET, bad, 12)))
    assert answer == {"batchItemFailures": []}
    (document,) = [d for d in emf_documents(capsys.readouterr().out) if "BatchObjects" in d]
    assert (document["BatchObjects"], document["BatchErrors"], document["Function"]) == (
        1,
        1,
        "batch",
    )
    by_message = {line["message"]: line for line in lines.lines}
    assert document["NeedsReview"] == int(by_message["segmented"]["needs_review"])
    assert by_message["segmented"]["key_id"] == key_id(good)
    assert by_message["refused"]["key_id"] == key_id(bad)
    assert by_message["refused"]["status"] == 415
    assert not any(secret in json.dumps(lines.lines) for secret in SECRETS)
