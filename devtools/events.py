"""Lambda events built on the samples `sam local generate-event` wrote (event_samples/): API
Gateway proxy events carrying a real multipart upload, for the API handler; S3 notifications,
alone or in SQS batches, for the batch handler. Used by the tests and the benchmarks.
"""

from __future__ import annotations

import base64
import copy
import json
import urllib.parse
import uuid
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).resolve().parent / "event_samples"


def multipart(data: bytes, filename: str = "lesion.jpg") -> tuple[str, bytes]:
    """(content type, body) of a multipart/form-data upload with `data` in field 'file'."""
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"'
        "\r\nContent-Type: image/jpeg\r\n\r\n"
    )
    body = head.encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", body


def event(
    version: str,
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    query: str = "",
) -> dict[str, Any]:
    """An HTTP API (version "v2") or REST API ("v1") proxy event for `method path?query`."""
    name = "http_api_v2.json" if version == "v2" else "rest_api_v1.json"
    ev: dict[str, Any] = json.loads((EVENTS / name).read_text())
    headers = {"host": "id.execute-api.us-east-1.amazonaws.com", **(headers or {})}
    params = dict(p.split("=") for p in query.split("&")) if query else {}
    ev["body"] = base64.b64encode(body).decode() if body else None
    ev["isBase64Encoded"] = bool(body)
    ev["headers"] = headers
    if version == "v2":
        ev["rawPath"] = ev["requestContext"]["http"]["path"] = path
        ev["requestContext"]["http"]["method"] = method
        ev["rawQueryString"] = query
        ev["queryStringParameters"] = params
        ev.pop("cookies", None)
    else:
        ev["path"] = path
        ev["requestContext"]["path"] = f"/{ev['requestContext']['stage']}{path}"
        ev["httpMethod"] = ev["requestContext"]["httpMethod"] = method
        ev["multiValueHeaders"] = {k: [v] for k, v in headers.items()}
        ev["queryStringParameters"] = params or None
        ev["multiValueQueryStringParameters"] = {k: [v] for k, v in params.items()} or None
    return ev


_S3_PUT: dict[str, Any] = json.loads((EVENTS / "s3_put.json").read_text())
_SQS: dict[str, Any] = json.loads((EVENTS / "sqs_receive_message.json").read_text())


def s3_put(bucket: str, key: str, size: int, etag: str = "") -> dict[str, Any]:
    """The notification S3 sends for one object created (its key URL-encoded, as S3 does)."""
    event = copy.deepcopy(_S3_PUT)
    (record,) = event["Records"]
    record["s3"]["bucket"]["name"] = bucket
    record["s3"]["bucket"]["arn"] = f"arn:aws:s3:::{bucket}"
    record["s3"]["object"].update(key=urllib.parse.quote_plus(key, safe="/"), size=size, eTag=etag)
    return event


def sqs_batch(*bodies: dict[str, Any] | str) -> dict[str, Any]:
    """An SQS batch whose messages carry these bodies (S3 notifications, or raw text)."""
    (template,) = _SQS["Records"]
    records = []
    for body in bodies:
        record = copy.deepcopy(template)
        record["messageId"] = str(uuid.uuid4())
        record["body"] = body if isinstance(body, str) else json.dumps(body)
        records.append(record)
    return {"Records": records}
