"""The on-device web app (build/edge, from `make edge`) as a static site, with exactly the response
headers of edge/headers.json: `make up` and the compose service `edge` serve it this way.

    python -m devtools.edge_server [--root build/edge] [--host 127.0.0.1] [--port 8502]

GET and HEAD only; no directory listings ("/" is index.html); a path that leaves the root (`..`,
encoded or not, backslashes, empty segments, symlinks out) or names a suffix headers.json gives
no Content-Type for is a 404. Every answer, errors included, carries every header of "headers".
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
from functools import partial
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from infra import edge_headers

SITE = Path(__file__).resolve().parent.parent / "build" / "edge"


class SiteHandler(BaseHTTPRequestHandler):
    """Answers GET and HEAD with the files under `root`, with edge/headers.json's headers."""

    protocol_version = "HTTP/1.1"

    def __init__(self, *args: Any, root: Path, **kwargs: Any) -> None:
        self.root = root
        super().__init__(*args, **kwargs)  # handles the request

    def do_GET(self) -> None:
        self._serve(body=True)

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def do_POST(self) -> None:
        self._refuse(HTTPStatus.METHOD_NOT_ALLOWED, Allow="GET, HEAD")

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_POST

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Errors of http.server itself (a bad request line, an unknown method) get the site's
        headers too."""
        self._refuse(HTTPStatus(code))

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """No access log (as the API under `make up`); errors still go to stderr."""

    def _file(self) -> tuple[Path, str, str] | None:
        """The file a request names, its Content-Type and its Cache-Control; None for a 404."""
        target = urlsplit(self.path)
        if target.scheme or target.netloc or not target.path.startswith("/"):
            return None
        path = unquote(target.path[1:]) or "index.html"
        if "\\" in path or "\0" in path or any(s in ("", ".", "..") for s in path.split("/")):
            return None
        content_type = edge_headers.content_type(path)
        try:
            file = (self.root / path).resolve(strict=True)
        except (OSError, RuntimeError):  # missing, a name too long, a symlink loop
            return None
        if content_type is None or not file.is_relative_to(self.root) or not file.is_file():
            return None
        return file, content_type, edge_headers.cache_control(path)

    def _serve(self, body: bool) -> None:
        found = self._file()
        if found is None:
            self._refuse(HTTPStatus.NOT_FOUND)
            return
        file, content_type, cache = found
        self._head(HTTPStatus.OK, content_type, file.stat().st_size, cache)
        if body:
            with file.open("rb") as source:
                shutil.copyfileobj(source, self.wfile)

    def _refuse(self, status: HTTPStatus, **extra: str) -> None:
        """A short text answer, with the default ("*") Cache-Control; the connection closes (a
        request body may be left unread)."""
        text = f"{status.value} {status.phrase}\n".encode()
        self.close_connection = True
        extra["Connection"] = "close"
        self._head(
            status, "text/plain; charset=utf-8", len(text), edge_headers.cache_control(""), extra
        )
        if self.command != "HEAD":
            self.wfile.write(text)

    def _head(
        self,
        status: HTTPStatus,
        content_type: str,
        length: int,
        cache: str,
        extra: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        for name, value in {**edge_headers.headers(), **(extra or {})}.items():
            self.send_header(name, value)
        self.send_header("Cache-Control", cache)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(length))
        self.end_headers()


def serve(root: Path, host: str, port: int) -> ThreadingHTTPServer:
    """A server for the site in `root` (not yet serving); refuses a root without index.html."""
    root = root.resolve()
    if not (root / "index.html").is_file():
        raise FileNotFoundError(f"{root} has no index.html: run make edge first")
    handler = partial(SiteHandler, root=root)
    return ThreadingHTTPServer((host, port), handler)


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.edge_server", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--root", type=Path, default=SITE, help="the built site (build/edge)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8502)
    args = parser.parse_args()
    try:
        server = serve(args.root, args.host, args.port)
    except FileNotFoundError as error:
        print(f"edge_server: {error}", file=sys.stderr)
        return 1
    with server, contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
