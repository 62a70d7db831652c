"""S3 notifications for the batch function, built on the sample `sam local generate-event s3 put`
wrote (tests/fixtures/events/s3_put.json), alone or in the SQS batch that carries them (on the
sample of `sam local generate-event sqs receive-message`)."""

from __future__ import annotations

import copy
import json
import urllib.parse
import uuid
from pathlib import Path

EVENTS = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "events"
_S3_PUT = json.loads((EVENTS / "s3_put.json").read_text())
_SQS = json.loads((EVENTS / "sqs_receive_message.json").read_text())


def s3_put(bucket: str, key: str, size: int, etag: str = "") -> dict:
    """The notification S3 sends for one object created (its key URL-encoded, as S3 does)."""
    event = copy.deepcopy(_S3_PUT)
    (record,) = event["Records"]
    record["s3"]["bucket"]["name"] = bucket
    record["s3"]["bucket"]["arn"] = f"arn:aws:s3:::{bucket}"
    record["s3"]["object"].update(key=urllib.parse.quote_plus(key, safe="/"), size=size, eTag=etag)
    return event


def sqs_batch(*bodies: dict | str) -> dict:
    """An SQS batch whose messages carry these bodies (S3 notifications, or raw text)."""
    (template,) = _SQS["Records"]
    records = []
    for body in bodies:
        record = copy.deepcopy(template)
        record["messageId"] = str(uuid.uuid4())
        record["body"] = body if isinstance(body, str) else json.dumps(body)
        records.append(record)
    return {"Records": records}
