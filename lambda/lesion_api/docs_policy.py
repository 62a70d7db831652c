"""A Content-Security-Policy on the API's documentation pages (/docs, /redoc): scripts, styles,
images and fetches from this origin only, so the pages load nothing from anywhere else (ReDoc's
bundle would fetch its footer logo from a CDN) and run no third-party script."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DOCS_PAGES = ("/docs", "/redoc", "/docs/oauth2-redirect")
# Swagger UI's and ReDoc's pages start them with inline scripts and style them inline; ReDoc
# renders in a blob: worker.
POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
    "frame-ancestors 'none'"
)


class DocsPolicy:
    """ASGI middleware: POLICY on the answers to DOCS_PAGES (under any root path)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.endswith(DOCS_PAGES):
            await self.app(scope, receive, send)
            return

        async def with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["Content-Security-Policy"] = POLICY
            await send(message)

        await self.app(scope, receive, with_policy)
