"""The API as a plain HTTP server (docker compose, `make up`): uvicorn with a deadline for every
request's headers.

    python -m lesion_api.serve [--host 127.0.0.1] [--port 8000] [--no-access-log]

uvicorn waits for a request's headers without limit (its keep-alive timer restarts on every byte
and the body timeout starts after them), so a client that sends them a byte at a time holds a
connection forever. Here a connection whose request line and headers are not complete within
HEADER_TIMEOUT_S of connecting, or of its previous response, is closed. Behind API Gateway (the
Lambda) none of this runs: API Gateway reads the request.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

import h11
import uvicorn
from pydantic import ValidationError
from uvicorn.protocols.http.h11_impl import H11Protocol

from lesion_api.settings import get_settings


class HeaderDeadlineProtocol(H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose request headers come too slowly."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout_s = get_settings().header_timeout_s
        self._header_deadline: asyncio.TimerHandle | None = None

    def _arm(self) -> None:
        self._disarm()
        self._header_deadline = self.loop.call_later(self.header_timeout_s, self._too_slow)

    def _disarm(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _too_slow(self) -> None:
        self._header_deadline = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def handle_events(self) -> None:
        super().handle_events()
        if self.conn.their_state is not h11.IDLE:  # a whole request line and headers arrived
            self._disarm()

    def on_response_complete(self) -> None:
        self._arm()  # the next request on this connection has the same deadline
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lesion_api.serve", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--no-access-log", action="store_true", help="no line per request")
    args = parser.parse_args(argv)
    try:
        get_settings()
    except ValidationError as error:
        print(f"python -m lesion_api.serve: invalid settings: {error}", file=sys.stderr)
        return 2
    uvicorn.run(
        "lesion_api.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        http=HeaderDeadlineProtocol,
        access_log=not args.no_access_log,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
