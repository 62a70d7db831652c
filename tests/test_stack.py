"""python -m devtools.stack (`make up`): the API, the on-device app's server when build/edge is
built (the UI then links to it), and the UI; without the site, API and UI still start."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools import stack
from servers import free_port

pytestmark = pytest.mark.slow


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        process.terminate()
        process.wait(timeout=10)


def environment(process: subprocess.Popen[bytes]) -> dict[str, str]:
    """A running process's environment, as Linux shows it."""
    entries = Path(f"/proc/{process.pid}/environ").read_bytes().decode().split("\0")
    return dict(entry.split("=", 1) for entry in entries if "=" in entry)


def test_make_up_serves_the_site_and_the_ui_links_to_it(processes, tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<!doctype html>")
    api, ui, edge = free_port(), free_port(), free_port()
    edge_url = stack.start(api, ui, edge, processes, tmp_path)
    assert edge_url == f"http://127.0.0.1:{edge}"
    assert [p.args[2] for p in processes] == [
        "lesion_api.serve",
        "devtools.edge_server",
        "streamlit",
    ]
    assert environment(processes[-1])["EDGE_URL"] == edge_url
    assert f"Edge: {edge_url}  (on-device" in stack.banner(api, ui, edge_url)


def test_make_up_without_the_site_still_starts_api_and_ui(
    processes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EDGE_URL", raising=False)
    api, ui = free_port(), free_port()
    assert stack.start(api, ui, free_port(), processes, tmp_path / "edge") is None
    assert [p.args[2] for p in processes] == ["lesion_api.serve", "streamlit"]
    assert all(p.poll() is None for p in processes)
    assert "EDGE_URL" not in environment(processes[-1])
    printed = stack.banner(api, ui, None)
    assert f"UI:   http://127.0.0.1:{ui}" in printed
    assert "build/edge has no index.html: run make edge" in printed
