"""Logging for the API and the batch function: one JSON object per line, never an image's
content, name or metadata.

Each line has the time, level, logger and message, the invocation's ids (`request_id`: the
Lambda request; `correlation_id`: API Gateway's request id, an SQS message id, or one made up
for a request outside Lambda), `cold_start`, the function's version, and the fields the record
was given (`log.info("segmented", extra=fields(status=200, ...))`). Standard library only: after
the app's own imports, Powertools' Logger and Metrics add 11 ms at INIT where these add 3 ms
(benchmarks/studies/logging_choice.py and .json), and INIT is what a cold start waits for.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class Invocation:
    """Who a log line belongs to."""

    request_id: str | None
    correlation_id: str | None
    cold_start: bool


CURRENT: ContextVar[Invocation | None] = ContextVar("invocation", default=None)
_started = False


def fields(**values: Any) -> dict[str, dict[str, Any]]:
    """A record's own fields, as `extra=` takes them."""
    return {"fields": values}


@contextmanager
def invocation(request_id: str | None, correlation_id: str | None) -> Iterator[Invocation]:
    """The ids every line logged inside carries; the first invocation of a process is the cold
    start."""
    global _started
    current = Invocation(request_id, correlation_id, cold_start=not _started)
    _started = True
    token = CURRENT.set(current)
    try:
        yield current
    finally:
        CURRENT.reset(token)


class JsonFormatter(logging.Formatter):
    """A record as one line of JSON."""

    def __init__(self) -> None:
        super().__init__()
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        current = CURRENT.get()
        if current is not None:
            document["request_id"] = current.request_id
            document["correlation_id"] = current.correlation_id
            document["cold_start"] = current.cold_start
        if self.function_version:
            document["function_version"] = self.function_version
        own = getattr(record, "fields", None)
        if isinstance(own, dict):
            document.update(own)
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        return json.dumps(document, default=str)


def configure_logging(level: str) -> None:
    """JSON lines on every root handler (the Lambda runtime's, or one to stderr), at `level`."""
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
    for handler in root.handlers:
        handler.setFormatter(JsonFormatter())
    root.setLevel(level)
