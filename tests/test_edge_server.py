"""python -m devtools.edge_server (make up, the compose service `edge`) against a small site: every
answer carries every header of edge/headers.json, files get their listed type and cache policy,
and nothing outside the site is served, however the path is spelled (raw requests, unnormalised)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from cli_support import run_module
from servers import ROOT, edge_server, free_port

SPEC = json.loads((ROOT / "edge" / "headers.json").read_text())
VENDOR_CACHE = SPEC["cache_control"]["vendor/"]
DEFAULT_CACHE = SPEC["cache_control"]["*"]
FILES = {
    "index.html": b"<!doctype html><title>edge</title>",
    "app.css": b"body { margin: 0 }",
    "js/main.js": b"export const main = 1;",
    "manifest.webmanifest": b'{"name": "edge"}',
    "pipeline.json": b'{"input_size": 64}',
    "model/unet.tflite": b"TFL3\x00\x01\x02",
    "vendor/litertjs-2.5.3/litert_wasm_internal.wasm": b"\x00asm\x01\x00\x00\x00",
    "vendor/litertjs-2.5.3/litert_wasm_internal.js": b"var Module = {};",
    "notes.txt": b"a suffix headers.json does not list",
}
SECRET = b"not part of the site"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, with a file beside it (outside) that a traversal would reach, a symlink out to
    it and one that stays inside."""
    base = tmp_path_factory.mktemp("edge")
    (base / "secret.js").write_bytes(SECRET)
    root = base / "site"
    for name, data in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    (root / "js" / "outside.js").symlink_to(base / "secret.js")
    (root / "js" / "inside.js").symlink_to(root / "js" / "main.js")
    return root


@pytest.fixture(scope="module")
def port(site: Path):
    with edge_server(site) as port:
        yield port


def request(
    port: int, target: str, method: str = "GET", body: bytes = b""
) -> tuple[int, dict, bytes]:
    """One request as written (no client normalises the target); (status, headers, body)."""
    head = f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    length = f"Content-Length: {len(body)}\r\n" if body else ""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(f"{head}{length}\r\n".encode("latin-1") + body)
        reply = b""
        while chunk := connection.recv(65536):
            reply += chunk
    status_and_headers, _, content = reply.partition(b"\r\n\r\n")
    lines = status_and_headers.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, content


def assert_site_headers(headers: dict) -> None:
    for name, value in SPEC["headers"].items():
        assert headers.get(name) == value, name


@pytest.mark.parametrize(
    ("target", "name"),
    [("/", "index.html"), ("/js/main.js?v=2", "js/main.js"), ("/js/inside.js", "js/main.js")]
    + [(f"/{name}", name) for name in FILES if not name.endswith(".txt")],
)
def test_a_file_comes_with_its_type_its_cache_policy_and_every_header(
    port: int, target: str, name: str
) -> None:
    status, headers, body = request(port, target)
    assert (status, body) == (200, FILES[name])
    assert_site_headers(headers)
    assert headers["Content-Type"] == SPEC["content_types"]["." + name.rsplit(".", 1)[1]]
    assert headers["Content-Length"] == str(len(FILES[name]))
    vendored = target.startswith("/vendor/")
    assert headers["Cache-Control"] == (VENDOR_CACHE if vendored else DEFAULT_CACHE)


def test_the_wasm_is_served_as_wasm_and_cached_for_good(port: int) -> None:
    _, headers, _ = request(port, "/vendor/litertjs-2.5.3/litert_wasm_internal.wasm")
    assert headers["Content-Type"] == "application/wasm"
    assert "immutable" in headers["Cache-Control"] and VENDOR_CACHE != DEFAULT_CACHE
    assert headers["Cross-Origin-Embedder-Policy"] == "require-corp"


@pytest.mark.parametrize(
    "target", ["/missing.js", "/notes.txt", "/js/", "/js", "/vendor/", "/vendor/missing.wasm"]
)
def test_a_miss_is_a_404_with_every_header(port: int, target: str) -> None:
    status, headers, body = request(port, target)
    assert (status, body) == (404, b"404 Not Found\n")
    assert_site_headers(headers)
    assert headers["Cache-Control"] == DEFAULT_CACHE  # a 404 under vendor/ is not kept for good


@pytest.mark.parametrize(
    "target",
    [
        "/../secret.js",
        "/js/../../secret.js",
        "/%2e%2e/secret.js",
        "/%2E%2E/secret.js",
        "/js/%2e%2e/%2e%2e/secret.js",
        "/..%2fsecret.js",
        "/js%2f..%2f..%2fsecret.js",
        "/..\\secret.js",
        "/js\\..\\..\\secret.js",
        "/%5c..%5csecret.js",
        "/%2F{secret}",  # an absolute path once decoded
        "//{secret}",  # an empty first segment
        "http://127.0.0.1/{secret}",  # the absolute form
        "/js/outside.js",  # a symlink out of the site
        "/" + "a" * 300 + ".js",  # a name too long for the file system
        "/%00index.html",
    ],
)
def test_nothing_outside_the_site_is_served(port: int, site: Path, target: str) -> None:
    """{secret} is the outside file's absolute path without its leading slash."""
    target = target.replace("{secret}", str(site.parent / "secret.js").lstrip("/"))
    status, headers, body = request(port, target)
    assert status == 404, target
    assert SECRET not in body
    assert_site_headers(headers)


def test_head_is_get_without_the_body(port: int) -> None:
    status, headers, body = request(port, "/model/unet.tflite", "HEAD")
    assert (status, body) == (200, b"")
    assert headers["Content-Length"] == str(len(FILES["model/unet.tflite"]))
    assert headers["Content-Type"] == SPEC["content_types"][".tflite"]
    assert_site_headers(headers)
    status, headers, body = request(port, "/missing.js", "HEAD")
    assert (status, body) == (404, b"")
    assert_site_headers(headers)


@pytest.mark.parametrize(("method", "status"), [("POST", 405), ("PUT", 405), ("OPTIONS", 405)])
def test_only_get_and_head(port: int, method: str, status: int) -> None:
    answer, headers, _ = request(port, "/index.html", method, body=b"image bytes")
    assert answer == status
    assert headers["Allow"] == "GET, HEAD"
    assert_site_headers(headers)


def test_an_unknown_method_is_refused_with_every_header(port: int) -> None:
    status, headers, _ = request(port, "/", "BREW")
    assert status == 501
    assert_site_headers(headers)


def test_a_site_without_index_html_is_refused_at_start_up(tmp_path: Path) -> None:
    (tmp_path / "app.css").write_bytes(FILES["app.css"])
    args = ["--root", str(tmp_path), "--port", str(free_port())]
    result = run_module("devtools.edge_server", *args, timeout=30)
    assert result.returncode == 1
    assert f"{tmp_path} has no index.html: run make edge first" in result.stderr
