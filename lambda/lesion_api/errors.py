"""Errors as JSON {"detail": "..."}: client errors as readable 4xx, anything unexpected as a
JSON 500 that closes the connection; request bodies capped in size and time before they are
read."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import anyio
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lesion_api.imaging import UploadError
from lesion_api.logs import fields

log = logging.getLogger(__name__)
CLOSE = {"Connection": "close"}


def _describe(error: Mapping[str, Any]) -> str:
    location = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
    if error.get("type") == "missing" and location == "file":
        return "missing form field 'file': send the image as multipart/form-data in field 'file'"
    return f"{location or 'request'}: {error.get('msg', 'invalid')}"


def refused(status: int, reason: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """The JSON error, logged with its reason (our own words about the file, never its name or
    content; a validation error's message names the field, not the value)."""
    log.info("refused", extra=fields(status=status, reason=reason))
    return JSONResponse({"detail": reason}, status, headers=dict(headers) if headers else None)


def install_error_handlers(app: FastAPI) -> None:
    """Readable 4xx for validation and upload errors; a JSON 500 for anything else."""

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return refused(422, "; ".join(_describe(e) for e in exc.errors()))

    @app.exception_handler(UploadError)
    async def upload_error(request: Request, exc: UploadError) -> JSONResponse:
        return refused(exc.status_code, exc.detail)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return refused(exc.status_code, str(exc.detail), exc.headers)

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception) -> JSONResponse:
        # The traceback names no image content; the connection is closed after this answer.
        log.error("unexpected error in %s %s", request.method, request.url.path, exc_info=exc)
        return JSONResponse({"detail": "internal server error"}, 500, headers=CLOSE)


class RequestBodyGuard:
    """ASGI middleware: 413 for a body over `max_bytes` (declared or streamed), 408 for a body
    that has not fully arrived `timeout_s` seconds after the request started.

    The error is raised as an HTTPException from `receive`; FastAPI passes it through its body
    parsing, so the client gets the JSON error, and nothing more is read.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, timeout_s: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s

    def _too_large(self) -> HTTPException:
        return HTTPException(
            413, f"the request body is larger than {self.max_bytes:,} bytes", headers=CLOSE
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            error = self._too_large()
            await JSONResponse({"detail": error.detail}, 413, headers=CLOSE)(scope, receive, send)
            return
        deadline = anyio.current_time() + self.timeout_s
        received = 0
        body_done = False

        async def guarded_receive() -> Message:
            nonlocal received, body_done
            if body_done:  # after the body: only a disconnect is left to wait for
                return await receive()
            with anyio.move_on_after(deadline - anyio.current_time()) as scope_:
                message = await receive()
            if scope_.cancelled_caught:
                raise HTTPException(
                    408,
                    f"the request body did not arrive within {self.timeout_s:g} s",
                    headers=CLOSE,
                )
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise self._too_large()
            body_done = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        await self.app(scope, guarded_receive, send)
