"""Real servers on 127.0.0.1 for the UI and concurrency tests, started exactly as `make up`
starts them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from devtools import stack
from devtools.stack import ROOT, edge_command, free_port, running, ui_command

TINY_TFLITE = ROOT / "tests" / "fixtures" / "models" / "unet_tiny_int8.tflite"
__all__ = ["ROOT", "api_server", "edge_server", "free_port", "ui_server"]


@contextmanager
def api_server(model: Path = TINY_TFLITE, **settings: str) -> Iterator[str]:
    """The API on a free port, serving `model` with extra settings; yields its base URL."""
    with stack.api_server(model, **settings) as (url, _):
        yield url


@contextmanager
def ui_server(api_url: str) -> Iterator[str]:
    """The UI on a free port, pointed at api_url; yields its URL."""
    port = free_port()
    command, env = ui_command(port, api_url)
    url = f"http://127.0.0.1:{port}"
    with running(command, env, f"{url}/_stcore/health"):
        yield url


@contextmanager
def edge_server(site: Path) -> Iterator[int]:
    """The on-device app's static server on a free port, serving `site`; yields the port."""
    port = free_port()
    command, env = edge_command(port, site)
    with running(command, env, f"http://127.0.0.1:{port}/"):
        yield port
