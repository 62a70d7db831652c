"""The batch entry point: `lesion_api.batch.handler`, for images dropped in S3 under incoming/.

S3 tells an SQS queue about every object created under incoming/; the function reads the queue a
batch of messages at a time (or takes S3 events directly) and writes, for incoming/NAME,
results/NAME.mask.png and results/NAME.json (the API's measurements, confidence, model and
timings, with the source object's ETag), or results/NAME.error.json with the reason when the
object is not an image it can segment, is over the size limit (its own length, not the event's,
decides; no more than the limit is read) or was deleted before it was read. A key too long for
results/NAME.error.json within S3's 1,024 bytes gets a shortened, hashed name
(`batch_layout.result_stem`). An error result is an answer, not a failure, so it is never
retried. Only an unexpected error (S3 unreachable, say) fails that message: SQS delivers it
again and, after its receive limit, moves it to the dead-letter queue. Running a key again writes
the same mask and measurements again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from lesion_api.allocator import fix_mmap_threshold
from lesion_api.batch_layout import INCOMING, result_key
from lesion_api.imaging import UploadError
from lesion_api.logs import configure_logging, fields, invocation
from lesion_api.memory_budget import MemoryBudget
from lesion_api.metrics import Metrics
from lesion_api.model import ModelState, load_model
from lesion_api.segmentation import segment_upload
from lesion_api.settings import Settings, get_settings

log = logging.getLogger(__name__)


def key_id(key: str) -> str:
    """What log lines name an object by: 16 hex digits of its key's sha256 (a key is a file
    name, which no log line may carry)."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class S3Object:
    """One object an event names."""

    bucket: str
    key: str
    size: int | None
    etag: str | None


def s3_objects(s3_event: dict[str, Any]) -> Iterator[S3Object]:
    """The objects of an S3 notification (keys come URL-encoded, spaces as '+')."""
    for record in s3_event.get("Records", []):
        if not str(record.get("eventName", "")).startswith("ObjectCreated"):
            continue
        s3 = record["s3"]
        yield S3Object(
            bucket=s3["bucket"]["name"],
            key=urllib.parse.unquote_plus(s3["object"]["key"]),
            size=s3["object"].get("size"),
            etag=str(s3["object"].get("eTag", "")).strip('"') or None,
        )


class Batch:
    """The model, settings and S3 client of this container, and what one object takes."""

    def __init__(
        self, settings: Settings, state: ModelState, s3: Any, metrics: Metrics | None = None
    ) -> None:
        self.limits = dataclasses.replace(
            settings.upload_limits, max_upload_bytes=settings.batch_max_object_bytes
        )
        self.state = state
        self.budget = MemoryBudget(settings.memory_budget_bytes)
        self.s3 = s3
        self.metrics = metrics or Metrics("batch", enabled=False)

    def put_json(self, bucket: str, key: str, document: dict[str, Any]) -> None:
        body = json.dumps(document, indent=1).encode()
        self.s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")

    def error(self, obj: S3Object, status: int, reason: str) -> str:
        log.warning("refused", extra=fields(status=status, reason=reason, key_id=key_id(obj.key)))
        source = {"bucket": obj.bucket, "key": obj.key, "etag": obj.etag}
        document = {"source": source, "status": status, "error": reason}
        self.put_json(obj.bucket, result_key(obj.key, ".error.json"), document)
        return "error"

    def process(self, obj: S3Object) -> str:
        """Segment one object into its results; 'ok', 'review' (segmented, and the mask needs
        review), 'error' (an error result) or 'skipped'."""
        if not obj.key.startswith(INCOMING) or obj.key.endswith("/"):
            log.info(
                f"not an image under {INCOMING}: skipped", extra=fields(key_id=key_id(obj.key))
            )
            return "skipped"
        if self.state.predictor is None:
            raise RuntimeError(f"the model is not loaded: {self.state.error}")
        limit = self.limits.max_upload_bytes
        if obj.size is not None and obj.size > limit:
            return self.error(obj, 413, f"object is {obj.size} bytes; the limit is {limit}")
        try:
            got = self.s3.get_object(Bucket=obj.bucket, Key=obj.key)
        except self.s3.exceptions.NoSuchKey:
            return self.error(obj, 404, "the object was deleted before it could be read")
        # The event's size may be stale (the key written again since): the object's own length
        # decides, and no more than the limit is ever read.
        size = int(got.get("ContentLength", 0))
        if size > limit:
            got["Body"].close()
            return self.error(obj, 413, f"object is {size} bytes; the limit is {limit}")
        data = got["Body"].read(limit + 1)
        got["Body"].close()
        if len(data) > limit:
            return self.error(obj, 413, f"object is over the limit of {limit} bytes")
        obj = S3Object(obj.bucket, obj.key, len(data), got.get("ETag", "").strip('"') or obj.etag)
        try:
            segmented = segment_upload(data, self.state, self.limits, self.budget, False, None)
        except UploadError as error:
            return self.error(obj, error.status_code, error.detail)
        result = segmented.result.report()
        mask_key = result_key(obj.key, ".mask.png")
        self.s3.put_object(
            Bucket=obj.bucket, Key=mask_key, Body=segmented.mask_png, ContentType="image/png"
        )
        source = {"bucket": obj.bucket, "key": obj.key, "etag": obj.etag, "bytes": obj.size}
        document = {"source": source, "mask_key": mask_key, **result}
        self.put_json(obj.bucket, result_key(obj.key, ".json"), document)
        timings = segmented.result.timings_ms
        log.info(
            "segmented",
            extra=fields(
                status=200,
                key_id=key_id(obj.key),
                bytes=obj.size,
                total_ms=timings.total_ms,
                needs_review=segmented.result.quality.needs_review,
            ),
        )
        return "review" if segmented.result.quality.needs_review else "ok"

    def handle(self, event: dict[str, Any]) -> dict[str, Any]:
        """An SQS batch (answered with the messages that failed) or a direct S3 event."""
        records = event.get("Records", [])
        outcomes: list[str] = []
        if records and records[0].get("eventSource") == "aws:sqs":
            failures = []
            for message in records:
                message_id = message.get("messageId")
                if not message_id:
                    # Nothing to name it by: it cannot be retried on its own, so it is dropped.
                    log.error("an SQS record without a messageId: dropped")
                    continue
                try:
                    for obj in s3_objects(json.loads(message["body"])):
                        outcomes.append(self.process(obj))
                except Exception:
                    log.exception(
                        "message failed; SQS will retry it", extra=fields(message_id=message_id)
                    )
                    failures.append({"itemIdentifier": message_id})
            self.count(outcomes, len(failures))
            return {"batchItemFailures": failures}
        outcomes = [self.process(obj) for obj in s3_objects(event)]
        self.count(outcomes, 0)
        return {
            "processed": len(outcomes),
            "errors": outcomes.count("error"),
            "needs_review": outcomes.count("review"),
        }

    def count(self, outcomes: list[str], failed_messages: int) -> None:
        """BatchObjects (segmented), NeedsReview (of those) and BatchErrors (error results and
        failed messages)."""
        errors = outcomes.count("error") + failed_messages
        review = outcomes.count("review")
        self.metrics.emit(
            {
                "BatchObjects": (outcomes.count("ok") + review, "Count"),
                "NeedsReview": (review, "Count"),
                "BatchErrors": (errors, "Count"),
            }
        )


def create_batch(settings: Settings | None = None, s3: Any = None) -> Batch:
    """Load the model (once per container) and make the S3 client."""
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    if settings.mmap_threshold_bytes:
        fix_mmap_threshold(settings.mmap_threshold_bytes)
    if s3 is None:
        import boto3

        s3 = boto3.client("s3")
    return Batch(settings, load_model(settings), s3, Metrics("batch", settings.metrics))


_batch = create_batch()


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    with invocation(getattr(context, "aws_request_id", None), None) as current:
        if current.cold_start:
            _batch.metrics.emit({"ColdStarts": (1, "Count")})
        return _batch.handle(event)
