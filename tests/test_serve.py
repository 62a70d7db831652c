"""python -m lesion_api.serve (docker compose, `make up`): a client that sends its request
headers too slowly is disconnected; one that sends them in time is served, also on a kept-alive
connection."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

from servers import api_server

TIMEOUT_S = 1.0


def _connect(url: str) -> socket.socket:
    parts = urlsplit(url)
    return socket.create_connection((parts.hostname, parts.port), timeout=10)


def _closed_after(sock: socket.socket, trickle: bytes, limit_s: float) -> float | None:
    """Send `trickle` a byte every 0.2 s; seconds until the server closed the connection, or
    None if it was still open after `limit_s`."""
    start = time.monotonic()
    for byte in trickle:
        if time.monotonic() - start > limit_s:
            return None
        try:
            sock.sendall(bytes([byte]))
        except (BrokenPipeError, ConnectionResetError):
            return time.monotonic() - start
        sock.settimeout(0.2)
        try:
            if sock.recv(4096) == b"":
                return time.monotonic() - start
        except TimeoutError:
            continue
        except ConnectionResetError:
            return time.monotonic() - start
    return None


def test_slow_headers_are_cut_off_and_timely_ones_served() -> None:
    slow = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200
    with api_server(HEADER_TIMEOUT_S=str(TIMEOUT_S)) as url:
        with _connect(url) as sock:
            closed = _closed_after(sock, slow, limit_s=10 * TIMEOUT_S)
        assert closed is not None, "a trickle of header bytes kept the connection open"
        assert TIMEOUT_S * 0.9 <= closed <= TIMEOUT_S + 2

        with _connect(url) as sock:  # in time: answered, and the next request gets a deadline
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert sock.recv(4096).startswith(b"HTTP/1.1 200")
            closed = _closed_after(sock, slow, limit_s=10 * TIMEOUT_S)
        assert closed is not None, "a kept-alive connection's next request had no deadline"
