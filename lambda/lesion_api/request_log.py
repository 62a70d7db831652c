"""ASGI middleware, outermost: every request gets a correlation id (API Gateway's, set by the
Lambda handler, or a new one), one JSON log line when it is answered (method, route, status,
milliseconds; never the body or the query), and refusals (4xx, whichever layer answered) are
counted by status code."""

from __future__ import annotations

import logging
import os
import time
from contextlib import nullcontext

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lesion_api.logs import CURRENT, fields, invocation
from lesion_api.metrics import Metrics

log = logging.getLogger(__name__)


class RequestLog:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # what the client gets if the app fails before it answers
        start = time.perf_counter()

        async def recorded_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        outside_lambda = CURRENT.get() is None
        with invocation(None, os.urandom(16).hex()) if outside_lambda else nullcontext():
            try:
                await self.app(scope, receive, recorded_send)
            finally:
                elapsed_ms = (time.perf_counter() - start) * 1000
                log.info(
                    "answered",
                    extra=fields(
                        method=scope["method"],
                        path=scope["path"],
                        status=status,
                        duration_ms=round(elapsed_ms, 2),
                    ),
                )
                if 400 <= status < 500:
                    self.metrics.emit({"Refusals": (1, "Count")}, {"StatusCode": str(status)})
