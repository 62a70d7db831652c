"""Client errors as JSON {"detail": "..."}; request bodies capped before they are read."""

from __future__ import annotations

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.imaging import UploadError


def _describe(error: dict) -> str:
    location = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
    if error.get("type") == "missing" and location == "file":
        return "missing form field 'file': send the image as multipart/form-data in field 'file'"
    return f"{location or 'request'}: {error.get('msg', 'invalid')}"


def install_error_handlers(app: FastAPI) -> None:
    """Readable 4xx for validation errors and upload errors."""

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": "; ".join(_describe(e) for e in exc.errors())}, 422)

    @app.exception_handler(UploadError)
    async def upload_error(request: Request, exc: UploadError) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, exc.status_code)


class BodySizeLimit:
    """ASGI middleware: 413 for a request body over `max_bytes`, declared or streamed.

    A streamed body is cut off by raising HTTPException(413) from `receive`; FastAPI passes it
    through its body parsing, so the client gets the JSON error, and nothing more is read.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _error(self) -> HTTPException:
        return HTTPException(413, f"the request body is larger than {self.max_bytes:,} bytes")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            error = self._error()
            await JSONResponse({"detail": error.detail}, 413)(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise self._error()
            return message

        await self.app(scope, limited_receive, send)
